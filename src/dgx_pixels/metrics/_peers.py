"""The restore tools compared in the evaluation, behind one signature.

Each tool is a function ``(image) -> image``: the degraded picture in, the
sprite it restores out, or an exception (a failure). Peers are imported only
when used (``pip install 'dgx-pixels[peers]'``) and are given their best
settings for this task, chosen on a separate tuning sample (see
``docs/restore-evaluation.md``):

- proper-pixel-art 2.0: ``pixelate`` with its defaults (dominant colour per
  cell, no palette quantisation, background kept).
- perfect-pixel 0.1: ``get_perfect_pixel(rgb)`` with its default
  ``sample_method="center"`` (it beat "median" and matched "majority", which
  is random); it reads RGB only, so its output is opaque.
- unfake 1.0: ``process_image`` with ``max_colors=256`` (no colour
  quantisation: its automatic colour count cost it 15-30 points of colour
  accuracy), auto scale detection, dominant-colour downscale.

``dgx-pixels-keep-colours`` is ours with each cell's own colour (restore
before it merged inks), for the palette columns' before and after.

``SETTINGS`` names them, so cached scores follow a change of settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Callable

import numpy as np
from PIL import Image

from dgx_pixels.pixel.restore import restore

__all__ = ["SETTINGS", "TOOLS", "Tool"]

Tool = Callable[[Image.Image], Image.Image]


def dgx_pixels(image: Image.Image) -> Image.Image:
    """Ours: detection with the default confidence threshold (a refusal fails)."""
    return restore(image).image


def dgx_pixels_keep_colours(image: Image.Image) -> Image.Image:
    """Ours without merging inks: each cell's own colour (restore before it merged them)."""
    return restore(image, merge_inks=False).image


def proper_pixel_art(image: Image.Image) -> Image.Image:
    from proper_pixel_art import PixelateConfig, pixelate

    result = pixelate(image, PixelateConfig())
    out: Image.Image = result.image
    return out


def perfect_pixel(image: Image.Image) -> Image.Image:
    from perfect_pixel import get_perfect_pixel

    rgb = np.asarray(image.convert("RGB"))
    with contextlib.redirect_stdout(io.StringIO()):
        width, height, out = get_perfect_pixel(rgb, sample_method="center")
    if width is None or height is None:
        raise RuntimeError("perfect-pixel found no grid")
    return Image.fromarray(np.ascontiguousarray(out).astype(np.uint8), "RGB")


def unfake(image: Image.Image) -> Image.Image:
    from unfake import process_image

    logging.getLogger("unfake").setLevel(logging.WARNING)
    logging.getLogger("unfake.pixel").setLevel(logging.WARNING)
    result = asyncio.run(process_image(image.convert("RGBA"), max_colors=256))
    out: Image.Image = result["image"]
    return out


SETTINGS: dict[str, str] = {
    "dgx-pixels": "restore(image)",
    "dgx-pixels-keep-colours": "restore(image, merge_inks=False)",
    "proper-pixel-art": "pixelate(image, PixelateConfig())",
    "perfect-pixel": "get_perfect_pixel(rgb, sample_method='center')",
    "unfake": "process_image(rgba, max_colors=256)",
}

TOOLS: dict[str, Tool] = {
    "dgx-pixels": dgx_pixels,
    "dgx-pixels-keep-colours": dgx_pixels_keep_colours,
    "proper-pixel-art": proper_pixel_art,
    "perfect-pixel": perfect_pixel,
    "unfake": unfake,
}
