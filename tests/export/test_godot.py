"""Godot 4: our .tres files as ``godot-parser`` reads them, checked against the Godot 4
class reference (SpriteFrames, TileSet terrain modes, TileData peering bits)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.export import export, load_asset
from dgx_pixels.export.godot import PEERING_BITS

from .conftest import KINDS

with warnings.catch_warnings():  # its pyparsing grammar uses names pyparsing 3 deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    import godot_parser

# godot-parser's pyparsing grammar uses names pyparsing 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:godot_parser.*")

CORNERS = {"top_right_corner", "bottom_right_corner", "bottom_left_corner", "top_left_corner"}


def parse_tres(path: Path) -> Any:
    """``path`` parsed by godot-parser.

    godot-parser 0.1.7 predates Godot 4's StringName literal ``&"walk"``, so that
    one token is normalised to a plain string first; nothing else is changed.
    """
    text = path.read_text(encoding="utf-8")
    return godot_parser.parse(re.sub(r'&"', '"', text))


@pytest.fixture(scope="module")
def project(made_assets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    game = tmp_path_factory.mktemp("godot-game")
    (game / "project.godot").write_text("config_version=5\n")
    export([made_assets[k] for k in KINDS], to="godot", project=game)
    return game


def resource(path: Path) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The file's header, its [resource] properties and its sub-resources by id."""
    parsed = parse_tres(path)
    sections = parsed.get_sections()
    header = sections[0].header
    (res,) = [s for s in sections if s.header.name == "resource"]
    subs = {s.header["id"]: s for s in parsed.get_sub_resources()}
    return header, dict(res.properties), subs


@pytest.mark.parametrize("kind", ["sprite", "animation"])
def test_sprite_frames_regions_and_animations(
    kind: str, project: Path, made_assets: dict[str, Path]
) -> None:
    asset = load_asset(made_assets[kind])
    path = project / "assets" / asset.name / f"{asset.name}.tres"
    parsed = parse_tres(path)
    header = parsed.get_sections()[0].header
    assert (header.name, header["type"], header["format"]) == ("gd_resource", "SpriteFrames", 3)
    (ext,) = parsed.get_ext_resources()
    assert ext.header["path"] == f"res://assets/{asset.name}/{asset.name}.png"
    assert (project / ext.header["path"].removeprefix("res://")).is_file()
    subs = {s.header["id"]: s for s in parsed.get_sub_resources()}
    assert header["load_steps"] == len(subs) + 2
    _, props, _ = resource(path)
    animations = props["animations"]
    expected = [(t.name, t.fps, t.loop) for t in asset.tags] or [("default", 10.0, True)]
    assert [(a["name"], a["speed"], a["loop"]) for a in animations] == expected
    for animation in animations:
        for frame in animation["frames"]:
            sub = subs[frame["texture"].id]
            assert sub.header["type"] == "AtlasTexture"
            assert sub["atlas"].id == ext.header["id"]
            x, y, w, h = sub["region"].args
            index = [f.rect for f in asset.frames].index((x, y, w, h))
            # A frame shows duration / speed seconds: the frame's own duration.
            seconds = frame["duration"] / animation["speed"]
            assert seconds == pytest.approx(asset.frames[index].duration_ms / 1000, abs=1e-5)


def test_ping_pong_plays_forward_then_back(project: Path) -> None:
    _, props, subs = resource(project / "assets/boomerang-spin/boomerang-spin.tres")
    wobble = next(a for a in props["animations"] if a["name"] == "wobble")
    regions = [subs[f["texture"].id]["region"].args[:2] for f in wobble["frames"]]
    assert regions == [[34, 0], [0, 34]]  # frames 1, 2: two frames bounce in place


