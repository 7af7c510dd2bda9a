"""The model-free sprite-set tools (animate, tileset, sheet, export) through the SDK's own client.

They need no worker, so the server here is built without one: a call that
reached for a model or the worker would fail.
"""

from __future__ import annotations

import json
import shutil
import typing
from pathlib import Path
from typing import Any

import pytest
import pytiled_parser
from mcp import Client
from PIL import Image

from dgx_pixels.export import TARGETS
from dgx_pixels.mcp import ServerConfig, build_server
from dgx_pixels.mcp._sprites import Effect, Target
from dgx_pixels.sprites import EFFECTS

from .test_tools import images_of, text_of

pytestmark = pytest.mark.anyio

DATA = Path(__file__).parent.parent / "data"
BOOMERANG = [f"boomerang{i}.png" for i in range(4)]


@pytest.fixture
def game(root: Path) -> Any:
    """Our server on ``root`` with the DCSS sprites copied in, and no worker to reach."""
    shutil.copy(DATA / "dcss-agnes.png", root / "agnes.png")
    shutil.copy(DATA / "dcss-sand-grass-a2.png", root / "sand-grass.png")
    for name in BOOMERANG:
        shutil.copy(DATA / "export" / name, root / name)
    server, link = build_server(ServerConfig(root=root, worker="tcp://127.0.0.1:9", spawn=False))
    yield server
    link.close()


def enlarged(path: Path, like: Image.Image) -> bytes:
    with Image.open(path) as im:
        return im.convert("RGBA").resize(like.size, Image.Resampling.NEAREST).tobytes()


def test_the_choices_are_the_librarys() -> None:
    assert set(typing.get_args(Effect)) == set(EFFECTS)
    assert set(typing.get_args(Target)) == set(TARGETS)


async def test_animate_writes_the_effect_asset_and_shows_its_frames(game: Any, root: Path) -> None:
    async with Client(game) as client:
        result = await client.call_tool(
            "animate", {"from_path": "agnes.png", "effect": "hit-flash", "out": "anims"}
        )
    assert not result.is_error, text_of(result)
    meta = json.loads(text_of(result))
    folder = root / meta["asset"]
    assert folder.parent == root / "anims"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {"manifest.json", "sheet.png", "preview.gif"} <= {Path(f).name for f in meta["files"]}
    assert all((root / f).is_file() for f in meta["files"])
    frame_files = [folder / f["file"] for f in manifest["frames"]]
    previews = images_of(result)
    assert len(previews) == meta["frames"] == len(frame_files) > 1
    with Image.open(root / "agnes.png") as im:
        assert meta["size"] == list(im.size)
    for frame, preview in zip(frame_files, previews, strict=True):
        assert preview.width > meta["size"][0]  # enlarged, pixel for pixel
        assert enlarged(frame, preview) == preview.convert("RGBA").tobytes()


async def test_tileset_from_a_template_then_export_to_tiled(game: Any, root: Path) -> None:
    async with Client(game) as client:
        made = await client.call_tool(
            "tileset", {"from_template": "sand-grass.png", "layout": "wang16", "out": "sets"}
        )
        assert not made.is_error, text_of(made)
        meta = json.loads(text_of(made))
        dry = await client.call_tool(
            "export", {"assets": [meta["asset"]], "to": "tiled", "out": "tiled", "dry_run": True}
        )
        assert not (root / "tiled").exists()
        exported = await client.call_tool(
            "export", {"assets": [meta["asset"]], "to": "tiled", "out": "tiled"}
        )
    assert meta["tiles"] == 16
    (preview,) = images_of(made)
    assert enlarged(root / meta["asset"] / "preview.png", preview) == preview.tobytes()
    assert not dry.is_error, text_of(dry)
    assert dry.structured_content is not None
    assert not exported.is_error, text_of(exported)
    assert exported.structured_content is not None
    files = exported.structured_content["files"]
    assert [f["path"] for f in files] == [f["path"] for f in dry.structured_content["files"]]
    assert {f["action"] for f in files} == {"new"}
    (tsx,) = [root / f["path"] for f in files if f["path"].endswith(".tsx")]
    tileset = pytiled_parser.parse_tileset(tsx)  # Tiled's reader, not ours
    assert tileset.tile_count == 16


