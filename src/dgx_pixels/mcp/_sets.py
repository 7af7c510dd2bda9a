"""The generated sprite-set tools: ``generate_animation``, ``generate_tiles``, ``generate_tileset``.

Like ``generate`` (``_generation.py``), each queues a job on the worker
(starting one when none answers), reports the job's progress (frame k of n,
tile k of n, drawing k of n) as MCP progress notifications, cancels the job
when the client cancels the call, and copies the finished asset folder into
OUT under the project root. The request and the set's options are checked
here first by the same function the CLI and the worker use
(``sprites.plan_set``). Parameter names are the CLI's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from dgx_pixels.assets import copy_asset
from dgx_pixels.errors import OutputExistsError
from dgx_pixels.mcp._generation import (
    MAX_PROMPT_CHARS,
    WorkerLink,
    _request_paths,
    follow_job,
)
from dgx_pixels.mcp._images import PaletteText, PathText, SizeText
from dgx_pixels.mcp._results import tool_errors, tool_result
from dgx_pixels.mcp._root import ProjectRoot

__all__ = ["register_set_tools"]

Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Steps = Annotated[int, Field(ge=1, le=200)]
Model = Annotated[str, Field(min_length=1, max_length=1000)]
#: The preview a result shows enlarged, per set.
_SHOWN = {"animate": "sheet.png", "tiles": "preview.png", "tileset": "preview.png"}


def register_set_tools(server: MCPServer, root: ProjectRoot, link: WorkerLink) -> None:
    """Add the generated set tools to ``server``: files in ``root``, jobs on ``link``'s worker."""

    @server.tool()
    async def generate_animation(
        prompt: Prompt,
        ctx: Context,
        action: Annotated[str, Field(min_length=1, max_length=100)] = "idle",
        frames: Annotated[int, Field(ge=2, le=16)] = 4,
        directions: Literal[1, 4, 8] = 1,
        fps: Annotated[float, Field(ge=0.1, le=100)] | None = None,
        preview_scale: Annotated[int, Field(ge=1, le=32)] = 8,
        from_path: PathText | None = None,
        size: SizeText | None = None,
        seed: Seed | None = None,
        palette: PaletteText | None = None,
        model: Model | None = None,
        steps: Steps | None = None,
        out: PathText | None = None,
        force: bool = False,
    ) -> CallToolResult:
        """A character's animation drawn by the worker (as `animate PROMPT --submit`).

        FRAMES of ACTION in DIRECTIONS, one palette, as one asset folder inside
        OUT (default outputs/DATE): frames/, sheet.png, preview.gif,
        manifest.json. FROM_PATH (a sprite under the root, as `--from`) makes
        it the character, its palette kept exactly (SIZE is the sprite's; no
        PALETTE). SIZE defaults to 32. Progress is reported per frame;
        cancelling the call cancels the job.
        """
        options = {"action": action, "frames": frames, "directions": directions, "fps": fps,
                   "preview_scale": preview_scale}  # fmt: skip
        given = {"size": size, "seed": seed, "palette": palette, "model": model, "steps": steps}
        return await _run_set(
            ctx, root, link, "animate", prompt, given, options, out, force, from_path=from_path
        )

    @server.tool()
    async def generate_tiles(
        prompt: Prompt,
        ctx: Context,
        count: Annotated[int, Field(ge=1, le=16)] = 1,
        seamless: Literal["x", "y", "xy"] = "xy",
        preview_scale: Annotated[int, Field(ge=1, le=32)] = 4,
        size: SizeText = "32",
        seed: Seed | None = None,
        palette: PaletteText | None = None,
        model: Model | None = None,
        steps: Steps | None = None,
        out: PathText | None = None,
        force: bool = False,
    ) -> CallToolResult:
        """Seamless tiles drawn by the worker (as `tiles PROMPT --submit`): tile 0 and
        COUNT-1 variants sharing its palette and edges, as one asset inside OUT."""
        options = {"count": count, "preview_scale": preview_scale}
        given = {"size": size, "seed": seed, "palette": palette, "model": model, "steps": steps,
                 "seamless": seamless}  # fmt: skip
        return await _run_set(ctx, root, link, "tiles", prompt, given, options, out, force)

    @server.tool()
    async def generate_tileset(
        prompt: Prompt,
        over: Annotated[str, Field(min_length=1, max_length=500)],
        ctx: Context,
        layout: Literal["blob47", "wang16"] = "blob47",
        names: Annotated[str, Field(min_length=3, max_length=100)] | None = None,
        preview_size: Annotated[str, Field(min_length=1, max_length=16)] = "12x8",
        size: SizeText = "16",
        seed: Seed | None = None,
        palette: PaletteText | None = None,
        model: Model | None = None,
        steps: Steps | None = None,
        out: PathText | None = None,
        force: bool = False,
    ) -> CallToolResult:
        """An autotile set generated by the worker (as `tileset PROMPT --over OVER --submit`):
        terrain PROMPT over terrain OVER, transitions inpainted, one palette, one asset."""
        from dgx_pixels.cli._params import parse_size

        with tool_errors():
            columns, rows = parse_size(preview_size, option="preview_size")
        options = {"over": over, "layout": layout, "names": names,
                   "preview_size": [columns, rows]}  # fmt: skip
        given = {"size": size, "seed": seed, "palette": palette, "model": model, "steps": steps}
        return await _run_set(ctx, root, link, "tileset", prompt, given, options, out, force)


