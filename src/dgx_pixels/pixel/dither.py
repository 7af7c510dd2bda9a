"""Dithering kernels on OKLab arrays: nearest colour, ordered (Bayer), Floyd–Steinberg.

These work on float arrays; :func:`dgx_pixels.pixel.quantize.map_to_palette`
wraps them for images. Every function returns palette *indices*.

Floyd–Steinberg is exact (the same result as the classic raster-order loop) yet
vectorised: pixel ``(y, x)`` needs only pixels with a smaller ``x + 2y``, so all
pixels on one "wavefront" ``x + 2y = t`` are done at once, ``w + 2h`` steps in all.

>>> bayer_matrix(2).tolist()
[[0.125, 0.625], [0.875, 0.375]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import Bool, Float

__all__ = ["DITHER_MODES", "bayer_matrix", "floyd_steinberg", "nearest", "ordered"]

#: The dithering modes, as PixelSpec and the CLI name them.
DITHER_MODES = ("none", "ordered", "error-diffusion")

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


def palette_spacing(palette_lab: Float) -> float:
    """Median distance from each palette colour to its nearest other colour (OKLab).

    The typical step between neighbouring colours: how far ordered dithering
    must push a colour to reach the next one.

    >>> palette_spacing(np.array([[0.0, 0, 0], [0.5, 0, 0], [1.0, 0, 0]]))
    0.5
    """
    if len(palette_lab) < 2:
        return 0.0
    d = np.linalg.norm(palette_lab[:, None, :] - palette_lab[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def ordered(lab: Float, palette_lab: Float, *, size: int = 4, strength: float = 1.0) -> Index:
    """Ordered dithering: offset each pixel by its Bayer threshold, then take the nearest.

    The offset spans one palette step (:func:`palette_spacing`) times ``strength``
    on every OKLab axis, so flat areas between two palette colours become an
    even pattern of both.

    >>> pal = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    >>> idx = ordered(np.full((4, 4, 3), [0.5, 0, 0]), pal)
    >>> float(idx.mean())
    0.5
    """
    h, w = lab.shape[:2]
    m = bayer_matrix(size) - 0.5
    tiled = np.tile(m, (h // size + 1, w // size + 1))[:h, :w]
    offset = tiled[..., None] * (palette_spacing(palette_lab) * strength)
    return nearest(lab + offset, palette_lab)


def floyd_steinberg(lab: Float, palette_lab: Float, *, mask: Bool | None = None) -> Index:
    """Floyd–Steinberg error diffusion in OKLab, in raster order, exact and vectorised.

    Pixels outside ``mask`` (transparent ones) are skipped: they neither take
    nor pass on error.

    >>> pal = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    >>> idx = floyd_steinberg(np.full((16, 16, 3), [0.25, 0, 0]), pal)
    >>> round(float(idx.mean()), 2)  # about a quarter white; error at the edges is lost
    0.23
    """
    h, w = lab.shape[:2]
    m = np.ones((h, w), dtype=bool) if mask is None else mask
    # padded: one column each side, one row below, so the four targets never fall off
    err = np.zeros((h + 1, w + 2, 3))
    live = np.zeros((h + 1, w + 2), dtype=bool)
    live[:h, 1 : w + 1] = m
    out = np.zeros((h, w), dtype=np.intp)
    lo = np.array([0.0, -0.5, -0.5])
    hi = np.array([1.0, 0.5, 0.5])
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
        value = np.clip(lab[ys, xs] + err[ys, xs + 1], lo, hi)
        idx = nearest(value, palette_lab)
        out[ys, xs] = idx
        e = value - palette_lab[idx]
        xp = xs + 1  # padded column of the pixel
        for dy, dx, weight in ((0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)):
            ty, tx = ys + dy, xp + dx
            ok = live[ty, tx]
            err[ty[ok], tx[ok]] += e[ok] * weight
    return out