async def test_sheet_packs_real_frames_and_exports_into_a_project(game: Any, root: Path) -> None:
    (root / "mygame").mkdir()
    async with Client(game) as client:
        packed = await client.call_tool(
            "sheet", {"frames": BOOMERANG, "out": "boomerang", "columns": 2, "fps": 12}
        )
        assert not packed.is_error, text_of(packed)
        exported = await client.call_tool(
            "export", {"assets": ["boomerang"], "to": "texturepacker", "project": "mygame"}
        )
        again = await client.call_tool(
            "sheet", {"frames": BOOMERANG, "out": "boomerang", "columns": 2}
        )
    meta = json.loads(text_of(packed))
    assert meta["frames"] == 4
    with Image.open(root / "boomerang0.png") as im:
        assert meta["sheet_size"] == [2 * im.width, 2 * im.height]
    (preview,) = images_of(packed)
    assert enlarged(root / "boomerang" / "sheet.png", preview) == preview.convert("RGBA").tobytes()
    assert not exported.is_error, text_of(exported)
    assert exported.structured_content is not None
    paths = [f["path"] for f in exported.structured_content["files"]]
    assert paths
    assert all(p.startswith("mygame/") for p in paths)
    assert all((root / p).is_file() for p in paths)
    assert again.is_error
    assert "already exists" in text_of(again)


async def test_paths_outside_the_root_are_refused(game: Any, root: Path) -> None:
    outside = root.parent / "outside"
    outside.mkdir()
    shutil.copy(DATA / "dcss-agnes.png", outside / "agnes.png")
    (root / "link").symlink_to(outside)
    calls = [
        ("animate", {"from_path": "../outside/agnes.png", "effect": "blink"}, "../outside"),
        ("animate", {"from_path": "agnes.png", "effect": "blink", "out": "link"}, "'link'"),
        ("tileset", {"from_template": "link/agnes.png"}, "link/agnes.png"),
        ("tileset", {"from_template": "sand-grass.png", "out": str(outside)}, str(outside)),
        ("tileset", {"from_template": "sand-grass.png", "base": "../x.png"}, "../x.png"),
        ("sheet", {"frames": ["boomerang0.png", "link/agnes.png"], "out": "s"}, "link/agnes"),
        ("sheet", {"frames": BOOMERANG, "out": "../s"}, "'../s'"),
        ("export", {"assets": ["link/agnes.png"], "to": "godot", "out": "g"}, "link/agnes"),
        ("export", {"assets": ["agnes.png"], "to": "bevy", "project": "link"}, "'link'"),
        ("export", {"assets": ["agnes.png"], "to": "tiled", "out": "/tmp/t"}, "/tmp/t"),
    ]
    async with Client(game) as client:
        for name, arguments, named in calls:
            result = await client.call_tool(name, arguments)
            assert result.is_error, (name, arguments)
            assert "outside the project root" in text_of(result), text_of(result)
            assert named in text_of(result)
    assert sorted(p.name for p in outside.iterdir()) == ["agnes.png"]  # nothing written there


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("animate", {"from_path": "agnes.png", "effect": "explode"}, "effect"),
        ("animate", {"from_path": "agnes.png", "effect": "blink", "frames": 99}, "frames"),
        ("animate", {"from_path": "missing.png", "effect": "blink"}, "missing.png"),
        ("animate", {"effect": "blink"}, "from_path"),
        ("tileset", {"from_template": "sand-grass.png", "layout": "hex"}, "layout"),
        ("tileset", {"from_template": "sand-grass.png", "names": "a,a"}, "--names"),
        ("tileset", {"from_template": "sand-grass.png", "preview_size": "99x99"}, "64x64"),
        ("tileset", {"from_template": "agnes.png"}, "2 tiles wide and 3 high"),
        ("sheet", {"frames": [], "out": "s"}, "frames"),
        ("sheet", {"frames": ["sand-grass.png", "boomerang0.png"], "out": "s"}, "like the first"),
        ("export", {"assets": ["agnes.png"], "to": "unity", "out": "u"}, "to"),
        ("export", {"assets": ["agnes.png"], "to": "godot", "out": "g"}, "no dgx-pixels metadata"),
        ("export", {"assets": "agnes.png", "to": "godot", "out": "g"}, "assets"),
    ],
)
async def test_malformed_arguments_are_a_tool_error(
    game: Any, root: Path, name: str, arguments: dict[str, Any], says: str
) -> None:
    async with Client(game) as client:
        result = await client.call_tool(name, arguments)
        assert result.is_error
        assert says in text_of(result)
        assert "Traceback" not in text_of(result)
        assert not (await client.call_tool("palette_list", {})).is_error  # still up
    assert not (root / "s").exists()
