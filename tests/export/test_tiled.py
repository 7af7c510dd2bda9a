"""Tiled: our .tsx and .tmx as ``pytiled-parser`` reads them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import pytiled_parser
from PIL import Image

from dgx_pixels.export import export, load_asset

from ..images import assert_image_equal
from .conftest import KINDS


@pytest.fixture(scope="module")
def exported(made_assets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiled-out") / "tiles"
    export([made_assets[k] for k in KINDS], to="tiled", out=out)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_the_tileset_reads_back(kind: str, exported: Path, made_assets: dict[str, Path]) -> None:
    asset = load_asset(made_assets[kind])
    tileset = pytiled_parser.parse_tileset(exported / f"{asset.name}.tsx")
    assert (tileset.tile_width, tileset.tile_height) == asset.cell
    assert tileset.columns == asset.columns
    assert tileset.tile_count == asset.columns * asset.rows
    assert (tileset.spacing, tileset.margin) == (asset.padding[0], asset.offset[0])
    assert tileset.image is not None
    assert tileset.image.name == f"{asset.name}.png"
    assert (tileset.image_width, tileset.image_height) == asset.sheet.size
    assert (exported / f"{asset.name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("kind", "wang_type"), [("wang16", "corner"), ("blob47", "mixed")])
def test_the_wangset_has_a_wangid_per_tile(
    kind: str, wang_type: str, exported: Path, made_assets: dict[str, Path]
) -> None:
    asset = load_asset(made_assets[kind])
    assert asset.tileset is not None
    tileset = pytiled_parser.parse_tileset(exported / f"{asset.name}.tsx")
    assert tileset.wang_sets is not None
    (wangset,) = tileset.wang_sets
    assert wangset.wang_type == wang_type
    assert [c.name for c in wangset.wang_colors] == ["grass", "dirt"]
    assert wangset.wang_colors[0].color[:3] == (0x38, 0xB7, 0x64)
    expected = {asset.grid_index(t.index): list(t.wangid) for t in asset.tileset.tiles}
    assert {i: t.wang_id for i, t in wangset.wang_tiles.items()} == expected


@pytest.mark.parametrize("kind", ["wang16", "blob47"])
def test_the_example_map_is_painted_consistently(
    kind: str, exported: Path, made_assets: dict[str, Path]
) -> None:
    asset = load_asset(made_assets[kind])
    tiled_map = pytiled_parser.parse_map(exported / f"{asset.name}.tmx")
    (layer,) = tiled_map.layers
    assert isinstance(layer, pytiled_parser.TileLayer)
    assert layer.data is not None
    (tileset,) = tiled_map.tilesets.values()
    assert tileset.wang_sets is not None
    wang = {tid: t.wang_id for tid, t in tileset.wang_sets[0].wang_tiles.items()}
    grid = layer.data
    painted = [(x, y) for y, row in enumerate(grid) for x, gid in enumerate(row) if gid]
    assert len(painted) == 12 * 10  # every cell has a tile that fits
    # Neighbours agree where they touch (Tiled's wang rule): sides and shared corners.
    for x, y in painted:
        me = wang[grid[y][x] - 1]
        if x + 1 < len(grid[0]) and grid[y][x + 1]:
            right = wang[grid[y][x + 1] - 1]
            assert (me[1], me[3]) == (right[7], right[5])  # top-right = its top-left, ...
            if kind == "blob47":
                assert me[2] == right[6]
        if y + 1 < len(grid) and grid[y + 1][x]:
            below = wang[grid[y + 1][x] - 1]
            assert (me[5], me[3]) == (below[7], below[1])
            if kind == "blob47":
                assert me[4] == below[0]
    # Both terrains show up: the pond is there.
    values = {v for x, y in painted for v in wang[grid[y][x] - 1] if v}
    assert values == {1, 2}


def test_clips_become_tile_animations(exported: Path, made_assets: dict[str, Path]) -> None:
    asset = load_asset(made_assets["animation"])
    tileset = pytiled_parser.parse_tileset(exported / f"{asset.name}.tsx")
    assert tileset.tiles is not None
    spin = tileset.tiles[0]
    assert spin.properties == {"clip": "spin"}
    assert spin.animation is not None
    assert [(f.tile_id, f.duration) for f in spin.animation] == [
        (0, 80),
        (1, 80),
        (2, 120),
        (3, 60),
    ]
    wobble = tileset.tiles[1]
    assert [(f.tile_id, f.duration) for f in wobble.animation or []] == [(1, 80), (2, 120)]


@pytest.mark.parametrize("kind", ["wang16", "blob47"])
def test_tiled_renders_the_map_as_we_paint_it(
    kind: str, exported: Path, made_assets: dict[str, Path], tmp_path: Path
) -> None:
    """Tiled's own renderer (tmxrasterizer, Debian's ``tiled``) draws what the gids say."""
    rasterizer = shutil.which("tmxrasterizer")
    if rasterizer is None:
        pytest.skip("tmxrasterizer is not installed (apt-get install tiled)")
    asset = load_asset(made_assets[kind])
    rendered = tmp_path / "tiled.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = subprocess.run(
        [rasterizer, str(exported / f"{asset.name}.tmx"), str(rendered)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    grid = pytiled_parser.parse_map(exported / f"{asset.name}.tmx").layers[0].data
    assert grid is not None
    w, h = asset.cell
    ours = Image.new("RGBA", (len(grid[0]) * w, len(grid) * h), (0, 0, 0, 0))
    for y, row in enumerate(grid):
        for x, gid in enumerate(row):
            if gid:
                col, line = (gid - 1) % asset.columns, (gid - 1) // asset.columns
                tile = asset.sheet.crop((col * w, line * h, col * w + w, line * h + h))
                ours.paste(tile, (x * w, y * h))
    assert_image_equal(Image.open(rendered).convert("RGBA"), ours)