@pytest.mark.parametrize("kind", ["wang16", "blob47"])
def test_tileset_terrains_and_peering_bits(
    kind: str, project: Path, made_assets: dict[str, Path]
) -> None:
    asset = load_asset(made_assets[kind])
    assert asset.tileset is not None
    header, props, subs = resource(project / "assets" / asset.name / f"{asset.name}.tres")
    assert header["type"] == "TileSet"
    assert props["tile_size"].args == [32, 32]
    # TileSet.TerrainMode: 0 = MATCH_CORNERS_AND_SIDES (blob47), 1 = MATCH_CORNERS (wang16).
    assert props["terrain_set_0/mode"] == (0 if kind == "blob47" else 1)
    assert props["terrain_set_0/terrain_0/name"] == "grass"
    assert props["terrain_set_0/terrain_1/name"] == "dirt"
    assert props["terrain_set_0/terrain_0/color"].args == pytest.approx(
        [56 / 255, 183 / 255, 100 / 255, 1], abs=1e-6
    )
    source = subs[props["sources/0"].id]
    assert source.header["type"] == "TileSetAtlasSource"
    assert source["texture_region_size"].args == [32, 32]
    tiles = dict(source.properties)
    sheet = asset.sheet
    for tile in asset.tileset.tiles:
        grid = asset.grid_index(tile.index)
        assert grid is not None
        key = f"{grid % asset.columns}:{grid // asset.columns}/0"
        assert tiles[key] == 0
        assert tiles[f"{key}/terrain_set"] == 0
        bits = {
            k.rsplit("/", 1)[1]: v
            for k, v in tiles.items()
            if k.startswith(f"{key}/terrains_peering_bit/")
        }
        expected = {b: v - 1 for b, v in zip(PEERING_BITS, tile.wangid, strict=True) if v}
        assert bits == expected
        if kind == "wang16":
            assert set(bits) == CORNERS  # MATCH_CORNERS: only corner bits are valid
        else:
            assert len(bits) == 8
            assert tiles[f"{key}/terrain"] == tile.terrain - 1  # its own (centre) terrain
        # The atlas region Godot computes for X:Y is the tile's pixels.
        x, y = (grid % asset.columns) * 32, (grid // asset.columns) * 32
        assert (
            sheet.crop((x, y, x + 32, y + 32)).tobytes() == asset.frame_image(tile.index).tobytes()
        )


def test_res_paths_follow_project_godot(made_assets: dict[str, Path], tmp_path: Path) -> None:
    game = tmp_path / "game"
    (game / "art").mkdir(parents=True)
    (game / "project.godot").write_text("config_version=5\n")
    export([made_assets["animation"]], to="godot", out=game / "art")
    (ext,) = parse_tres(game / "art" / "boomerang-spin.tres").get_ext_resources()
    assert ext.header["path"] == "res://art/boomerang-spin.png"


def test_the_cli_says_how_to_keep_pixels_sharp(
    made_assets: dict[str, Path], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from dgx_pixels.cli import cli

    (tmp_path / "project.godot").write_text("")
    args = ["export", str(made_assets["wang16"]), "--to", "godot", "--project", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("note: Godot: set Project Settings")


def test_seamless_tiles_become_a_tileset_without_terrains(tmp_path: Path) -> None:
    from PIL import Image

    from dgx_pixels.assets import Frame, Manifest, Sheet, write_asset

    from .conftest import EXPORT_DATA

    tiles = [Image.open(EXPORT_DATA / n).convert("RGBA") for n in ("grass0.png", "dirt0.png")]
    sheet = Image.new("RGBA", (64, 32))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (32 * i, 0))
    manifest = Manifest(
        kind="tiles",
        name="floors",
        cell=(32, 32),
        frames=(Frame("t/0.png", (0, 0, 32, 32)), Frame("t/1.png", (32, 0, 32, 32))),
        sheet=Sheet("sheet.png", (64, 32), "grid", columns=2, rows=1),
    )
    folder = write_asset(
        tmp_path / "floors",
        manifest,
        {"t/0.png": tiles[0], "t/1.png": tiles[1], "sheet.png": sheet},
    )
    game = tmp_path / "game"
    game.mkdir()
    export([folder], to="godot", project=game)
    header, props, subs = resource(game / "assets/floors/floors.tres")
    assert header["type"] == "TileSet"
    assert not any(k.startswith("terrain_set") for k in props)
    source = dict(subs[props["sources/0"].id].properties)
    assert source["0:0/0"] == 0
    assert source["1:0/0"] == 0
    assert not any("terrain" in k for k in source)