async def _run_set(
    ctx: Context,
    root: ProjectRoot,
    link: WorkerLink,
    task: str,
    prompt: str,
    given: dict[str, Any],
    options: dict[str, Any],
    out: str | None,
    force: bool,
    *,
    from_path: str | None = None,
) -> CallToolResult:
    """Check, queue and follow one set job; copy its asset into OUT under the root.

    ``from_path``: an animation's character sprite, inside the root (sent with the job).
    """
    from dgx_pixels.cli._params import parse_size
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import plan_set, set_request

    with tool_errors():
        # 1. The request, as the command builds it, checked in full; paths inside the root.
        fields = {k: v for k, v in given.items() if v is not None}
        source = sprite = None
        if from_path is not None:  # its colours become the palette (plan_set checks it)
            source = root.inside(from_path, what="from_path")
            sprite = read_image(source)
            fields.setdefault("palette", None)
        size = fields.get("size", "32" if sprite is None else f"{sprite.width}x{sprite.height}")
        fields["size"] = parse_size(size, option="size")
        out_dir = root.inside(out or f"outputs/{dt.date.today().isoformat()}", what="out")
        async with link.client() as client:
            pong = await link.ensure(client)
            fields.setdefault("model", pong.model)
            request = _request_paths(root, set_request(task, prompt, fields))
            name = None if source is None else root.relative(source)
            plan = plan_set(task, request, options, from_sprite=sprite, from_name=name)
            folder = out_dir / plan.name
            if folder.exists() and not force:
                raise OutputExistsError(f"{root.relative(folder)} already exists; use force")
            # 2. Queue it, and follow it until it ends.
            job = await client.submit_set(
                task, plan.request, dict(plan.options), force=force, from_file=source
            )
            final = await follow_job(client, job, ctx, total=plan.units)
        # 3. The worker wrote into its own data dir: copy the asset folder into OUT.
        copied = await anyio.to_thread.run_sync(
            lambda: copy_asset(final.outputs[0], folder, force=force)
        )
        metadata = {
            "job": final.id,
            "asset": root.relative(copied),
            "files": [root.relative(f) for f in sorted(copied.rglob("*")) if f.is_file()],
            "request": plan.request.to_dict(),
            "options": dict(plan.options),
            "seconds": round((final.finished or 0.0) - (final.started or 0.0), 3),
        }
        shown = [Path(copied / _SHOWN[task])]
        return await anyio.to_thread.run_sync(lambda: tool_result(metadata, shown))
