"""What a tool answers: its metadata as JSON, and each sprite as an image an assistant can see.

Sprites are tiny (16x16 is 256 pixels) and assistants see small images badly,
so each one travels as a nearest-neighbour upscale (sharp pixels, at most
:data:`~dgx_pixels.pixel.preview.DEFAULT_TARGET` px on its longest side),
never resampled. The files on disk stay at true resolution; their paths are
in the metadata.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent
from PIL import Image

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.image_files import read_image
from dgx_pixels.pixel.preview import upscale

__all__ = ["MAX_IMAGES", "preview_content", "tool_errors", "tool_result"]

#: At most this many sprites travel as images in one result (all are named in the metadata).
MAX_IMAGES = 8


def preview_content(sprite: Image.Image) -> ImageContent:
    """``sprite`` upscaled with nearest-neighbour sampling, as MCP image content."""
    buf = io.BytesIO()
    upscale(sprite).save(buf, format="PNG")
    return ImageContent(
        type="image", data=base64.b64encode(buf.getvalue()).decode("ascii"), mime_type="image/png"
    )


def tool_result(
    metadata: dict[str, Any], sprites: Sequence[Path | Image.Image] = ()
) -> CallToolResult:
    """The metadata (as text and as structured content) and up to :data:`MAX_IMAGES` previews."""
    content: list[ContentBlock] = [TextContent(type="text", text=json.dumps(metadata, indent=2))]
    for sprite in sprites[:MAX_IMAGES]:
        image = read_image(sprite) if isinstance(sprite, Path) else sprite
        content.append(preview_content(image))
    return CallToolResult(content=content, structured_content=metadata)


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """Turn a :class:`DgxPixelsError` into the tool error the client reads (one line, no trace)."""
    try:
        yield
    except DgxPixelsError as exc:
        raise ToolError(f"{type(exc).__name__}: {exc.message}") from None
