"""One colour per grid cell, read robustly from the cell's inner region.

AI "pixel art" has blurred cell edges, noise and JPEG ringing, so the colour of
a cell is read from its central part only (the middle half along each axis),
from up to ``SAMPLES x SAMPLES`` evenly spaced pixels, as the per-channel
median. The median ignores up to half the samples, so a boundary that is off by
a pixel or two, a speck of noise or a ringing halo does not move the colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from dgx_pixels.errors import InputError

__all__ = ["SAMPLES", "read_cells", "read_shifted_rows", "sample_cells", "size_from_scale"]

#: Samples per axis and cell (at most): 8 x 8 = 64 pixels per cell.
SAMPLES = 8
#: Share of the cell kept at its centre along each axis.
INNER = 0.5
#: Cells whose spread :func:`cell_noise` measures (at most; evenly spread).
NOISE_CELLS = 256
#: A row of cells whose column edges sit mid-cell, with this many times the
#: edge energy they have on the grid's boundaries, was drawn half a cell off.
SHIFTED = 2.0


def _samples_per_axis(bounds: Sequence[int]) -> int:
    """As many samples as the narrowest cell's inner part has pixels, 1 to SAMPLES."""
    narrowest = int(np.min(np.diff(np.asarray(bounds))))
    return int(min(SAMPLES, max(1, int(narrowest * INNER))))


def _sample_positions(bounds: Sequence[int], samples: int) -> NDArray[np.intp]:
    """Pixel indices, shape ``(cells, samples)``, spread over each cell's inner part."""
    b = np.asarray(bounds, dtype=np.float64)
    start, width = b[:-1], np.diff(b)
    margin = width * (1 - INNER) / 2
    inner = np.maximum(width - 2 * margin, 1.0)
    t = (np.arange(samples) + 0.5) / samples
    pos = start[:, None] + margin[:, None] + inner[:, None] * t[None, :]
    last = b[1:, None] - 1
    return np.clip(np.floor(pos), start[:, None], last).astype(np.intp)


def sample_cells(
    rgba: NDArray[np.uint8], xs: Sequence[int], ys: Sequence[int]
) -> NDArray[np.uint8]:
    """The robust colour of every cell of the grid ``xs`` x ``ys``.

    Parameters
    ----------
    rgba : ndarray of uint8, shape (H, W, 4) or (H, W, 3)
        The large image (RGB: opaque).
    xs, ys : sequence of int
        Strictly increasing cell boundaries in pixels, ``xs[0] >= 0`` and
        ``xs[-1] <= W`` (likewise ``ys`` with ``H``).

    Returns
    -------
    ndarray of uint8, shape (len(ys) - 1, len(xs) - 1, 4)
        One RGBA colour per cell; fully transparent cells are ``(0, 0, 0, 0)``.

    Examples
    --------
    >>> big = np.zeros((6, 9, 4), np.uint8); big[:, 3:6] = 255
    >>> sample_cells(big, [0, 3, 6, 9], [0, 6])[0, :, 0].tolist()
    [0, 255, 0]
    """
    return read_cells(rgba, xs, ys)[0]


