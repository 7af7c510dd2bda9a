"""The asset manifest: validation, JSON round trips, the published schema, the atomic writer."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from PIL import Image

from dgx_pixels.assets import (
    ASSET_FORMAT,
    MANIFEST_NAME,
    Frame,
    Manifest,
    Sheet,
    Tag,
    Terrain,
    TileInfo,
    Tileset,
    encode_gif,
    read_manifest,
    write_asset,
)
from dgx_pixels.errors import ManifestError, OutputExistsError

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "asset-manifest.schema.json").read_text("utf-8")
)


def animation(**changes: Any) -> Manifest:
    frames = tuple(
        Frame(f"frames/walk_down_{i}.png", rect=(i * 4, 0, 4, 4), duration_ms=120, pivot=(2, 3))
        for i in range(3)
    )
    fields: dict[str, Any] = {
        "kind": "animation",
        "name": "blob-walk",
        "cell": (4, 4),
        "frames": frames,
        "sheet": Sheet("sheet.png", size=(12, 4), columns=3, rows=1),
        "tags": (Tag("walk_down", 0, 2, fps=8.5),),
        "palette": ("#000000", "#ff0044"),
        "previews": ("preview.gif",),
        "request": {"prompt": "a blob", "seed": 3},
        "consistency": {"palette_agreement": 1.0},
    }
    fields.update(changes)
    return Manifest(**fields)


def tileset() -> Manifest:
    frames = tuple(Frame(f"tiles/{i}.png", rect=(0, 0, 2, 2)) for i in range(2))
    return Manifest(
        kind="tileset",
        name="grass-dirt",
        cell=(2, 2),
        frames=frames,
        tileset=Tileset(
            "wang16",
            (Terrain("grass", "#38b764"), Terrain("dirt", "#a7702c")),
            (TileInfo(0, (0, 1, 0, 1, 0, 1, 0, 1)), TileInfo(1, (0, 2, 0, 1, 0, 1, 0, 1))),
        ),
    )


def files_of(m: Manifest) -> dict[str, Image.Image | bytes]:
    out: dict[str, Image.Image | bytes] = {}
    for name in m.files():
        if name.endswith(".gif"):
            out[name] = encode_gif([Image.new("RGBA", (4, 4), (255, 0, 68, 255))], [100])
        else:
            out[name] = Image.new("RGBA", (12, 4), (0, 0, 0, 255))
    return out


@pytest.mark.parametrize("make", [animation, tileset])
def test_json_round_trip_and_schema(make: Any) -> None:
    m = make()
    data = json.loads(m.to_json())
    assert data["format"] == ASSET_FORMAT
    jsonschema.validate(data, SCHEMA)  # the schema exporters can check against, by another parser
    assert Manifest.from_dict(data) == m


def test_written_shape_matches_the_documented_example() -> None:
    data = animation().to_dict()
    assert list(data) == [
        "format", "kind", "name", "cell", "sheet", "frames", "tags", "palette",
        "tileset", "previews", "request", "consistency",
    ]  # fmt: skip
    assert data["frames"][1] == {
        "file": "frames/walk_down_1.png",
        "rect": [4, 0, 4, 4],
        "duration_ms": 120,
        "pivot": [2, 3],
        "trimmed": False,
        "source_rect": [0, 0, 4, 4],
    }
    assert data["tags"] == [
        {"name": "walk_down", "from": 0, "to": 2, "direction": "forward", "loop": True, "fps": 8.5}
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "movie"}, "kind must be one of"),
        ({"name": "../up"}, "asset name must be"),
        ({"cell": (0, 4)}, "cell must be 1-1024"),
        ({"frames": ()}, "1-4096 frames"),
        ({"tags": (Tag("walk", 0, 3),)}, "ends at frame 3"),
        ({"tags": (Tag("a", 0, 0), Tag("a", 1, 1))}, "tag names must differ"),
        ({"palette": ("#FF0000",)}, "lower-case colour"),
        ({"palette": ("#ff0000", "#ff0000")}, "colours must differ"),
        ({"sheet": Sheet("sheet.png", size=(8, 4), columns=2, rows=1)}, "leaves the 8x4 sheet"),
        ({"sheet": Sheet("sheet.png", size=(12, 4), columns=1, rows=1)}, "do not fit a 1x1"),
        ({"previews": ("frames/walk_down_0.png",)}, "its own path"),
        ({"previews": ("manifest.json",)}, "manifest.json"),
        ({"request": {"x": float("nan")}}, "plain JSON"),
        ({"tileset": tileset().tileset}, "only a tileset asset"),
    ],
)
def test_bad_manifests_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        animation(**change)


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x.png", "a/../../x.png", "a\\b.png", "C:x.png", "a//b.png", "./a"]
)
def test_paths_stay_inside_the_folder(path: str) -> None:
    with pytest.raises(ManifestError, match="inside the asset folder"):
        Frame(path, rect=(0, 0, 1, 1))


def test_frame_checks() -> None:
    with pytest.raises(ManifestError, match="duration_ms must be 1-65535"):
        Frame("a.png", rect=(0, 0, 1, 1), duration_ms=0)
    with pytest.raises(ManifestError, match="differs from rect size"):
        Frame("a.png", rect=(0, 0, 2, 2), trimmed=True, source_rect=(1, 1, 1, 1))
    with pytest.raises(ManifestError, match="pivot"):
        animation(frames=(Frame("a.png", rect=(0, 0, 4, 4), pivot=(9, 0)),))
    with pytest.raises(ManifestError, match="untrimmed"):
        animation(frames=(Frame("a.png", rect=(0, 0, 2, 2), source_rect=(0, 0, 2, 2)),))


def test_tileset_wangids_follow_the_layout() -> None:
    grass = (Terrain("grass", "#38b764"),)
    with pytest.raises(ManifestError, match="corners only"):
        Tileset("wang16", grass, (TileInfo(0, (1, 1, 0, 1, 0, 1, 0, 1)),))
    with pytest.raises(ManifestError, match="all 8"):
        Tileset("blob47", grass, (TileInfo(0, (1, 1, 0, 1, 1, 1, 1, 1)),))
    with pytest.raises(ManifestError, match="terrain must be 0-1, got 2"):
        Tileset("blob47", grass, (TileInfo(0, (1,) * 8, terrain=2),))
    with pytest.raises(ManifestError, match="values must be 0-1"):
        Tileset("blob47", grass, (TileInfo(0, (2, 1, 1, 1, 1, 1, 1, 1)),))


def test_from_dict_refuses_unknown_keys_and_formats() -> None:
    data = animation().to_dict()
    with pytest.raises(ManifestError, match="unknown key"):
        Manifest.from_dict({**data, "extra": 1})
    with pytest.raises(ManifestError, match="not a dgx-pixels asset manifest"):
        Manifest.from_dict({**data, "format": "dgx-pixels/asset@2"})
    with pytest.raises(ManifestError, match="must be JSON"):
        Manifest.from_json("{")


def test_write_asset_publishes_the_whole_folder(tmp_path: Path) -> None:
    m = animation()
    folder = write_asset(tmp_path / "blob-walk", m, files_of(m))
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "frames/walk_down_0.png", "frames/walk_down_1.png", "frames/walk_down_2.png",
        MANIFEST_NAME, "preview.gif", "sheet.png",
    ]  # fmt: skip
    assert read_manifest(folder) == m
    assert [p.name for p in tmp_path.iterdir()] == ["blob-walk"]  # no staging folder left
    with Image.open(folder / "preview.gif") as gif:
        assert gif.format == "GIF"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_an_asset_folder_gets_the_mode_mkdir_gives(tmp_path: Path, umask: int) -> None:
    m = animation()
    old = os.umask(umask)
    try:
        (tmp_path / "by-mkdir").mkdir()
        folder = write_asset(tmp_path / "blob-walk", m, files_of(m))
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == stat.S_IMODE(
        (tmp_path / "by-mkdir").stat().st_mode
    )
    assert stat.S_IMODE((folder / MANIFEST_NAME).stat().st_mode) == 0o666 & ~umask


def test_write_asset_never_replaces_without_force(tmp_path: Path) -> None:
    m = animation()
    folder = write_asset(tmp_path / "a", m, files_of(m))
    before = (folder / MANIFEST_NAME).read_text()
    with pytest.raises(OutputExistsError, match="use --force"):
        write_asset(folder, animation(name="other"), files_of(m))
    assert (folder / MANIFEST_NAME).read_text() == before
    write_asset(folder, animation(name="other"), files_of(m), force=True)
    assert read_manifest(folder).name == "other"
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


def test_write_asset_needs_exactly_the_named_files(tmp_path: Path) -> None:
    m = animation()
    files = files_of(m)
    del files["sheet.png"]
    with pytest.raises(ManifestError, match=r"missing \['sheet.png'\]"):
        write_asset(tmp_path / "a", m, files)
    assert not any(tmp_path.iterdir())


def test_an_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    m = animation()
    files: dict[str, Any] = files_of(m)
    files["preview.gif"] = "not bytes"  # fails after the frames are written
    with pytest.raises(TypeError):
        write_asset(tmp_path / "a", m, files)
    assert not any(tmp_path.iterdir())


def test_read_manifest_checks_files_and_links(tmp_path: Path) -> None:
    m = animation()
    folder = write_asset(tmp_path / "a", m, files_of(m))
    (folder / "sheet.png").unlink()
    with pytest.raises(ManifestError, match=r"names sheet\.png, which is missing"):
        read_manifest(folder)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"x")
    os.symlink(outside, folder / "sheet.png")
    with pytest.raises(ManifestError, match="links outside"):
        read_manifest(folder)
    with pytest.raises(ManifestError, match="no such manifest"):
        read_manifest(tmp_path / "nowhere")


def test_gif_keeps_exact_colours_and_binary_alpha() -> None:
    a = Image.new("RGBA", (3, 1), (0, 0, 0, 0))
    a.putpixel((0, 0), (1, 2, 3, 255))
    b = Image.new("RGBA", (3, 1), (0, 0, 0, 0))
    b.putpixel((2, 0), (250, 9, 77, 255))
    data = encode_gif([a, b], [100, 250])
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.n_frames == 2
        got = []
        for i in range(2):
            gif.seek(i)
            got.append((np.asarray(gif.convert("RGBA")).tolist()[0], gif.info["duration"]))
    assert got[0] == ([[1, 2, 3, 255], [0, 0, 0, 0], [0, 0, 0, 0]], 100)
    assert got[1][0][2] == [250, 9, 77, 255]
    assert got[1][0][0][3] == 0
    assert got[1][1] == 250
