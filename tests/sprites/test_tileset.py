"""Template tilesets: quarter-tile assembly against hand-checked tiles, the adjacency of every
painted preview, and the ``tileset --from-template`` asset on a template made of DCSS tiles."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.assets import read_manifest
from dgx_pixels.cli import cli
from dgx_pixels.errors import InputError
from dgx_pixels.sprites import (
    blob_masks,
    blob_wangid,
    paint_map,
    reduce_mask,
    template_tiles,
    wang16_wangid,
)

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]
TEMPLATE = DATA / "dcss-sand-grass-a2.png"
GRASS = DATA / "dcss-grass0.png"
N, NE, E, SE, S, SW, W, NW = 1, 2, 4, 8, 16, 32, 64, 128
Q = 2  # quarter side of the coded template


def coded_template() -> Image.Image:
    """A 2x3-tile template whose 24 quarters are flat colours coding their (column, row)."""
    a = np.zeros((6 * Q, 4 * Q, 4), dtype=np.uint8)
    for row in range(6):
        for column in range(4):
            a[row * Q : (row + 1) * Q, column * Q : (column + 1) * Q] = (
                column * 40,
                row * 40,
                7,
                255,
            )
    return Image.fromarray(a)


def quarters(tile: Image.Image) -> list[tuple[int, int] | None]:
    """The (column, row) each quarter of a tile of the coded template came from: TL, TR, BL, BR."""
    a = np.asarray(tile)
    out: list[tuple[int, int] | None] = []
    for y, x in ((0, 0), (0, Q), (Q, 0), (Q, Q)):
        block = a[y : y + Q, x : x + Q].reshape(-1, 4)
        assert (block == block[0]).all()  # a quarter is one piece, never a mix
        r, g, _, alpha = block[0].tolist()
        out.append(None if alpha == 0 else (r // 40, g // 40))
    return out


# (mask, quarters) checked by hand against RPG Maker MV's FLOOR_AUTOTILE_TABLE.
BLOB_EXPECTED = [
    (255, [(2, 4), (1, 4), (2, 3), (1, 3)]),  # shape 0: all neighbours, the fill
    (0, [(0, 2), (3, 2), (0, 5), (3, 5)]),  # shape 46: an island, four outer corners
    (N | E | S | W, [(2, 0), (3, 0), (2, 1), (3, 1)]),  # shape 15: four inner corners
    (E | S | SE, [(0, 2), (1, 2), (0, 3), (1, 3)]),  # shape 34: a patch's top-left corner
    (255 & ~NW, [(2, 0), (1, 4), (2, 3), (1, 3)]),  # shape 1: inner corner top-left only
    (E | SE | S | SW | W, [(2, 2), (1, 2), (2, 3), (1, 3)]),  # shape 20: the top edge
    (N | S, [(0, 4), (3, 4), (0, 3), (3, 3)]),  # shape 33: a vertical corridor
]


@pytest.mark.parametrize(("mask", "expected"), BLOB_EXPECTED)
def test_blob_tiles_take_rpg_makers_quarters(mask: int, expected: list[tuple[int, int]]) -> None:
    made = template_tiles(coded_template(), layout="blob47")
    index = made.keys.index(reduce_mask(mask))
    assert quarters(made.tiles[index]) == expected


# (corner index NE=1 SE=2 SW=4 NW=8, quarters TL TR BL BR), checked by hand: a tile quarter
# is the opposite quarter of the cell its corner stands for.
WANG_EXPECTED = [
    (0, [None, None, None, None]),
    (8, [(3, 5), None, None, None]),  # NW only: that cell's bottom-right outer corner
    (15, [(1, 3), (2, 3), (1, 4), (2, 4)]),  # all terrain A: the fill
    (8 | 1, [(1, 5), (2, 5), None, None]),  # the two top corners: a bottom edge
    # All but SE: the NW cell has A east and south but not south-east (an inner corner); the
    # NE cell lacks its south (a bottom edge), the SW cell its east (a right edge).
    (15 & ~2, [(3, 1), (2, 5), (3, 4), None]),
]


@pytest.mark.parametrize(("index", "expected"), WANG_EXPECTED)
def test_wang16_tiles_by_their_corners(index: int, expected: list[tuple[int, int] | None]) -> None:
    made = template_tiles(coded_template(), layout="wang16")
    assert made.keys[index] == index
    assert quarters(made.tiles[index]) == expected
    assert made.wangids[index] == wang16_wangid(index)


def test_layout_sizes_and_ids() -> None:
    assert len(blob_masks()) == 47
    assert len({blob_wangid(m) for m in blob_masks()}) == 47
    blob = template_tiles(coded_template(), layout="blob47")
    assert len(blob.tiles) == 48
    assert blob.wangids[-1] == (2,) * 8
    assert blob.terrains == (1,) * 47 + (2,)
    assert len(set(template_tiles(coded_template(), layout="wang16").wangids)) == 16


@pytest.fixture(scope="module")
def dcss() -> tuple[Image.Image, Image.Image]:
    return Image.open(TEMPLATE).convert("RGBA"), Image.open(GRASS).convert("RGBA")


def test_dcss_template_island_is_the_icon_and_ground_is_the_base(
    dcss: tuple[Image.Image, Image.Image],
) -> None:
    template, grass = dcss
    made = template_tiles(template, layout="blob47", base=grass)
    island = np.asarray(made.tiles[made.keys.index(0)])
    assert np.array_equal(island, np.asarray(template)[:32, :32])  # as RPG Maker draws the icon
    assert np.array_equal(np.asarray(made.tiles[47]), np.asarray(grass))
    for tile in made.tiles:
        assert tile.size == (32, 32)
        assert (np.asarray(tile)[..., 3] == 255).all()


def neighbours_agree(
    layout: str, wangids: list[tuple[int, ...]], grid: tuple[tuple[int, ...], ...]
) -> int:
    """Check that touching edges of a painted map agree; return the pairs checked."""
    pairs = 0
    for y, row in enumerate(grid):
        for x, index in enumerate(row):
            w = wangids[index]
            if x + 1 < len(row):  # right neighbour: my right side and corners = its left ones
                r = wangids[row[x + 1]]
                assert (w[2], w[1], w[3]) == (r[6], r[7], r[5]), (layout, y, x)
                pairs += 1
            if y + 1 < len(grid):  # neighbour below
                b = wangids[grid[y + 1][x]]
                assert (w[4], w[5], w[3]) == (b[0], b[7], b[1]), (layout, y, x)
                pairs += 1
    return pairs


@pytest.mark.parametrize("layout", ["blob47", "wang16"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_painted_preview_agrees_at_every_edge(
    dcss: tuple[Image.Image, Image.Image], layout: str, seed: int
) -> None:
    template, grass = dcss
    made = template_tiles(template, layout=layout, base=grass)
    painted = paint_map(made, layout=layout, columns=10, rows=7, seed=seed)
    assert neighbours_agree(layout, list(made.wangids), painted.indices) == 9 * 7 + 10 * 6
    assert len({i for row in painted.indices for i in row}) > 4  # a real mix, not one tile
    picture = np.asarray(painted.image)
    for y, row in enumerate(painted.indices):
        for x, index in enumerate(row):
            assert np.array_equal(picture[y * 32 : y * 32 + 32, x * 32 : x * 32 + 32],
                                  np.asarray(made.tiles[index]))  # fmt: skip
            if layout == "blob47":  # a cell's own terrain decides A tile or ground
                assert (made.terrains[index] == 1) == painted.terrain[y][x]


def test_bad_templates_say_what_is_wrong(dcss: tuple[Image.Image, Image.Image]) -> None:
    template, _ = dcss
    with pytest.raises(InputError, match=r"2 tiles wide and 3 high.*got 64x64"):
        template_tiles(Image.new("RGBA", (64, 64)), layout="blob47")
    with pytest.raises(InputError, match=r"base tile must be 32x32.*got 16x16"):
        template_tiles(template, layout="blob47", base=Image.new("RGBA", (16, 16)))
    with pytest.raises(InputError, match="layout must be blob47 or wang16"):
        template_tiles(template, layout="wang48")


@pytest.mark.parametrize("layout", ["blob47", "wang16"])
def test_tileset_command_writes_a_tileset_asset(tmp_path: Path, layout: str) -> None:
    args = ["tileset", "--from-template", str(TEMPLATE), "--layout", layout, "--base", str(GRASS),
            "--names", "sand,grass", "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    folder = tmp_path / f"dcss-sand-grass-a2-{layout}"
    manifest = read_manifest(folder)
    schema = json.loads((ROOT / "docs" / "asset-manifest.schema.json").read_text())
    jsonschema.validate(json.loads((folder / "manifest.json").read_text()), schema)
    assert manifest.kind == "tileset"
    assert manifest.tileset is not None
    assert manifest.tileset.layout == layout
    assert [t.name for t in manifest.tileset.terrains] == ["sand", "grass"]
    count = 48 if layout == "blob47" else 16
    assert len(manifest.frames) == len(manifest.tileset.tiles) == count
    made = template_tiles(*[Image.open(p).convert("RGBA") for p in (TEMPLATE,)], layout=layout,
                          base=Image.open(GRASS).convert("RGBA"))  # fmt: skip
    with Image.open(folder / "sheet.png") as sheet:
        s = np.asarray(sheet.convert("RGBA"))
    for frame, info, tile in zip(manifest.frames, manifest.tileset.tiles, made.tiles, strict=True):
        x, y, w, h = frame.rect
        assert np.array_equal(s[y : y + h, x : x + w], np.asarray(tile))
        assert info.wangid == made.wangids[info.index]
    with Image.open(folder / "preview.png") as preview:
        assert preview.size == (12 * 32, 8 * 32)
        shown = np.asarray(preview.convert("RGBA"))
    painted = paint_map(made, layout=layout, columns=12, rows=8, seed=0)
    assert np.array_equal(shown, np.asarray(painted.image))  # the map whose edges are checked
    assert neighbours_agree(layout, list(made.wangids), painted.indices) == 11 * 8 + 12 * 7
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 3


def test_tileset_command_bad_input_is_one_line(tmp_path: Path) -> None:
    square = tmp_path / "square.png"
    Image.new("RGBA", (64, 64)).save(square)
    result = CliRunner().invoke(
        cli, ["tileset", "--from-template", str(square), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "2 tiles wide and 3 high" in result.output
    result = CliRunner().invoke(cli, ["tileset", "--from-template", str(TEMPLATE), "--names", "a"])
    assert result.exit_code == 2
    assert "--names must be two different names" in result.output
    assert not list(tmp_path.glob("square-*"))
