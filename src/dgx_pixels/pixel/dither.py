"""Dithering kernels: nearest colour, ordered (Bayer), Floyd–Steinberg.

These work on float arrays; :func:`dgx_pixels.pixel.quantize.map_to_palette`
wraps them for images. Every function returns palette *indices*. Colours are
*chosen* in OKLab (what looks closest), but dithering *mixes* in linear light,
as the eye does when it averages a pattern: a 25 % grey dithers to a quarter
of white pixels, not to the OKLab-lightness midpoint (which looks too bright).

Floyd–Steinberg is exact (the same result as the classic raster-order loop) yet
vectorised: pixel ``(y, x)`` needs only pixels with a smaller ``x + 2y``, so all
pixels on one "wavefront" ``x + 2y = t`` are done at once, ``w + 2h`` steps in all.

>>> bayer_matrix(2).tolist()
[[0.125, 0.625], [0.875, 0.375]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dgx_pixels import _pixel_options
from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import Bool, Float
from dgx_pixels.pixel.color import linear_to_srgb, srgb_to_oklab

__all__ = ["DITHER_MODES", "bayer_matrix", "floyd_steinberg", "nearest", "ordered"]

#: The dithering modes, as PixelSpec, GenerationRequest and the CLI name them.
DITHER_MODES = _pixel_options.DITHER_MODES

Index = NDArray[np.intp]

# Rows of pixels mapped per chunk, to bound memory at (chunk, n_colours) distances.
_CHUNK = 1 << 16


def nearest(lab: Float, palette_lab: Float) -> Index:
    """Index of the nearest palette colour (Euclidean OKLab) for each colour in ``lab``.

    >>> pal = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    >>> nearest(np.array([[0.2, 0, 0], [0.9, 0, 0]]), pal).tolist()
    [0, 1]
    """
    flat = lab.reshape(-1, 3)
    out = np.empty(flat.shape[0], dtype=np.intp)
    pal_sq = np.einsum("ij,ij->i", palette_lab, palette_lab)
    for start in range(0, flat.shape[0], _CHUNK):
        block = flat[start : start + _CHUNK]
        # |a - p|^2 = |a|^2 - 2 a.p + |p|^2 ; |a|^2 is the same for every p
        d = pal_sq[None, :] - 2.0 * (block @ palette_lab.T)
        out[start : start + _CHUNK] = np.argmin(d, axis=1)
    return out.reshape(lab.shape[:-1])


def bayer_matrix(n: int) -> Float:
    """The ``n x n`` Bayer threshold matrix (n a power of two), values in (0, 1).

    >>> bayer_matrix(4).shape, float(bayer_matrix(4).mean())
    ((4, 4), 0.5)
    """
    if n < 2 or n & (n - 1):
        raise InputError(f"Bayer matrix size must be a power of two >= 2, got {n}")
    m = np.array([[0, 2], [3, 1]], dtype=np.float64)
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    out: Float = (m + 0.5) / (n * n)
    return out


def ordered(linear: Float, palette_linear: Float, palette_lab: Float, *, size: int = 4) -> Index:
    """Ordered dithering between each pixel's two nearest palette colours.

    The two nearest colours are found in OKLab; the pixel's position ``t``
    between them is measured in *linear light* (projected onto the segment),
    and the Bayer threshold picks the second colour where it is below ``t``.
    Seen from a distance the pattern then has the pixel's true average light.

    >>> lin = np.array([[0.0, 0, 0], [1.0, 1, 1]])
    >>> lab = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    >>> idx = ordered(np.full((4, 4, 3), 0.25), lin, lab)
    >>> float(idx.mean())   # a quarter of the light: a quarter of the pixels white
    0.25
    """
    h, w = linear.shape[:2]
    if len(palette_lab) == 1:
        return np.zeros((h, w), dtype=np.intp)
    lab = srgb_to_oklab(linear_to_srgb(linear))
    first, second = _two_nearest(lab, palette_lab)
    c1, c2 = palette_linear[first], palette_linear[second]
    seg = c2 - c1
    denom = np.einsum("...i,...i->...", seg, seg)
    t = np.einsum("...i,...i->...", linear - c1, seg) / np.where(denom > 1e-12, denom, np.inf)
    t = np.clip(t, 0.0, 1.0)
    threshold = np.tile(bayer_matrix(size), (h // size + 1, w // size + 1))[:h, :w]
    return np.where(threshold < t, second, first)


def _two_nearest(lab: Float, palette_lab: Float) -> tuple[Index, Index]:
    """The nearest and second-nearest palette index of each colour (OKLab)."""
    flat = lab.reshape(-1, 3)
    first = np.empty(flat.shape[0], dtype=np.intp)
    second = np.empty(flat.shape[0], dtype=np.intp)
    pal_sq = np.einsum("ij,ij->i", palette_lab, palette_lab)
    for start in range(0, flat.shape[0], _CHUNK):
        d = pal_sq[None, :] - 2.0 * (flat[start : start + _CHUNK] @ palette_lab.T)
        two = np.argpartition(d, 1, axis=1)[:, :2]
        rows = np.arange(two.shape[0])
        swap = d[rows, two[:, 0]] > d[rows, two[:, 1]]
        two[swap] = two[swap][:, ::-1]
        first[start : start + _CHUNK] = two[:, 0]
        second[start : start + _CHUNK] = two[:, 1]
    shape = lab.shape[:-1]
    return first.reshape(shape), second.reshape(shape)


def floyd_steinberg(
    linear: Float, palette_linear: Float, palette_lab: Float, *, mask: Bool | None = None
) -> Index:
    """Floyd–Steinberg error diffusion: colours chosen in OKLab, error carried in
    linear light (so the dithered area keeps its average light), in raster order,
    exact and vectorised.

    Pixels outside ``mask`` (transparent ones) are skipped: they neither take
    nor pass on error.

    >>> lin = np.array([[0.0, 0, 0], [1.0, 1, 1]])
    >>> lab = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    >>> idx = floyd_steinberg(np.full((16, 16, 3), 0.25), lin, lab)
    >>> round(float(idx.mean()), 2)  # about a quarter white (error at the edges is lost)
    0.28
    """
    h, w = linear.shape[:2]
    m = np.ones((h, w), dtype=bool) if mask is None else mask
    # padded: one column each side, one row below, so the four targets never fall off
    err = np.zeros((h + 1, w + 2, 3))
    live = np.zeros((h + 1, w + 2), dtype=bool)
    live[:h, 1 : w + 1] = m
    out = np.zeros((h, w), dtype=np.intp)
    for t in range(w + 2 * h - 2):
        y_min = max(0, (t - (w - 1) + 1) // 2)
        y_max = min(h - 1, t // 2)
        if y_min > y_max:
            continue
        ys = np.arange(y_min, y_max + 1)
        xs = t - 2 * ys
        keep = m[ys, xs]
        ys, xs = ys[keep], xs[keep]
        if ys.size == 0:
            continue
        value = np.clip(linear[ys, xs] + err[ys, xs + 1], 0.0, 1.0)
        idx = nearest(srgb_to_oklab(linear_to_srgb(value)), palette_lab)
        out[ys, xs] = idx
        e = value - palette_linear[idx]
        xp = xs + 1  # padded column of the pixel
        for dy, dx, weight in ((0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)):
            ty, tx = ys + dy, xp + dx
            ok = live[ty, tx]
            err[ty[ok], tx[ok]] += e[ok] * weight
    return out
