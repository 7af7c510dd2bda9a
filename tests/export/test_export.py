"""``dgx-pixels export`` end to end: every target for every kind of asset, and the refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.errors import InputError
from dgx_pixels.export import TARGETS, load_asset

from .conftest import KINDS


def run(*args: str | Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["export", *map(str, args)])
    return result.exit_code, result.output.splitlines()


def where(target: str, base: Path) -> list[str | Path]:
    if target in ("bevy", "godot"):
        base.mkdir(parents=True, exist_ok=True)
        return ["--project", base]
    return ["-o", base]


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("kind", KINDS)
def test_every_target_takes_every_kind(
    target: str, kind: str, made_assets: dict[str, Path], tmp_path: Path
) -> None:
    asset = made_assets[kind]
    dry_code, dry = run(asset, "--to", target, *where(target, tmp_path / "dry"), "--dry-run")
    assert dry_code == 0, dry
    planned = [line for line in dry if not line.startswith("note:")]
    assert planned
    assert all(line.startswith("would write ") for line in planned)
    assert not any(p.is_file() for p in (tmp_path / "dry").rglob("*"))

    code, wrote = run(asset, "--to", target, *where(target, tmp_path / "out"))
    assert code == 0, wrote
    files = [line for line in wrote if not line.startswith("note:")]
    assert [
        line.replace("wrote ", "would write ", 1).replace("/out/", "/dry/") for line in files
    ] == planned
    for line in files:
        assert Path(line.split()[1]).is_file()
    again_code, again = run(asset, "--to", target, *where(target, tmp_path / "out"))
    assert again_code == 0
    assert all(line.startswith(("unchanged ", "note:")) for line in again)


def test_a_project_whose_assets_folder_links_out_is_refused(
    made_assets: dict[str, Path], tmp_path: Path
) -> None:
    game, elsewhere = tmp_path / "game", tmp_path / "elsewhere"
    game.mkdir()
    elsewhere.mkdir()
    (game / "assets").symlink_to(elsewhere, target_is_directory=True)
    code, out = run(made_assets["animation"], "--to", "bevy", "--project", game)
    assert code == 2
    assert len(out) == 1
    assert "a link in its path leads to" in out[0]
    assert "outside" in out[0]
    assert not any(elsewhere.iterdir())


def test_nothing_is_written_when_one_file_would_be_replaced(
    made_assets: dict[str, Path], tmp_path: Path
) -> None:
    game = tmp_path / "game"
    (game / "assets" / "boomerang-spin").mkdir(parents=True)
    mine = game / "assets" / "boomerang-spin" / "boomerang-spin.clips.ron"
    mine.write_text("// my own clips")
    code, out = run(made_assets["animation"], "--to", "bevy", "--project", game)
    assert code == 3
    assert out == [
        f"Error: {mine} already exists and would change; use --force to replace the export's files"
    ]
    assert sorted(p.name for p in mine.parent.iterdir()) == ["boomerang-spin.clips.ron"]
    forced_code, forced = run(
        made_assets["animation"], "--to", "bevy", "--project", game, "--force"
    )
    assert forced_code == 0
    assert f"replaced {mine} (2 clips)" in forced


def test_a_project_must_exist(made_assets: dict[str, Path], tmp_path: Path) -> None:
    code, out = run(made_assets["sprite"], "--to", "godot", "--project", tmp_path / "nope")
    assert code == 2
    assert "not an existing folder" in out[-1]


@pytest.mark.parametrize("name", ["sprite-png", "png-alone", "folder"])
def test_a_sprite_is_named_by_its_sidecar_png_or_folder(
    name: str, made_assets: dict[str, Path], tmp_path: Path
) -> None:
    sidecar = made_assets["sprite"]
    folder = tmp_path / "sprite"
    shutil.copytree(sidecar.parent, folder)
    png = folder / sidecar.with_suffix(".png").name
    if name == "png-alone":
        (folder / sidecar.name).unlink()  # the PNG's own metadata chunk is enough
        given = png
    else:
        given = png if name == "sprite-png" else folder
    asset = load_asset(given)
    assert asset.kind == "sprite"
    assert asset.name == "a-wolf-7"
    assert asset.frame_image(0).tobytes() == load_asset(sidecar).frame_image(0).tobytes()


def test_bad_assets_fail_with_one_clear_line(made_assets: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no manifest\.json and no sprite sidecar"):
        load_asset(empty)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InputError, match="not an asset"):
        load_asset(text)
    # A manifest naming a file outside its folder.
    escape = tmp_path / "escape"
    shutil.copytree(made_assets["animation"], escape)
    manifest = json.loads((escape / "manifest.json").read_text())
    manifest["sheet"]["image"] = "../outside.png"
    (escape / "manifest.json").write_text(json.dumps(manifest))
    code, out = run(escape, "--to", "aseprite", "-o", tmp_path / "out")
    assert code == 2
    assert out == [
        f"Error: {escape / 'manifest.json'}: "
        "sheet image must stay inside the asset folder, got '../outside.png'"
    ]
    # A sidecar whose sprite file leads out of its folder.
    sidecar = tmp_path / "side" / "a-wolf-7.json"
    shutil.copytree(made_assets["sprite"].parent, sidecar.parent)
    meta = json.loads(sidecar.read_text())
    meta["files"]["sprite"]["file"] = "../../wolf.png"
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="must be a relative path inside the asset"):
        load_asset(sidecar)
    assert not (tmp_path / "out").exists()


def test_an_unknown_target_is_a_usage_error(made_assets: dict[str, Path], tmp_path: Path) -> None:
    code, out = run(made_assets["sprite"], "--to", "unity", "-o", tmp_path)
    assert code == 2
    assert any("'unity' is not one of" in line for line in out)


def test_public_api() -> None:
    import dgx_pixels.export as export_package

    assert set(export_package.__all__) == {
        "MANIFEST_FORMAT", "MANIFEST_NAME", "MAX_ASSETS", "TARGETS", "Asset", "ExportResult",
        "Frame", "OutFile", "Place", "Tag", "Target", "Terrain", "Tile", "Tileset", "Written",
        "check_name", "export", "load_asset", "write_files",
    }  # fmt: skip
    assert sorted(TARGETS) == ["aseprite", "bevy", "godot", "texturepacker", "tiled"]


def test_a_set_without_a_sheet_is_laid_out_from_its_frame_files(tmp_path: Path) -> None:
    from PIL import Image

    from dgx_pixels.assets import Frame, Manifest, Tag, write_asset

    from .conftest import EXPORT_DATA

    cells = [Image.open(EXPORT_DATA / f"boomerang{i}.png").convert("RGBA") for i in range(3)]
    manifest = Manifest(
        kind="animation",
        name="no-sheet",
        cell=(32, 32),
        frames=tuple(Frame(f"f/{i}.png", (0, 0, 32, 32), 50 + i) for i in range(3)),
        tags=(Tag("spin", 0, 2),),
    )
    folder = write_asset(tmp_path / "a", manifest, {f"f/{i}.png": c for i, c in enumerate(cells)})
    asset = load_asset(folder)
    assert asset.sheet_path is None
    assert (asset.columns, asset.rows) == (2, 2)
    assert [asset.frame_image(i).tobytes() for i in range(3)] == [c.tobytes() for c in cells]
    code, out = run(folder, "--to", "texturepacker", "-o", tmp_path / "atlas.json")
    assert code == 0, out
    data = json.loads((tmp_path / "atlas.json").read_text())
    assert [f["frame"] for f in data["frames"].values()] == [
        {"x": 0, "y": 0, "w": 32, "h": 32},
        {"x": 32, "y": 0, "w": 32, "h": 32},
        {"x": 0, "y": 32, "w": 32, "h": 32},
    ]
    assert Image.open(tmp_path / "atlas.png").size == (64, 64)