def read_cells(
    rgba: NDArray[np.uint8], xs: Sequence[int], ys: Sequence[int]
) -> tuple[NDArray[np.uint8], float]:
    """:func:`sample_cells`, and the noise inside the cells.

    The noise is the mean absolute deviation of an opaque cell's samples
    from their median, in sRGB levels (the median over up to ``NOISE_CELLS``
    evenly spread cells of their mean over channels): 0 for a clean upscale,
    whose cells are flat, a level or more for a generator's picture.

    >>> rng = np.random.default_rng(0)
    >>> flat = np.full((32, 32, 4), 200, np.uint8); flat[..., 3] = 255
    >>> noisy = flat.copy(); noisy[..., :3] += rng.integers(0, 9, (32, 32, 3), dtype=np.uint8)
    >>> read_cells(flat, [0, 16, 32], [0, 16, 32])[1], round(read_cells(noisy, [0, 32], [0, 32])[1])
    (0.0, 2)
    """
    px = _sample_positions(xs, _samples_per_axis(xs))
    py = _sample_positions(ys, _samples_per_axis(ys))
    h, ky = py.shape
    w, kx = px.shape
    patch = rgba[py.reshape(-1)[:, None], px.reshape(-1)[None, :]]  # (h*ky, w*kx, 4)
    channels = rgba.shape[2]
    patch = patch.reshape(h, ky, w, kx, channels).transpose(0, 2, 1, 3, 4)
    patch = patch.reshape(h * w, ky * kx, channels)
    median = np.median(patch, axis=1)
    out: NDArray[np.uint8] = np.full((h, w, 4), 255, np.uint8)
    out[..., :channels] = np.rint(median).reshape(h, w, channels)
    if channels == 3:  # an RGB picture: every cell is opaque
        opaque = np.arange(h * w)
    else:
        out[out[..., 3] == 0] = 0
        opaque = np.flatnonzero(patch[:, :, 3].min(axis=1) == 255)
    if opaque.size == 0:
        return out, 0.0
    some = opaque[:: max(1, opaque.size // NOISE_CELLS)]
    chosen = patch[some, :, :3].astype(np.float64)
    deviation = np.mean(np.abs(chosen - median[some, None, :3]), axis=(1, 2))
    return out, float(np.median(deviation))


def read_shifted_rows(
    rgba: NDArray[np.uint8], xs: Sequence[int], ys: Sequence[int], cells: NDArray[np.uint8]
) -> NDArray[np.uint8]:
    """``cells`` with the rows of cells drawn half a cell off read where they were drawn.

    Some generators draw a band of rows half a cell to one side of the
    picture's lattice (blocks on two lattices). Read on the lattice, each of
    those cells mixes two of the sprite's. A row is shifted when, on two
    lines through its cells' centres, the column edges sit mid-cell: their
    energy there is over ``SHIFTED`` times their energy on the boundaries.
    Such rows are read again with the column boundaries half a cell to the
    right and to the left, and each band of them keeps the side whose colours
    continue the rows above and below it (the art is continuous; the wrong
    side reads every cell one column off).
    """
    bounds = np.asarray(xs)
    width = rgba.shape[1]
    if bounds.size < 3:
        return cells
    centres = (np.asarray(ys[:-1]) + np.asarray(ys[1:])) // 2
    lines = rgba[centres]
    step = np.maximum(lines[:, :-1], lines[:, 1:])
    step -= np.minimum(lines[:, :-1], lines[:, 1:])
    profile = step.sum(axis=2, dtype=np.int32)
    mids = (bounds[:-1] + bounds[1:]) // 2
    on = _peak(profile, bounds[1:-1]).mean(axis=1)
    off = _peak(profile, mids[1:-1]).mean(axis=1)
    shifted = off > SHIFTED * np.maximum(on, 1.0)
    if not shifted.any():
        return cells
    out = cells.copy()
    half = round(float(np.mean(np.diff(bounds))) / 2)
    rows = np.flatnonzero(shifted)
    # Bands: runs of consecutive shifted rows.
    for band in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1):
        top, bottom = int(band[0]), int(band[-1]) + 1
        sub = ys[top : bottom + 1]
        near = [r for r in (top - 1, bottom) if 0 <= r < len(centres) and not shifted[r]]
        best: tuple[float, NDArray[np.uint8]] | None = None
        for moved in (np.minimum(bounds + half, width), np.maximum(bounds - half, 0)):
            if np.any(np.diff(moved) <= 0):
                continue
            again = read_cells(rgba, moved.tolist(), sub)[0]
            edge = [again[0] if r < top else again[-1] for r in near]
            cost = sum(
                float(np.abs(e.astype(np.int16) - cells[r].astype(np.int16)).mean())
                for e, r in zip(edge, near, strict=True)
            )
            if best is None or cost < best[0]:
                best = (cost, again)
        if best is not None:
            out[top:bottom] = best[1]
    return out


def _peak(profile: NDArray[np.int32], at: NDArray[np.intp]) -> NDArray[np.float64]:
    """Each row's edge energy at boundaries ``at``: its largest within a pixel either side."""
    last = profile.shape[1] - 1
    near = [profile[:, np.clip(at - 1 + d, 0, last)] for d in (-1, 0, 1)]
    out: NDArray[np.float64] = np.maximum.reduce(near).astype(np.float64)
    return out


def size_from_scale(scale: float, image_size: tuple[int, int]) -> tuple[int, int]:
    """The cells ``(columns, rows)`` of an image of ``image_size`` at ``scale`` pixels a cell.

    Used by every step that takes a scale (``restore`` and ``PixelSpec``), so a
    scale that leaves no whole cell is an error everywhere, never a 1x1 sprite.

    >>> size_from_scale(8, (64, 40))
    (8, 5)
    >>> size_from_scale(200, (64, 64))
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: scale 200 is larger than the 64x64 image
    """
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise InputError(f"scale must be a finite number, got {scale!r}", option="scale")
    width, height = image_size
    if scale < 1:
        raise InputError(f"scale must be at least 1, got {scale:g}", option="scale")
    cols, rows = round(width / scale), round(height / scale)
    if cols < 1 or rows < 1:
        raise InputError(
            f"scale {scale:g} is larger than the {width}x{height} image", option="scale"
        )
    return cols, rows
