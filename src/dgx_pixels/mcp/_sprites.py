"""The model-free sprite-set tools: ``animate`` and ``tileset`` (no model), ``sheet``, ``export``.

Each calls the very function its CLI command runs (``effect_asset``,
``template_asset``, ``sheet_asset``, :func:`~dgx_pixels.export.export`),
with the CLI's parameter names (``from_path`` is ``--from``, a Python
keyword), in a worker thread. Every path is confined to the project root.
The generated (model) forms run as worker jobs: ``generate_animation``,
``generate_tiles`` and ``generate_tileset`` (``_sets.py``).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult
from PIL import Image
from pydantic import Field

from dgx_pixels.cli._animate import effect_asset
from dgx_pixels.cli._sheet import MAX_INPUTS, sheet_asset
from dgx_pixels.cli._tileset import template_asset
from dgx_pixels.export import MAX_ASSETS, export
from dgx_pixels.mcp._images import PathText
from dgx_pixels.mcp._results import tool_errors, tool_result
from dgx_pixels.mcp._root import ProjectRoot

__all__ = ["register_sprite_tools"]

#: The asset files a result names at most (all are on disk).
MAX_LISTED = 256

#: The model-free effects (``sprites.EFFECTS``) and the export targets (``export.TARGETS``);
#: tests/mcp_server pins both to the library's.
Effect = Literal[
    "idle-bob", "hit-flash", "squash-stretch", "blink",
    "dissolve", "fade-out", "palette-swap", "outline-pulse",
]  # fmt: skip
Target = Literal["bevy", "godot", "tiled", "texturepacker", "aseprite"]


def _out_dir(root: ProjectRoot, out: str | None) -> Path:
    """``out`` inside the root, or the CLI's default ``outputs/DATE`` under it."""
    return root.inside(out or f"outputs/{datetime.date.today().isoformat()}", what="out")


def _files(root: ProjectRoot, folder: Path) -> list[str]:
    return [root.relative(p) for p in sorted(folder.rglob("*")) if p.is_file()][:MAX_LISTED]


def register_sprite_tools(server: MCPServer, root: ProjectRoot) -> None:
    """Add the model-free sprite-set tools to ``server``, every path confined to ``root``."""

    @server.tool()
    async def animate(
        from_path: PathText,
        effect: Effect,
        frames: Annotated[int, Field(ge=2, le=16)] | None = None,
        fps: Annotated[float, Field(ge=0.1, le=100)] | None = None,
        preview_scale: Annotated[int, Field(ge=1, le=32)] = 8,
        out: PathText | None = None,
        force: bool = False,
    ) -> CallToolResult:
        """A model-free effect of a sprite as an animation asset (as `animate --from --effect`).

        FROM_PATH is the sprite (the CLI's --from, a true-resolution PNG);
        the asset folder goes inside OUT (default outputs/DATE). Returns the
        folder, its files, and the frames enlarged.
        """
        with tool_errors():
            source = root.inside(from_path, what="from_path")
            out_dir = _out_dir(root, out)

            def work() -> tuple[Path, list[Image.Image]]:
                return effect_asset(source, effect, frames, fps, preview_scale, out_dir, force)

            folder, made = await anyio.to_thread.run_sync(work)
            metadata = {
                "asset": root.relative(folder),
                "files": _files(root, folder),
                "frames": len(made),
                "size": list(made[0].size),
            }
            return tool_result(metadata, made)

    @server.tool()
    async def tileset(
        from_template: PathText,
        layout: Literal["blob47", "wang16"] = "blob47",
        base: PathText | None = None,
        names: Annotated[str, Field(min_length=3, max_length=100)] = "terrain,ground",
        preview_size: Annotated[str, Field(min_length=1, max_length=16)] = "12x8",
        seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0,
        out: PathText | None = None,
        force: bool = False,
    ) -> CallToolResult:
        """An autotile set from an RPG Maker A2-style template (as `tileset --from-template`).

        Quarter-tile assembly of every tile of LAYOUT. The asset folder goes
        inside OUT (default outputs/DATE). Returns the folder, its files and
        the painted preview map.
        """
        with tool_errors():
            template = root.inside(from_template, what="from_template")
            ground = root.inside(base, what="base") if base is not None else None
            out_dir = _out_dir(root, out)

            def work() -> tuple[Path, int, tuple[int, int]]:
                return template_asset(
                    template, layout, ground, names, preview_size, seed, out_dir, force
                )

            folder, count, size = await anyio.to_thread.run_sync(work)
            metadata = {
                "asset": root.relative(folder),
                "files": _files(root, folder),
                "tiles": count,
                "size": list(size),
            }
            return tool_result(metadata, [folder / "preview.png"])

    @server.tool()
    async def sheet(
        frames: Annotated[list[PathText], Field(min_length=1, max_length=MAX_INPUTS)],
        out: PathText,
        packing: Literal["grid", "tight"] = "grid",
        columns: Annotated[int, Field(ge=1, le=MAX_INPUTS)] | None = None,
        padding: Annotated[int, Field(ge=0, le=64)] = 0,
        extrude: Annotated[int, Field(ge=0, le=64)] = 0,
        pow2: bool = False,
        trim: bool = False,
        fps: Annotated[float, Field(ge=0.1, le=1000)] = 10.0,
        force: bool = False,
    ) -> CallToolResult:
        """Pack FRAMES (PNGs of one size, in order) into the asset folder OUT (as `sheet`).

        Returns the folder, its files and the sheet enlarged.
        """
        with tool_errors():
            sources = [root.inside(f, what="frames") for f in frames]
            target = root.inside(out, what="out")

            def work() -> tuple[Path, int, tuple[int, int]]:
                return sheet_asset(
                    sources, target, packing, columns, padding, extrude, pow2, trim, fps, force
                )

            folder, count, size = await anyio.to_thread.run_sync(work)
            metadata = {
                "asset": root.relative(folder),
                "files": _files(root, folder),
                "frames": count,
                "sheet_size": list(size),
            }
            return tool_result(metadata, [folder / "sheet.png"])

    @server.tool(name="export")
    async def export_tool(
        assets: Annotated[list[PathText], Field(min_length=1, max_length=MAX_ASSETS)],
        to: Target,
        project: PathText | None = None,
        out: PathText | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> dict[str, Any]:
        """Export ASSETS (folders, manifests, sidecars or sprite PNGs) for an engine (as `export`).

        Exactly one of PROJECT (a game project folder: each asset goes to
        PROJECT/assets/<asset>/) or OUT (a folder, or the main file itself).
        No existing file is replaced without FORCE; DRY_RUN writes nothing.
        Returns every file written (or, with DRY_RUN, that would be).
        """
        with tool_errors():
            sources = [root.inside(a, what="assets") for a in assets]
            place = root.inside(project, what="project") if project is not None else None
            target = root.inside(out, what="out") if out is not None else None

            def work() -> dict[str, Any]:
                result = export(
                    sources, to=to, project=place, out=target, force=force, dry_run=dry_run
                )
                return {
                    "target": result.target,
                    "dry_run": result.dry_run,
                    "files": [
                        {"path": root.relative(w.path), "action": w.action, "what": w.what}
                        for w in result.files
                    ],
                    "note": result.note,
                }

            return await anyio.to_thread.run_sync(work)
