"""Exact sprite pictures for a terminal: half-block rows and padded graphics images.

A terminal cell drawn with the upper half block ``▀`` shows two pixels, the
foreground above the background, so one cell is exactly 1x2 sprite pixels.
:func:`halfblock_rows` draws a sprite that way (``zoom`` repeats each pixel,
nearest only); transparent pixels show a checkerboard, so transparency is
visible pixel by pixel. :func:`graphics_picture` prepares a sprite for Kitty
or Sixel: scaled by a whole number (nearest) and padded to whole cells, so the
graphics library draws it at exactly its size and never resamples it.

>>> from PIL import Image
>>> sprite = Image.new("RGBA", (2, 2), (255, 0, 0, 255))
>>> [[seg.text for seg in row] for row in halfblock_rows(sprite)]
[['▀▀']]
>>> halfblock_size((32, 48), zoom=2)
(64, 48)
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

__all__ = [
    "CHECKER",
    "MAX_ZOOM",
    "composite",
    "fit_zoom",
    "graphics_picture",
    "halfblock_rows",
    "halfblock_size",
    "thumbnail",
]

#: The two greys of the checkerboard behind transparent pixels.
CHECKER = ((54, 54, 62), (38, 38, 44))
MAX_ZOOM = 16
_UPPER = "▀"


def halfblock_size(size: tuple[int, int], *, zoom: int = 1) -> tuple[int, int]:
    """The cells (columns, rows) a ``size`` sprite takes at ``zoom``."""
    w, h = size
    return w * zoom, math.ceil(h * zoom / 2)


def fit_zoom(size: tuple[int, int], cells: tuple[int, int], *, most: int = MAX_ZOOM) -> int:
    """The largest whole zoom (at least 1, at most ``most``) at which ``size`` fits ``cells``.

    >>> fit_zoom((32, 32), (80, 20))
    1
    >>> fit_zoom((16, 16), (80, 40))
    5
    """
    w, h = size
    cols, rows = cells
    zoom = min(cols // max(w, 1), (rows * 2) // max(h, 1), most)
    return max(1, zoom)


def thumbnail(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """``image`` scaled by a whole factor, nearest only, to the largest size within ``box``.

    A sprite smaller than ``box`` is enlarged ``k`` times; a larger one keeps
    every ``k``-th pixel (never a blend of pixels). The input is not changed.

    >>> thumbnail(Image.new("RGBA", (8, 8)), (16, 16)).size
    (16, 16)
    >>> thumbnail(Image.new("RGBA", (64, 32)), (16, 16)).size
    (16, 8)
    """
    w, h = image.size
    bw, bh = box
    if w <= bw and h <= bh:
        k = max(1, min(bw // w, bh // h, MAX_ZOOM))
        return image.resize((w * k, h * k), Image.Resampling.NEAREST)
    k = max(math.ceil(w / bw), math.ceil(h / bh))
    small = np.asarray(image.convert("RGBA"))[k // 2 :: k, k // 2 :: k]
    return Image.fromarray(np.ascontiguousarray(small), "RGBA")


def composite(image: Image.Image) -> np.ndarray:
    """``image`` over the checkerboard (one square per pixel), as an RGB uint8 array."""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
    h, w = rgba.shape[:2]
    parity = (np.arange(h)[:, None] + np.arange(w)[None, :]) % 2
    checker = np.asarray(CHECKER, dtype=np.float32)[parity]
    alpha = rgba[..., 3:4] / 255.0
    out: np.ndarray = np.rint(rgba[..., :3] * alpha + checker * (1.0 - alpha)).astype(np.uint8)
    return out


def halfblock_rows(image: Image.Image, *, zoom: int = 1) -> list[list[Segment]]:
    """``image`` as rows of ``▀`` cells, one cell per 1x2 pixels after a nearest ``zoom``.

    The input is not changed. Runs of equal cells share one segment.
    """
    if not 1 <= zoom <= MAX_ZOOM:
        raise ValueError(f"zoom must be between 1 and {MAX_ZOOM}, got {zoom}")
    rgba = image.convert("RGBA")
    if zoom > 1:
        rgba = rgba.resize((rgba.width * zoom, rgba.height * zoom), Image.Resampling.NEAREST)
    w, h = rgba.size
    pixels = composite(rgba).tolist()
    rows: list[list[Segment]] = []
    for y in range(0, h, 2):
        row: list[Segment] = []
        run_style: Style | None = None
        run = 0
        for x in range(w):
            top = pixels[y][x]
            bottom = pixels[y + 1][x] if y + 1 < h else None
            style = Style(
                color=Color.from_rgb(*top),
                bgcolor=None if bottom is None else Color.from_rgb(*bottom),
            )
            if style == run_style:
                run += 1
                continue
            if run_style is not None:
                row.append(Segment(_UPPER * run, run_style))
            run_style, run = style, 1
        if run_style is not None:
            row.append(Segment(_UPPER * run, run_style))
        rows.append(row)
    return rows


def graphics_picture(
    image: Image.Image, *, zoom: int, cell: tuple[int, int]
) -> tuple[Image.Image, int, int]:
    """``image`` for a graphics protocol: (picture, columns, rows).

    Each sprite pixel becomes a square of ``zoom * cell_height / 2`` screen
    pixels (the size it has as half blocks), nearest only; the picture is
    padded with the checkerboard to exactly ``columns x rows`` cells of
    ``cell`` (width, height) pixels, so drawing it needs no resampling.
    """
    cell_w, cell_h = cell
    if cell_w < 1 or cell_h < 1:
        raise ValueError(f"cell size must be positive, got {cell_w}x{cell_h}")
    side = max(1, round(cell_h / 2)) * zoom
    rgba = image.convert("RGBA")
    big = rgba.resize((rgba.width * side, rgba.height * side), Image.Resampling.NEAREST)
    cols, rows = math.ceil(big.width / cell_w), math.ceil(big.height / cell_h)
    canvas = Image.new("RGBA", (cols * cell_w, rows * cell_h), CHECKER[1] + (255,))
    checker = Image.new("RGBA", big.size, CHECKER[0] + (255,))
    canvas.paste(checker, (0, 0))
    canvas.alpha_composite(big, (0, 0))
    return canvas.convert("RGB"), cols, rows
