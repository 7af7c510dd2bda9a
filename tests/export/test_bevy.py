"""Bevy: our .meta, .assets.ron and .clips.ron as the ``ron`` crate parses them, into
mirrors of Bevy's and bevy_asset_loader's own types; the atlas grid as Bevy computes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dgx_pixels.export import export, load_asset

from .conftest import KINDS
from .readers import read_ron, ron_check

__all__ = ["ron_check"]  # the fixture, used by name


@pytest.fixture(scope="module")
def project(made_assets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    game = tmp_path_factory.mktemp("bevy-game")
    (game / "src").mkdir()
    (game / "src" / "main.rs").write_text("fn main() {}\n")
    export([made_assets[k] for k in KINDS], to="bevy", project=game)
    return game


def bevy_grid_rect(index: int, asset_info: dict[str, int]) -> tuple[int, int, int, int]:
    """``TextureAtlasLayout::from_grid``'s rect of ``index`` (bevy_image texture_atlas.rs)."""
    col, row = index % asset_info["columns"], index // asset_info["columns"]
    x = (asset_info["tile_size_x"] + asset_info.get("padding_x", 0)) * col
    y = (asset_info["tile_size_y"] + asset_info.get("padding_y", 0)) * row
    x += asset_info.get("offset_x", 0)
    y += asset_info.get("offset_y", 0)
    return x, y, x + asset_info["tile_size_x"], y + asset_info["tile_size_y"]


def test_each_asset_gets_its_own_folder(project: Path, made_assets: dict[str, Path]) -> None:
    names = {k: load_asset(made_assets[k]).name for k in KINDS}
    listing = {k: sorted(p.name for p in (project / "assets" / names[k]).iterdir()) for k in KINDS}
    a = names["animation"]
    assert listing["animation"] == sorted(
        [f"{a}.png", f"{a}.png.meta", f"{a}.assets.ron", f"{a}.clips.ron", f"{a}.aseprite"]
    )
    s = names["sprite"]
    assert listing["sprite"] == sorted(
        [f"{s}.png", f"{s}.png.meta", f"{s}.assets.ron", f"{s}.aseprite"]
    )
    t = names["blob47"]
    assert listing["blob47"] == sorted(
        [f"{t}.png", f"{t}.png.meta", f"{t}.assets.ron", f"{t}.terrain.ron"]
    )
    assert (project / "src" / "main.rs").read_text() == "fn main() {}\n"


def test_ron_files_parse_into_bevys_types(
    project: Path, made_assets: dict[str, Path], ron_check: str
) -> None:
    files = sorted(p for p in (project / "assets").rglob("*") if p.suffix in (".ron", ".meta"))
    assert len(files) == 4 * 2 + 1 + 2  # meta + collection each, clips, 2 terrain files
    parsed = read_ron(ron_check, *files)
    assert set(parsed) == {str(p) for p in files}
    for kind in KINDS:
        asset = load_asset(made_assets[kind])
        folder = project / "assets" / asset.name
        meta = parsed[str(folder / f"{asset.name}.png.meta")]
        assert meta["meta_format_version"] == "1.0"
        assert meta["asset"]["loader"] == "bevy_image::image_loader::ImageLoader"
        # ron::Value drops enum names (Nearest reads as ()); ron_check's typed parse has
        # already refused anything but a nearest sampler (see the test below).
        (sampler,) = meta["asset"]["settings"]["sampler"]
        assert sampler["lod_max_clamp"] == 32.0
        assert sampler["anisotropy_clamp"] == 1
        (collection,) = parsed[str(folder / f"{asset.name}.assets.ron")]  # ({...}): a 1-tuple
        assert collection[f"{asset.name}.image"] == {"path": f"{asset.name}/{asset.name}.png"}
        layout = collection[f"{asset.name}.layout"]
        assert (layout["tile_size_x"], layout["tile_size_y"]) == asset.cell
        assert (layout["columns"], layout["rows"]) == (asset.columns, asset.rows)
        # Every frame is where Bevy's grid layout puts it.
        for i in range(len(asset.frames)):
            index = asset.grid_index(i)
            assert index is not None
            rect = bevy_grid_rect(index, layout)
            assert asset.sheet.crop(rect).tobytes() == asset.frame_image(i).tobytes()
        image = folder / f"{asset.name}.png"
        assert image.read_bytes() == asset.sheet_path.read_bytes()


def test_the_checker_refuses_a_linear_sampler_and_a_misspelt_field(
    project: Path, made_assets: dict[str, Path], ron_check: str, tmp_path: Path
) -> None:
    name = load_asset(made_assets["sprite"]).name
    good = (project / "assets" / name / f"{name}.png.meta").read_text()
    linear = tmp_path / "linear.png.meta"
    linear.write_text(good.replace("mag_filter: Nearest", "mag_filter: Linear"))
    misspelt = tmp_path / "misspelt.png.meta"
    misspelt.write_text(good.replace("is_srgb", "is_sRGB"))
    for bad, why in ((linear, "the sampler is not nearest"), (misspelt, "is_sRGB")):
        with pytest.raises(AssertionError, match=why):
            read_ron(ron_check, bad)


