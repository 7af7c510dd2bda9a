"""The pixel-toolkit tools: ``restore``, ``pixelize`` and ``palette_list/show/extract``.

They run here, in the server (the toolkit is NumPy and Pillow, no GPU), in a
worker thread so a long conversion never blocks the protocol. Parameter
names are those of the CLI commands of the same name.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from dgx_pixels.cli._params import parse_size, plan_outputs
from dgx_pixels.errors import InputError, PaletteError
from dgx_pixels.image_files import read_image, write_png
from dgx_pixels.mcp._results import tool_errors, tool_result
from dgx_pixels.mcp._root import MAX_PATH_CHARS, ProjectRoot
from dgx_pixels.pixel.metrics import colors_used
from dgx_pixels.pixel.palette import (
    FILE_FORMATS,
    MAX_COLOURS,
    Palette,
    builtin_names,
    builtin_palette,
    parse_auto,
    resolve_palette,
)
from dgx_pixels.pixel.pixelize import check_size
from dgx_pixels.pixel.quantize import extract_palette
from dgx_pixels.pixel.restore import DEFAULT_MIN_CONFIDENCE
from dgx_pixels.pixel.restore import restore as restore_image
from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art

__all__ = ["READ_ONLY", "palette_argument", "register_image_tools"]

PathText = Annotated[str, Field(min_length=1, max_length=MAX_PATH_CHARS)]
SizeText = Annotated[str, Field(min_length=1, max_length=16, description="32 or 32x48")]
PaletteText = Annotated[
    str,
    Field(min_length=1, max_length=MAX_PATH_CHARS, description="Built-in name, file, or auto:N"),
]
#: Tools that only read (an assistant may call them without asking).
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
Dither = Literal["none", "ordered", "error-diffusion"]
Background = Annotated[str, Field(max_length=16, description="keep, transparent or #rrggbb")]


def palette_argument(root: ProjectRoot, text: str | None) -> str | None:
    """``text`` as a palette for the toolkit: names as they are, files confined to ``root``.

    The same reading as :func:`~dgx_pixels.pixel.palette.resolve_palette`:
    ``auto:N``, a ``#rrggbb,...`` list and built-in names are not files.
    """
    if text is None:
        return None
    s = text.strip()
    if parse_auto(s) is not None or s.startswith("#") or "," in s:
        return s
    if Path(s).suffix.lower() in FILE_FORMATS or (root.path / s).exists():
        return str(root.inside(s, what="palette"))
    builtin_palette(s)  # an unknown name: the toolkit's own message
    return s


def register_image_tools(server: MCPServer, root: ProjectRoot) -> None:
    """Add the toolkit tools to ``server``, every path confined to ``root``."""

    @server.tool()
    async def restore(
        image: PathText,
        out: PathText | None = None,
        size: SizeText | None = None,
        scale: Annotated[float, Field(ge=1, le=1024)] | None = None,
        min_confidence: Annotated[float, Field(ge=0, le=1)] = DEFAULT_MIN_CONFIDENCE,
        background: Background = "keep",
        palette: PaletteText | None = None,
        dither: Dither = "none",
        force: bool = False,
    ) -> CallToolResult:
        """AI "pseudo pixel art" -> the true low-resolution sprite (as `dgx-pixels restore`).

        Finds the pixel grid of IMAGE (or uses the known size or scale) and
        writes the sprite to OUT (default: beside IMAGE, `-restored.png`).
        Paths are relative to the project root.
        """
        with tool_errors():
            if size is not None and scale is not None:
                raise InputError("give either size or scale, not both")
            source = root.inside(image, what="image")
            target = root.inside(
                out if out is not None else str(source.with_name(f"{source.stem}-restored.png")),
                what="out",
            )
            finish = None
            if background != "keep" or palette is not None:
                finish = PixelSpec(  # as the CLI: sample the restored sprite 1:1, no cleanup
                    size=(1, 1),
                    sampling="nearest",
                    background=background,
                    palette=palette_argument(root, palette),
                    dither=dither,
                    cleanup=False,
                )
            known = parse_size(size, option="size") if size is not None else None
            plan_outputs(source, target, None, force=force)

            def work() -> dict[str, Any]:
                result = restore_image(
                    read_image(source), size=known, scale=scale, min_confidence=min_confidence
                )
                sprite = result.image
                if finish is not None:
                    sprite = to_pixel_art(sprite, dataclasses.replace(finish, size=sprite.size))
                write_png(sprite, target, force=force)
                return {
                    "sprite": str(target),
                    "size": [sprite.width, sprite.height],
                    "grid": result.grid.describe(),
                    "confidence": round(result.confidence, 4),
                }

            metadata = await anyio.to_thread.run_sync(work)
            return tool_result(metadata, [target])

    @server.tool()
    async def pixelize(
        image: PathText,
        size: SizeText,
        out: PathText | None = None,
        palette: PaletteText | None = None,
        dither: Dither = "none",
        method: Literal["contrast", "median", "box", "nearest"] = "contrast",
        background: Background = "keep",
        outline: Annotated[str, Field(max_length=16)] | None = None,
        outline_side: Literal["outside", "inside"] = "outside",
        cleanup: bool = True,
        force: bool = False,
    ) -> CallToolResult:
        """Any image -> pixel art of SIZE, optionally on a palette (as `dgx-pixels pixelize`).

        Writes OUT (default: beside IMAGE, `-pixel.png`). Paths are relative
        to the project root.
        """
        with tool_errors():
            target_size = parse_size(size, option="size")
            spec = PixelSpec(
                size=target_size,
                palette=palette_argument(root, palette),
                dither=dither,
                background=background,
                outline=outline,
                outline_side=outline_side,
                cleanup=cleanup,
                sampling=method,
            )
            source = root.inside(image, what="image")
            target = root.inside(
                out if out is not None else str(source.with_name(f"{source.stem}-pixel.png")),
                what="out",
            )
            plan_outputs(source, target, None, force=force)

            def work() -> dict[str, Any]:
                picture = read_image(source)
                check_size(target_size, picture.size)
                sprite = to_pixel_art(picture, spec)
                write_png(sprite, target, force=force)
                return {
                    "sprite": str(target),
                    "size": list(target_size),
                    "colors": colors_used(sprite),
                }

            metadata = await anyio.to_thread.run_sync(work)
            return tool_result(metadata, [target])

    @server.tool(annotations=READ_ONLY)
    def palette_list() -> dict[str, Any]:
        """The built-in palettes: name and colour count (as `dgx-pixels palette list`)."""
        return {
            "palettes": [{"name": n, "colors": len(builtin_palette(n))} for n in builtin_names()]
        }

    @server.tool(annotations=READ_ONLY)
    def palette_show(name: PaletteText) -> dict[str, Any]:
        """The colours of NAME: a built-in, a .hex/.gpl/.pal file or '#rrggbb,...'."""
        with tool_errors():
            found = resolve_palette(palette_argument(root, name) or name)
            return {"name": found.name, "colors": found.hex_codes()}

    @server.tool()
    async def palette_extract(
        image: PathText,
        colors: Annotated[int, Field(ge=2, le=MAX_COLOURS)],
        out: PathText | None = None,
        seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0,
        force: bool = False,
    ) -> dict[str, Any]:
        """Extract COLORS colours from IMAGE (OKLab k-means, deterministic); OUT saves them.

        OUT is a .hex, .gpl or .pal file in the project root.
        """
        with tool_errors():
            source = root.inside(image, what="image")
            target = root.inside(out, what="out") if out is not None else None
            if target is not None and target.suffix.lower() not in FILE_FORMATS:
                raise PaletteError(
                    f"{target}: cannot save a palette as {target.suffix or '(no suffix)'!r}; "
                    f"use one of {', '.join(FILE_FORMATS)}"
                )
            if target is not None:
                plan_outputs(source, target, None, force=force)

            def work() -> dict[str, Any]:
                found = extract_palette(read_image(source), colors, seed=seed)
                result: dict[str, Any] = {"colors": found.hex_codes()}
                if target is not None:
                    named = Palette(source.stem, found.colors, locked=True)
                    result["palette"] = str(named.save(target, force=force))
                return result

            return await anyio.to_thread.run_sync(work)
