"""The SDK's own client against our server, in memory, with a real worker on random:sdxl-tiny."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from mcp import Client
from mcp.types import CallToolResult, ImageContent, TextContent
from PIL import Image

from dgx_pixels.jobs.client import Client as JobClient
from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.request import GenerationRequest

pytestmark = pytest.mark.anyio

DATA = Path(__file__).parent.parent / "data"
TOOLS = {
    "generate", "restore", "pixelize", "palette_list", "palette_show", "palette_extract",
    "jobs_list", "jobs_status", "jobs_cancel", "models_list",
    "animate", "tileset", "sheet", "export",
    "generate_animation", "generate_tiles", "generate_tileset",
}  # fmt: skip
SLIME = {"prompt": "a green slime", "size": "16", "steps": 2, "seed": 5, "scheduler": "euler"}


def text_of(result: CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


def images_of(result: CallToolResult) -> list[Image.Image]:
    found = []
    for block in result.content:
        if isinstance(block, ImageContent):
            assert block.mime_type == "image/png"
            found.append(Image.open(io.BytesIO(base64.b64decode(block.data))))
    return found


def visible(image: Image.Image) -> list[tuple[int, ...]]:
    """The RGBA pixels, with the colour of fully transparent ones zeroed (it is not seen)."""
    pixels = np.asarray(image.convert("RGBA")).reshape(-1, 4)
    return [(0, 0, 0, 0) if p[3] == 0 else tuple(int(v) for v in p) for p in pixels]


async def test_lists_exactly_the_tools_that_exist(server: Any) -> None:
    async with Client(server[0]) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    # drawing_size records how the engine drew a sprite (for --from); no front end sets it.
    # seamless belongs to tiles, which the CLI's generate does not take either.
    request_fields = set(GenerationRequest.__dataclass_fields__) - {
        "extra", "drawing_size", "seamless",
    }  # fmt: skip
    generate_params = set(tools["generate"].input_schema["properties"])
    assert generate_params == request_fields | {"force"}
    read_only = {
        name for name, tool in tools.items() if tool.annotations and tool.annotations.read_only_hint
    }
    assert read_only == {"palette_list", "palette_show", "jobs_list", "jobs_status", "models_list"}


async def test_generate_reports_progress_and_returns_real_files(server: Any, root: Path) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async with Client(server[0]) as client:
        result = await client.call_tool(
            "generate", {**SLIME, "count": 2, "out": "art"}, progress_callback=on_progress
        )
    assert not result.is_error, text_of(result)
    meta = json.loads(text_of(result))
    assert meta["seeds"] == [5, 6]
    assert (2.0, 2.0) in [(done, total) for done, total, _ in progress]
    for files, preview in zip(meta["files"], images_of(result), strict=True):
        sprite = Path(files["sprite"])
        assert sprite.parent == root / "art"
        assert Path(files["metadata"]).is_file()
        with Image.open(sprite) as im:
            assert im.size == (16, 16)
            # The preview is the sprite enlarged with nearest sampling, pixel for pixel.
            factor = preview.width // 16
            assert factor > 1
            assert preview.size == (16 * factor, 16 * factor)
            enlarged = im.convert("RGBA").resize(preview.size, Image.Resampling.NEAREST)
            assert enlarged.tobytes() == preview.convert("RGBA").tobytes()
    assert result.structured_content == meta


async def test_cancelling_the_call_cancels_the_job(server: Any, worker: SpawnedWorker) -> None:
    seen = anyio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        if done >= 1:
            seen.set()

    async with Client(server[0]) as client:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await client.call_tool(
                    "generate",
                    {**SLIME, "steps": 200, "out": "slow"},
                    progress_callback=on_progress,
                )

            tg.start_soon(call)
            with anyio.fail_after(60):
                await seen.wait()
            tg.cancel_scope.cancel()
        # The server is still up, and the job is cancelled on the worker.
        with JobClient(worker.address) as jobs:
            newest = jobs.jobs(limit=1).jobs[0]
            assert newest.request["steps"] == 200
            with anyio.fail_after(30):
                while jobs.status(newest.id).state != "cancelled":
                    await anyio.sleep(0.05)
        listed = await client.call_tool("jobs_status", {"job_id": newest.id})
        assert listed.structured_content is not None
        assert listed.structured_content["state"] == "cancelled"


async def test_jobs_cancel_cancels_a_queued_or_running_job(
    server: Any, worker: SpawnedWorker
) -> None:
    with JobClient(worker.address) as jobs:
        long = GenerationRequest(
            prompt="a long job", model="random:sdxl-tiny", size=(16, 16), steps=200, seed=1
        )
        job = jobs.submit(long)
        async with Client(server[0]) as client:
            answer = await client.call_tool("jobs_cancel", {"job_id": job.id})
        assert not answer.is_error, text_of(answer)
        assert answer.structured_content is not None
        assert answer.structured_content["id"] == job.id
        assert answer.structured_content["state"] in ("cancelled", "running")  # running: stopping
        with anyio.fail_after(30):
            while jobs.status(job.id).state != "cancelled":
                await anyio.sleep(0.05)


async def test_paths_outside_the_root_are_refused_and_named(server: Any, root: Path) -> None:
    outside = root.parent / "outside"
    outside.mkdir()
    shutil.copy(DATA / "dcss-wolf.png", outside / "wolf.png")
    (root / "link").symlink_to(outside)
    calls = [
        ("restore", {"image": "../outside/wolf.png"}, "../outside/wolf.png"),
        ("pixelize", {"image": "link/wolf.png", "size": "8"}, "link/wolf.png"),
        ("pixelize", {"image": str(outside / "wolf.png"), "size": "8"}, str(outside)),
        ("generate", {**SLIME, "out": "/tmp"}, "'/tmp'"),
        ("generate", {**SLIME, "init": "link/wolf.png"}, "link/wolf.png"),
        ("palette_show", {"name": "../outside/x.hex"}, "../outside/x.hex"),
        ("palette_extract", {"image": "link/wolf.png", "colors": 4}, "link/wolf.png"),
    ]
    async with Client(server[0]) as client:
        for name, arguments, named in calls:
            result = await client.call_tool(name, arguments)
            assert result.is_error, name
            assert "outside the project root" in text_of(result), text_of(result)
            assert named in text_of(result)
        still = await client.call_tool("palette_list", {})
    assert not still.is_error
    assert sorted(p.name for p in outside.iterdir()) == ["wolf.png"]  # nothing written there


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("generate", {"prompt": "a slime", "count": "many"}, "count"),
        ("generate", {"prompt": "a slime", "size": "0x8"}, "size must be at least 1x1"),
        ("generate", {"prompt": "a slime", "count": 65}, "count"),
        ("generate", {"prompt": "x" * 5000}, "prompt"),
        ("generate", {"prompt": "a slime", "palette": "sweety-16"}, "sweetie-16"),
        ("generate", {}, "prompt"),
        ("pixelize", {"image": "missing.png", "size": "8"}, "no such file"),
        ("jobs_status", {"job_id": 999999}, "999999"),
        ("jobs_status", {"job_id": "one"}, "job_id"),
        ("no_such_tool", {}, "no_such_tool"),
    ],
)
async def test_malformed_arguments_are_a_tool_error(
    server: Any, name: str, arguments: dict[str, Any], says: str
) -> None:
    async with Client(server[0]) as client:
        result = await client.call_tool(name, arguments)
        assert result.is_error
        assert says in text_of(result)
        assert "Traceback" not in text_of(result)
        assert not (await client.call_tool("palette_list", {})).is_error  # still up


async def test_restore_pixelize_and_palettes_write_real_files(server: Any, root: Path) -> None:
    with Image.open(DATA / "dcss-wolf.png") as im:
        wolf = im.convert("RGBA")
    wolf.resize((256, 256), Image.Resampling.NEAREST).save(root / "big-wolf.png")
    async with Client(server[0]) as client:
        restored = await client.call_tool("restore", {"image": "big-wolf.png"})
        pixel = await client.call_tool(
            "pixelize", {"image": "big-wolf.png", "size": "16", "palette": "pico-8"}
        )
        extracted = await client.call_tool(
            "palette_extract", {"image": "big-wolf.png", "colors": 4, "out": "wolf.gpl"}
        )
        shown = await client.call_tool("palette_show", {"name": "wolf.gpl"})
        again = await client.call_tool("restore", {"image": "big-wolf.png"})
    assert not restored.is_error, text_of(restored)
    with Image.open(root / "big-wolf-restored.png") as im:
        assert visible(im) == visible(wolf)
    assert restored.structured_content is not None
    assert restored.structured_content["size"] == [32, 32]
    assert len(images_of(restored)) == 1
    assert not pixel.is_error, text_of(pixel)
    with Image.open(root / "big-wolf-pixel.png") as im:
        assert im.size == (16, 16)
    assert "GIMP Palette" in (root / "wolf.gpl").read_text()  # a real .gpl for GIMP
    assert shown.structured_content is not None
    assert extracted.structured_content is not None
    assert shown.structured_content["colors"] == extracted.structured_content["colors"]
    assert again.is_error
    assert "already exists" in text_of(again)


async def test_jobs_models_and_the_gallery(server: Any, root: Path, worker: SpawnedWorker) -> None:
    async with Client(server[0]) as client:
        made = await client.call_tool("generate", {**SLIME, "seed": 9, "out": "gallery"})
        assert not made.is_error, text_of(made)
        job = json.loads(text_of(made))["job"]
        listed = await client.call_tool("jobs_list", {"state": ["done"], "limit": 5})
        models = await client.call_tool("models_list", {})
        resources = (await client.list_resources()).resources
        index = await client.read_resource("gallery://index")
        png = await client.read_resource("gallery://sprite/gallery/a-green-slime-9.png")
    assert listed.structured_content is not None
    assert job in [j["id"] for j in listed.structured_content["jobs"]]
    assert models.structured_content is not None
    assert models.structured_content["worker"]["models"] == ["random:sdxl-tiny"]
    uris = {str(r.uri) for r in resources}
    assert "gallery://sprite/gallery/a-green-slime-9.png" in uris
    entries = json.loads(index.contents[0].text)  # type: ignore[union-attr]
    assert entries[0]["prompt"] == "a green slime"
    blob = base64.b64decode(png.contents[0].blob)  # type: ignore[union-attr]
    assert blob == (root / "gallery" / "a-green-slime-9.png").read_bytes()


async def test_generate_animation_reports_each_frame_and_copies_the_asset(
    server: Any, root: Path
) -> None:
    from dgx_pixels.assets import read_manifest

    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    args = {"prompt": "a knight", "frames": 2, "directions": 4, "size": "16", "steps": 2,
            "seed": 5, "out": "hero"}  # fmt: skip
    async with Client(server[0]) as client:
        result = await client.call_tool("generate_animation", args, progress_callback=on_progress)
        assert not result.is_error, text_of(result)
        bad = await client.call_tool("generate_tileset", {**SLIME, "over": "x", "size": "16x8"})
    # Frames of 3 drawn directions (right mirrors left), each reported as it is drawn.
    assert [(k, 6.0) for k in range(1, 7)] == [(d, t) for d, t in progress if d]
    meta = json.loads(text_of(result))
    folder = root / meta["asset"]
    assert folder.parent == root / "hero"
    assert len(read_manifest(folder).frames) == 8
    assert all((root / f).is_file() for f in meta["files"])
    assert len(images_of(result)) == 1  # the sheet, enlarged
    assert bad.is_error
    assert "square, got 16x8" in text_of(bad)


async def test_generate_animation_from_a_sprite_keeps_its_palette(server: Any, root: Path) -> None:
    from dgx_pixels.assets import read_manifest

    wolf = DATA / "rltiles" / "mon" / "animals" / "wolf.png"
    (root / "art").mkdir()
    shutil.copy(wolf, root / "art" / "wolf.png")
    args = {"prompt": "a wolf", "from_path": "art/wolf.png", "frames": 2, "steps": 2,
            "seed": 5, "out": "pack"}  # fmt: skip
    async with Client(server[0]) as client:
        result = await client.call_tool("generate_animation", args)
        assert not result.is_error, text_of(result)
        outside = await client.call_tool("generate_animation", {**args, "from_path": "../x.png"})
    folder = root / json.loads(text_of(result))["asset"]
    manifest = read_manifest(folder)
    assert manifest.request["from"] == "wolf.png"
    own = {p for p in visible(Image.open(wolf)) if p[3]}
    for frame in manifest.frames:
        assert {p for p in visible(Image.open(folder / frame.file)) if p[3]} <= own
    assert outside.is_error
    assert "from_path" in text_of(outside)
