"""Private helpers shared by the pixel modules: images <-> arrays, checks, neighbours.

Every public pixel function takes a :class:`PIL.Image.Image` and returns a new
one. Inside, the work happens on ``uint8`` RGBA arrays of shape ``(h, w, 4)``;
these helpers do the conversions and the few checks every function needs.

>>> from PIL import Image
>>> a = rgba_array(Image.new("RGB", (3, 2), (1, 2, 3)))
>>> a.shape, a[0, 0].tolist()
((2, 3, 4), [1, 2, 3, 255])
>>> to_image(a).size
(3, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from dgx_pixels._pixel_options import parse_hex_colour
from dgx_pixels.errors import InputError

__all__ = [
    "U8",
    "Bool",
    "Float",
    "check_image",
    "check_size",
    "label_components",
    "neighbour_count",
    "opaque_mask",
    "parse_hex_colour",
    "pixels_array",
    "rgba_array",
    "shift",
    "to_image",
]

U8 = NDArray[np.uint8]
Float = NDArray[np.float64]
Bool = NDArray[np.bool_]

#: Alpha at or above this counts as opaque when alpha is binarised.
ALPHA_THRESHOLD = 128


def check_image(image: Any, *, name: str = "image") -> Image.Image:
    """Return ``image`` if it is a non-empty PIL image, else raise :class:`InputError`."""
    if not isinstance(image, Image.Image):
        raise InputError(f"{name} must be a PIL.Image.Image, got {type(image).__name__}")
    if image.width < 1 or image.height < 1:
        raise InputError(f"{name} is empty ({image.width}x{image.height})")
    return image


def rgba_array(image: Image.Image) -> U8:
    """A fresh ``(h, w, 4)`` uint8 RGBA copy of ``image`` (never a view of it)."""
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    return np.array(rgba, dtype=np.uint8)


def pixels_array(image: Image.Image) -> U8:
    """The pixels to read a grid from: ``(h, w, 3)`` for an RGB image, else RGBA.

    An RGB picture (as generators deliver) is opaque: an alpha channel of 255
    would add nothing to any edge or cell colour, only a conversion and a
    quarter more work. A read-only view where Pillow allows it.

    >>> pixels_array(Image.new("RGB", (3, 2))).shape, pixels_array(Image.new("L", (3, 2))).shape
    ((2, 3, 3), (2, 3, 4))
    """
    return np.asarray(image if image.mode in ("RGB", "RGBA") else image.convert("RGBA"))


def to_image(array: NDArray[Any]) -> Image.Image:
    """An RGBA image from a ``(h, w, 4)`` array (values clipped to 0..255)."""
    a = np.asarray(array)
    if a.dtype != np.uint8:
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a), mode="RGBA")


def opaque_mask(rgba: U8) -> Bool:
    """Pixels whose alpha is at least :data:`ALPHA_THRESHOLD`."""
    mask: Bool = rgba[..., 3] >= ALPHA_THRESHOLD
    return mask


def shift(mask: NDArray[Any], dy: int, dx: int, *, fill: Any = 0) -> NDArray[Any]:
    """``mask`` moved by ``(dy, dx)``: ``out[y, x] = mask[y - dy, x - dx]``, ``fill`` outside.

    >>> shift(np.array([[1, 2], [3, 4]]), 0, 1).tolist()
    [[0, 1], [0, 3]]
    """
    h, w = mask.shape[:2]
    out = np.full_like(mask, fill)
    ys_dst = slice(max(dy, 0), h + min(dy, 0))
    ys_src = slice(max(-dy, 0), h + min(-dy, 0))
    xs_dst = slice(max(dx, 0), w + min(dx, 0))
    xs_src = slice(max(-dx, 0), w + min(-dx, 0))
    out[ys_dst, xs_dst] = mask[ys_src, xs_src]
    return out


#: The 4- and 8-neighbourhoods as (dy, dx) offsets.
N4 = ((-1, 0), (1, 0), (0, -1), (0, 1))
N8 = (*N4, (-1, -1), (-1, 1), (1, -1), (1, 1))


def neighbour_count(mask: Bool, *, connectivity: int = 8) -> NDArray[np.int64]:
    """How many of each pixel's neighbours are set in ``mask`` (outside counts as unset).

    >>> neighbour_count(np.eye(3, dtype=bool))[1].tolist()
    [2, 2, 2]
    """
    offsets = N8 if connectivity == 8 else N4
    m = mask.astype(np.int64)
    total = np.zeros_like(m)
    for dy, dx in offsets:
        total += shift(m, dy, dx)
    return total


def label_components(mask: Bool) -> tuple[NDArray[np.int64], int]:
    """Label the 4-connected regions of ``mask``: labels 1..n, 0 outside the mask.

    Run-based: each row's runs of set pixels are found at once, runs in
    neighbouring rows that overlap are joined, and the run graph is solved by
    min-label propagation with pointer jumping (a few rounds over a few
    thousand runs, not over every pixel). Labels are numbered in raster order.

    >>> m = np.array([[1, 1, 0, 1], [0, 0, 0, 1], [1, 0, 1, 1]], dtype=bool)
    >>> labels, n = label_components(m)
    >>> n, labels.tolist()
    (3, [[1, 1, 0, 2], [0, 0, 0, 2], [3, 0, 2, 2]])
    """
    h, w = mask.shape
    out = np.zeros((h, w), dtype=np.int64)
    if not mask.any():
        return out, 0
    # 1. runs: padded diff marks starts (+1) and ends (-1) in each row
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    start_r, start_c = np.nonzero(d == 1)
    _, end_c = np.nonzero(d == -1)  # same order: row-major, one end per start
    n_runs = start_r.size
    # 2. overlapping runs in consecutive rows (columns [s, e) intersect)
    row_first = np.searchsorted(start_r, np.arange(h + 1))
    pairs_a = []
    pairs_b = []
    for y in range(h - 1):
        a0, a1 = row_first[y], row_first[y + 1]
        b0, b1 = row_first[y + 1], row_first[y + 2]
        if a0 == a1 or b0 == b1:
            continue
        s_b, e_b = start_c[b0:b1], end_c[b0:b1]
        lo = np.searchsorted(end_c[a0:a1], s_b, side="right")
        hi = np.searchsorted(start_c[a0:a1], e_b, side="left")
        count = np.maximum(hi - lo, 0)
        if not count.any():
            continue
        b_idx = np.repeat(np.arange(b0, b1), count)
        offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        pairs_a.append(a0 + np.repeat(lo, count) + offsets)
        pairs_b.append(b_idx)
    labels = np.arange(n_runs)
    if pairs_a:
        pa, pb = np.concatenate(pairs_a), np.concatenate(pairs_b)
        # 3. min-label propagation over the run graph, with pointer jumping
        while True:
            m = np.minimum(labels[pa], labels[pb])
            new = labels.copy()
            np.minimum.at(new, pa, m)
            np.minimum.at(new, pb, m)
            new = new[new]
            new = new[new]
            if np.array_equal(new, labels):
                break
            labels = new
    # 4. paint the runs, renumbered 1..n in raster order
    roots, dense = np.unique(labels, return_inverse=True)
    out.reshape(-1)[np.flatnonzero(mask)] = np.repeat(dense.reshape(-1) + 1, end_c - start_c)
    return out, int(roots.size)


def check_size(size: object, image_size: tuple[int, int]) -> tuple[int, int]:
    """Check a target ``(width, height)`` against the input size; return it.

    >>> check_size((16, 8), (64, 64))
    (16, 8)
    >>> check_size((0, 8), (64, 64))
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: size must be at least 1x1, got 0x8
    """
    ok = (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in size)
    )
    if not ok:
        raise InputError(f"size must be a (width, height) pair of integers, got {size!r}")
    w, h = int(size[0]), int(size[1])  # type: ignore[index]
    if w < 1 or h < 1:
        raise InputError(f"size must be at least 1x1, got {w}x{h}", option="size")
    iw, ih = image_size
    if w > iw or h > ih:
        raise InputError(f"size {w}x{h} is larger than the {iw}x{ih} input", option="size")
    return w, h