def test_clips_carry_first_last_fps_and_looping(
    project: Path, made_assets: dict[str, Path], ron_check: str
) -> None:
    name = load_asset(made_assets["animation"]).name
    clips_file = project / "assets" / name / f"{name}.clips.ron"
    clips = read_ron(ron_check, clips_file)[str(clips_file)]
    assert clips["image"] == f"{name}/{name}.png"
    assert clips["clips"] == {
        "spin": {
            "first": 0,
            "last": 3,
            "fps": 12.0,
            "looping": True,
            "direction": "forward",
            "frames": [0, 1, 2, 3],
            "durations_ms": [80, 80, 120, 60],
        },
        "wobble": {
            "first": 1,
            "last": 2,
            "fps": 8.0,
            "looping": False,
            "direction": "pingpong",
            "frames": [1, 2],
            "durations_ms": [80, 120],
        },
    }
    collection_file = clips_file.with_name(f"{name}.assets.ron")
    (collection,) = read_ron(ron_check, collection_file)[str(collection_file)]
    assert collection[f"{name}.layout"] == {
        "tile_size_x": 32,
        "tile_size_y": 32,
        "columns": 2,
        "rows": 2,
        "padding_x": 2,
        "padding_y": 2,
    }


def test_terrain_rules_list_every_tile(
    project: Path, made_assets: dict[str, Path], ron_check: str
) -> None:
    asset = load_asset(made_assets["wang16"])
    path = project / "assets" / asset.name / f"{asset.name}.terrain.ron"
    terrain = read_ron(ron_check, path)[str(path)]
    assert terrain["layout"] == "wang16"
    assert [t["name"] for t in terrain["terrains"]] == ["grass", "dirt"]
    assert asset.tileset is not None
    assert terrain["tiles"] == [
        {"index": t.index, "wangid": list(t.wangid)} for t in asset.tileset.tiles
    ]


def test_o_inside_an_assets_folder_names_paths_from_it(
    made_assets: dict[str, Path], tmp_path: Path, ron_check: str
) -> None:
    out = tmp_path / "game" / "assets" / "sprites" / "effects"
    export([made_assets["animation"]], to="bevy", out=out)
    name = load_asset(made_assets["animation"]).name
    path = out / f"{name}.assets.ron"
    (collection,) = read_ron(ron_check, path)[str(path)]
    assert collection[f"{name}.image"] == {"path": f"sprites/effects/{name}.png"}


def test_a_re_export_replaces_only_what_changed(
    made_assets: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "anim"
    shutil.copytree(made_assets["animation"], source)
    game = tmp_path / "game"
    game.mkdir()
    export([source], to="bevy", project=game)
    (game / "assets" / "boomerang-spin" / "notes.txt").write_text("mine")
    manifest = json.loads((source / "manifest.json").read_text())
    manifest["tags"][0]["fps"] = 15
    (source / "manifest.json").write_text(json.dumps(manifest))
    result = export([source], to="bevy", project=game, force=True)
    actions = {w.path.name: w.action for w in result.files}
    assert actions == {
        "boomerang-spin.png": "unchanged",
        "boomerang-spin.png.meta": "unchanged",
        "boomerang-spin.assets.ron": "unchanged",
        "boomerang-spin.clips.ron": "replaced",
        "boomerang-spin.aseprite": "unchanged",
    }
    assert (game / "assets" / "boomerang-spin" / "notes.txt").read_text() == "mine"


def test_an_extruded_sheet_keeps_its_layout_as_padding_and_offset(
    tmp_path: Path, ron_check: str
) -> None:
    from PIL import Image

    from dgx_pixels.assets import Frame, Manifest, Sheet, write_asset

    from .conftest import EXPORT_DATA

    pad, ext = 1, 2
    cells = [Image.open(EXPORT_DATA / f"boomerang{i}.png").convert("RGBA") for i in range(4)]
    step = 32 + 2 * ext + pad
    sheet = Image.new("RGBA", (2 * step, 2 * step))
    frames = []
    for i, cell in enumerate(cells):
        x, y = (i % 2) * step + ext, (i // 2) * step + ext
        # The frame's edge pixels repeated ext times around it, as `dgx-pixels sheet` does.
        sheet.paste(
            cell.resize((32 + 2 * ext, 32 + 2 * ext), Image.Resampling.NEAREST), (x - ext, y - ext)
        )
        sheet.paste(cell, (x, y))
        frames.append(Frame(f"f/{i}.png", (x, y, 32, 32)))
    manifest = Manifest(
        kind="animation",
        name="extruded",
        cell=(32, 32),
        frames=tuple(frames),
        sheet=Sheet("sheet.png", sheet.size, "grid", columns=2, rows=2, padding=pad, extrude=ext),
    )
    files: dict[str, Image.Image] = {f"f/{i}.png": c for i, c in enumerate(cells)}
    folder = write_asset(tmp_path / "extruded", manifest, {**files, "sheet.png": sheet})
    game = tmp_path / "game"
    game.mkdir()
    export([folder], to="bevy", project=game)
    path = game / "assets/extruded/extruded.assets.ron"
    (collection,) = read_ron(ron_check, path)[str(path)]
    layout = collection["extruded.layout"]
    assert (layout["padding_x"], layout["offset_x"]) == (pad + 2 * ext, ext)
    exported = Image.open(game / "assets/extruded/extruded.png").convert("RGBA")
    for i, cell in enumerate(cells):
        assert exported.crop(bevy_grid_rect(i, layout)).tobytes() == cell.tobytes()
