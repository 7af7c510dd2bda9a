"""The pixel-art toolkit: NumPy and Pillow only, never torch.

Pure functions ``(image, *, options) -> new image``: deterministic, no hidden
state, the input is never changed. The steps, each usable alone:

- :func:`restore` finds the cell grid of AI "pseudo pixel art" (or takes a
  known size/scale) and returns the true low-resolution sprite;
  :func:`detect_grid` is its first half.
- :func:`pixelize` / :func:`downscale` turn any picture into pixel art.
- :class:`Palette` (built-ins, .hex/.gpl/.pal files), :func:`extract_palette`
  (N colours, in OKLab) and :func:`map_to_palette` (with dithering).
- :func:`remove_background` (enclosed holes too), :func:`cleanup`,
  :func:`add_outline`, :func:`upscale` (nearest-neighbour preview).
- :func:`measure`: the pixel metrics tests and generated outputs are judged by.

:func:`to_pixel_art` composes them from one :class:`PixelSpec`;
:func:`lock_palette` makes a batch share one palette exactly.

>>> from PIL import Image
>>> big = Image.new("RGB", (64, 64), (255, 255, 255))
>>> big.paste((200, 30, 60), (16, 16, 48, 48))
>>> to_pixel_art(big, PixelSpec(size=(8, 8), palette="pico-8")).size
(8, 8)
"""

from __future__ import annotations

from dgx_pixels.pixel.alpha import binarize_alpha, estimate_background, remove_background
from dgx_pixels.pixel.cleanup import cleanup, remove_fringe, remove_strays
from dgx_pixels.pixel.grid import Grid, detect_grid
from dgx_pixels.pixel.metrics import PixelMetrics, measure
from dgx_pixels.pixel.outline import add_outline
from dgx_pixels.pixel.palette import (
    Palette,
    builtin_names,
    builtin_palette,
    palette_from_image,
    resolve_palette,
)
from dgx_pixels.pixel.pixelize import downscale, pixelize
from dgx_pixels.pixel.preview import upscale
from dgx_pixels.pixel.quantize import extract_palette, map_to_palette
from dgx_pixels.pixel.restore import RestoreResult, restore
from dgx_pixels.pixel.spec import PixelSpec, lock_palette, to_pixel_art

__all__ = [
    "Grid",
    "Palette",
    "PixelMetrics",
    "PixelSpec",
    "RestoreResult",
    "add_outline",
    "binarize_alpha",
    "builtin_names",
    "builtin_palette",
    "cleanup",
    "detect_grid",
    "downscale",
    "estimate_background",
    "extract_palette",
    "lock_palette",
    "map_to_palette",
    "measure",
    "palette_from_image",
    "pixelize",
    "remove_background",
    "remove_fringe",
    "remove_strays",
    "resolve_palette",
    "restore",
    "to_pixel_art",
    "upscale",
]
