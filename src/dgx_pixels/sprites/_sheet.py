"""Packing frames into one sheet (texture atlas): a grid or tight rectangles.

:func:`pack_sheet` is a pure function: frames in, a new sheet image and where
each frame lies out. Its numbers are the ones the manifest's ``sheet`` and
``frames[].rect`` carry (``docs/assets.md``).

>>> from PIL import Image
>>> frames = [Image.new("RGBA", (4, 4), (255, 0, 0, 255)) for _ in range(3)]
>>> packed = pack_sheet(frames, columns=2, padding=1, extrude=1)
>>> packed.image.size, packed.rects
((13, 13), ((1, 1, 4, 4), (8, 1, 4, 4), (1, 8, 4, 4)))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import check_image, opaque_mask, rgba_array, to_image

__all__ = ["MAX_SHEET_SIDE", "PACKINGS", "PackedSheet", "opaque_bbox", "pack_sheet"]

#: How frames are placed: a grid of equal cells, or tight rectangles.
PACKINGS = ("grid", "tight")
#: The largest sheet side written (image_files reads at most 8192 x 8192).
MAX_SHEET_SIDE = 8192
MAX_FRAMES = 4096

Rect = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class PackedSheet:
    """A packed sheet: the image, and per frame its ``rect`` in the sheet and
    ``source_rect`` inside its cell (the whole cell unless trimmed)."""

    image: Image.Image
    cell: tuple[int, int]
    rects: tuple[Rect, ...]
    source_rects: tuple[Rect, ...]
    packing: str
    columns: int | None
    rows: int | None
    padding: int
    extrude: int
    trimmed: bool


def opaque_bbox(image: Image.Image) -> Rect | None:
    """``(x, y, w, h)`` of the opaque pixels (alpha >= 128), or None when there are none.

    >>> from PIL import Image
    >>> im = Image.new("RGBA", (5, 5))
    >>> im.putpixel((1, 2), (9, 9, 9, 255)); im.putpixel((3, 3), (9, 9, 9, 255))
    >>> opaque_bbox(im), opaque_bbox(Image.new("RGBA", (2, 2)))
    ((1, 2, 3, 2), None)
    """
    mask = opaque_mask(rgba_array(image))
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    x0, y0 = int(xs.min()), int(ys.min())
    return x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1


def pack_sheet(
    frames: Sequence[Image.Image],
    *,
    packing: str = "grid",
    columns: int | None = None,
    padding: int = 0,
    extrude: int = 0,
    power_of_two: bool = False,
    trim: bool = False,
) -> PackedSheet:
    """Pack ``frames`` (all the same size) into one RGBA sheet.

    Parameters
    ----------
    frames : sequence of PIL.Image.Image
        1 to 4096 frames of one size, in order.
    packing : {"grid", "tight"}
        ``grid``: frame *i* in column ``i % columns``, row ``i // columns``.
        ``tight``: rectangles on shelves, tallest first, in the smallest sheet
        found; with ``trim`` each frame keeps only its opaque bounding box.
    columns : int, optional
        Grid columns (default: the smallest square grid that holds the frames).
    padding : int
        Transparent pixels between (extruded) frames, 0-64.
    extrude : int
        Pixels of each frame's edge repeated around it against texture
        bleeding, 0-64.
    power_of_two : bool
        Grow each side of the sheet to a power of two (transparent).
    trim : bool
        Only with ``tight``: drop each frame's transparent border.

    Examples
    --------
    >>> from PIL import Image
    >>> a = Image.new("RGBA", (8, 8)); a.paste((0, 0, 255, 255), (2, 2, 4, 6))
    >>> packed = pack_sheet([a, a], packing="tight", trim=True)
    >>> packed.rects, packed.source_rects[0]
    (((0, 0, 2, 4), (0, 4, 2, 4)), (2, 2, 2, 4))
    """
    # 1. Inputs, once.
    frames = [check_image(f, name="frame") for f in frames]
    if not 1 <= len(frames) <= MAX_FRAMES:
        raise InputError(f"a sheet holds 1-{MAX_FRAMES} frames, got {len(frames)}")
    cell = frames[0].size
    for i, f in enumerate(frames):
        if f.size != cell:
            raise InputError(
                f"every frame must be {cell[0]}x{cell[1]} like the first, "
                f"frame {i} is {f.width}x{f.height}"
            )
    if packing not in PACKINGS:
        raise InputError(f"packing must be grid or tight, got {packing!r}")
    for what, v in (("padding", padding), ("extrude", extrude)):
        if not 0 <= v <= 64:
            raise InputError(f"{what} must be 0-64, got {v}")
    if trim and packing != "tight":
        raise InputError("trimming needs tight packing (a grid keeps whole cells)")
    if columns is not None and (packing != "grid" or not 1 <= columns <= len(frames)):
        raise InputError(
            f"columns must be 1-{len(frames)} (the frame count) and only for a grid, got {columns}"
        )
    arrays = [rgba_array(f) for f in frames]
    # 2. Each frame's part: the whole cell, or its opaque box.
    # An empty frame trimmed keeps one transparent pixel: a rect is never empty.
    sources: list[Rect] = [
        (opaque_bbox(f) or (0, 0, 1, 1)) if trim else (0, 0, *cell) for f in frames
    ]
    # 3. Positions.
    pitch = 2 * extrude + padding
    cols: int | None
    rows: int | None
    if packing == "grid":
        cols = columns or math.ceil(math.sqrt(len(frames)))
        rows = math.ceil(len(frames) / cols)
        rects = tuple(
            (
                (i % cols) * (cell[0] + pitch) + extrude,
                (i // cols) * (cell[1] + pitch) + extrude,
                *cell,
            )
            for i in range(len(frames))
        )
        width = cols * (cell[0] + pitch) - padding
        height = rows * (cell[1] + pitch) - padding
    else:
        cols = rows = None
        rects, width, height = _shelf_pack([s[2:] for s in sources], extrude, padding)
    if power_of_two:
        width, height = 1 << (width - 1).bit_length(), 1 << (height - 1).bit_length()
    if width > MAX_SHEET_SIDE or height > MAX_SHEET_SIDE:
        raise InputError(
            f"the sheet would be {width}x{height}, larger than {MAX_SHEET_SIDE} a side; "
            "give fewer or smaller frames"
        )
    # 4. Paint: each part, with its edge repeated ``extrude`` times around it.
    sheet = np.zeros((height, width, 4), dtype=np.uint8)
    for array, (sx, sy, w, h), (x, y, _, _) in zip(arrays, sources, rects, strict=True):
        part = array[sy : sy + h, sx : sx + w]
        grown = np.pad(part, ((extrude, extrude), (extrude, extrude), (0, 0)), mode="edge")
        sheet[y - extrude : y + h + extrude, x - extrude : x + w + extrude] = grown
    return PackedSheet(
        image=to_image(sheet),
        cell=cell,
        rects=tuple(rects),
        source_rects=tuple(sources),
        packing=packing,
        columns=cols,
        rows=rows,
        padding=padding,
        extrude=extrude,
        trimmed=trim,
    )


def _shelf_pack(
    sizes: Sequence[tuple[int, int]], extrude: int, padding: int
) -> tuple[tuple[Rect, ...], int, int]:
    """Shelf packing, tallest first, trying sheet widths for 1 to 64 shelves and a few
    around the square, keeping the smallest area."""
    pitch = 2 * extrude + padding
    boxes = [(w + pitch, h + pitch) for w, h in sizes]
    order = sorted(range(len(sizes)), key=lambda i: (-boxes[i][1], -boxes[i][0], i))
    area = sum(w * h for w, h in boxes)
    widest = max(w for w, _ in boxes)
    total = sum(w for w, _ in boxes)
    limits = {math.ceil(total / k) for k in range(1, min(len(boxes), 64) + 1)}
    limits |= {math.ceil(math.sqrt(area) * scale) for scale in (0.8, 1.0, 1.2, 1.5, 2.0)}
    best: tuple[int, tuple[Rect, ...], int, int] | None = None
    for limit in sorted(max(widest, v) for v in limits):
        rects: list[Rect] = [(0, 0, 0, 0)] * len(sizes)
        x = y = shelf = used_w = 0
        for i in order:
            bw, bh = boxes[i]
            if x + bw > limit:
                x, y, shelf = 0, y + shelf, 0
            rects[i] = (x + extrude, y + extrude, *sizes[i])
            x += bw
            shelf = max(shelf, bh)
            used_w = max(used_w, x)
        width, height = used_w - padding, y + shelf - padding
        if best is None or width * height < best[0]:
            best = (width * height, tuple(rects), width, height)
    assert best is not None
    return best[1], best[2], best[3]
