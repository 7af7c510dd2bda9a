"""Finding the cell boundaries along one axis of a large pixel-art image.

The input is the image's *edge profile* along the axis: for every pair of
neighbouring columns (or rows), the summed absolute colour difference between
them, taken over a few lines at a time so that noise partly cancels
(:func:`edge_profiles`). Cell boundaries are where that profile has its
peaks; inside a cell it stays at the noise floor. Three steps:

1. **Period.** The autocorrelation of the profile peaks at multiples of the
   cell size ``p``. Every candidate ``p`` (2 px to a quarter of the axis, in
   0.5 % steps) is scored by a comb: the mean of the autocorrelation at
   ``p, 2p, 3p...`` minus the higher of its mean at the half-way lags
   ``0.5p, 1.5p...`` and its maximum between the teeth. Half the period
   scores about half as well (every other tooth falls inside a cell), twice
   the period about zero (its half-way lags are boundaries too) and an odd
   multiple (3p, 5p: a repeated motif) is caught by the real boundaries
   between its teeth, so the best score is the fundamental.
2. **Boundaries.** Dynamic programming over boundary positions: choose
   increasing positions ``b_0 < b_1 < ...`` that maximise the profile summed
   at the boundaries minus a penalty ``LAMBDA * ((b_{j+1} - b_j) / p - 1)^2``,
   each spacing within ``[0.75 p, 1.25 p]``. Boundaries follow the real edges
   when they drift (cells of 31 and 32 px mixed). The fit is then redone with
   the spacing measured between the outermost real edges. Where the image is
   flat (a background has no edges to follow) the grid is continued by a
   model of the whole axis fitted to the real edges: a steady grid plus a
   small smooth drift that vanishes at the picture's ends, with the count of
   cells in each flat band that fits best (:func:`_drift_fill`); continuing
   the local spacing instead miscounts a drifting grid by a cell over a wide
   band. Border cells under half a cell wide are left out.
3. **Confidence.** The *coherence* of the edge energy with the boundaries:
   every unit of edge energy above the noise floor votes ``cos(2 pi t)``,
   where ``t`` is its position within its cell (0 at a boundary, 0.5 at the
   cell centre). Pixel art, even blurred, scores near 1. But boundaries that
   may drift also find some coherence in a photo's edges, so the same fit is
   run on a *null* profile (the profile cut into blocks of a quarter cell,
   shuffled with a fixed seed: same values, same blur, no grid), and the
   confidence is how far the real coherence gets from the null one towards
   1: ``(c - c_null) / (1 - c_null)``. A strong rigid grid (cells that do
   not drift) is also accepted on its Fourier coherence at the period, the
   length of the mean of ``exp(2 pi i x / p)`` over the edge energy, which
   is near 0 for edges that fall anywhere. The axis confidence is the larger
   of the two.

JPEG adds edges of its own on an 8 px lattice from the image origin. When the
profile shows them, the fit is also done on the profile with them taken out
(:func:`_deblock`), and the more trustworthy of the two fits is kept. A
lattice kept over a weaker deblocked grid gives way to it when the other axis
found the same cells on its own and the two together are sure enough
(:func:`_backed_off_lattice`): a dark, low-contrast picture's JPEG blocks can
outscore its cells along one axis and not the other.

The two axes are fitted apart, then checked together (:func:`fit_axes`): pixel
art's cells are square, bar a few old video modes (2:1). When one axis's
cells come out far from the other's (over ``MAX_ASPECT`` times), it is fitted
again with cells near the other axis's size and the better fit is kept. This
catches shading that repeats every few rows (the folds of a cloak make six
rows, or half a row, fit best along one axis alone) and JPEG's lattice found
along one axis only. Real 2:1 cells keep their own fit: squared cells would
split their edges and cohere less. One axis at half the other's cells whose
alternate boundaries carry the edges apart (every other one weak, or, band by
band across the picture, one set or the other) is a third case: blocks on two
lattices, some drawn half a cell off, and that axis takes every other boundary
of its fit, the set that meets the picture's ends in whole cells
(:func:`_halves`, :func:`_every_other`).

Two axes whose cells nearly agree but not quite (1-5 % apart) have the less
confident one fitted again from starts 2 % either side of its cell size
(:func:`_restarted`): cells that vary across a generator's picture can give
an axis two spacings that each refine to themselves (46 rows or 48), and the
more coherent one is kept.

A picture scaled up by a whole factor after it was drawn (a generator's 5.5 px
cells scaled 2x) has every edge on the factor's lattice, a stronger grid than
its real cells. When both axes hold nearly all their edge energy there, the
picture scaled back down is fitted instead, and its grid is kept when it is a
grid of its own (:func:`_upscaled`); a clean upscale of a sprite keeps the
lattice.

The grid's confidence combines both axes (:func:`joint_confidence`): two axes
that found the same cell size on their own back each other, which lets a
dark, low-contrast grid through that each axis alone would leave at 0.4-0.6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

__all__ = ["AxisFit", "edge_profiles", "fit_axes", "fit_axis", "joint_confidence"]

Float = NDArray[np.float64]

#: Lines summed into each profile: at most about this many (half the rows or
#: columns of a 1024 px image, in groups of ``EDGE_LINES``).
PROFILE_LINES = 512
#: Neighbouring lines whose signed differences are added up before their size
#: is taken (:func:`edge_profiles`).
EDGE_LINES = 4
#: Smallest cell size considered, in pixels.
MIN_PERIOD = 2.0
#: The grid must have at least this many cells along an axis.
MIN_CELLS = 4
#: Relative step between candidate periods.
PERIOD_STEP = 0.005
#: Largest window (lags either side) a comb tooth looks for its peak in.
MAX_RADIUS = 8
#: Comb teeth used to score a period.
TEETH = 12
#: Allowed spacing between boundaries, relative to the period.
SPACING = (0.75, 1.25)
#: Weight of the spacing penalty, in units of a typical boundary's edge energy.
LAMBDA = 4.0
#: A boundary whose edge energy reaches this (a typical boundary is 1) is backed
#: by a real edge.
SUPPORT = 0.3
#: A fit this confident is kept as it is (JPEG's block edges are not tried).
SURE = 0.8
#: Seed of the shuffle that makes the null profile (any fixed value will do).
NULL_SEED = 0
#: JPEG's largest block (colour planes subsampled 2x2) and how far above the
#: common level its block edges must rise to be taken out.
BLOCK = 16
BLOCKINESS = 0.1
#: A deblocked fit this confident replaces a raw fit that found JPEG's lattice.
LATTICE_SWITCH = 0.5
#: Share of a fit's boundaries on JPEG's 8 px phase that makes it the lattice.
LATTICE_PHASE = 0.8
#: A fit on JPEG's lattice this confident is a real grid of 8 (16) px cells.
LATTICE_SURE = 0.95
#: An edge cell narrower than this share of a cell is left out.
EDGE_CELL = 0.5
#: Cells longer along one axis than this many times the other are checked
#: against square cells, searched within ``SQUARE`` of the other axis's size.
MAX_ASPECT = 1.5
SQUARE = 0.1
#: Cells this share of the other axis's (half, give or take) may be the other's
#: cells with half-cell edges: they are when alternate boundaries hold under
#: ``ALTERNATE`` of the others' edge energy.
HALF = (0.4, 0.6)
ALTERNATE = 0.8
#: Bands across the axis in which the alternate boundaries are compared, and
#: the contrast between the two sets, band by band, that makes them two lattices.
BANDS = 8
SPLIT = 0.3
#: Two axes that found their cell sizes on their own, this close, back each other.
AGREE = 0.05
#: Two axes' cells further apart than this (but within ``AGREE``) have the less
#: confident axis fitted again from starts ``RESTART`` either side (:func:`_restarted`).
NEAR_SQUARE = 0.01
RESTART = 0.02
#: A picture scaled up by a whole factor after it was drawn (:func:`_upscaled`):
#: factors tried, the share of the edge energy that must sit on the factor's
#: lattice, and the least cell size (px of the smaller picture), count of cells
#: and joint confidence its own grid must have to be read instead of the
#: lattice (over a handful of cells, a clean sprite's own pixels find a
#: period of 4-6 at a confidence of 0.6-0.7 by chance).
UPSCALES = (2, 3, 4)
UPSCALED = 0.9
UPSCALED_CELL = 4.0
UPSCALED_CELLS = 16
UPSCALED_SURE = 0.5
#: Drift model for the flat bands (:func:`_drift_fill`): it needs this many real
#: edges; their positions' noise (px); the prior scale of its two drift terms
#: (cells: 1.2 is a bow of 0.3 cell, 6 an S of 0.3 cell); how softly a partial
#: end cell under half a cell or over a whole one is penalised (share of a cell).
DRIFT_POINTS = 4
DRIFT_SIGMA = 1.0
DRIFT_PRIOR = (1.2, 6.0)
DRIFT_EDGE = 0.1


@dataclass(frozen=True)
class AxisFit:
    """Boundaries found along one axis.

    ``bounds`` starts at the first kept cell's start and ends at the last kept
    cell's end (``0`` and the axis length when the edge cells are kept).
    """

    bounds: tuple[int, ...]
    period: float
    confidence: float
    #: False when the cell size was searched near the other axis's (:func:`fit_axes`).
    own: bool = True
    #: When this fit is JPEG's lattice kept over a weaker grid of another size
    #: in the deblocked profile, that grid (:func:`fit_axes` may take it).
    deblocked: AxisFit | None = None


def edge_profiles(rgba: NDArray[np.uint8]) -> tuple[Float, Float]:
    """Edge energy between neighbouring columns and rows, RGBA summed.

    Returns ``(along_x, along_y)`` of lengths ``W - 1`` and ``H - 1``: entry
    ``i`` is the edge energy between column (row) ``i`` and ``i + 1``. The
    signed differences of ``EDGE_LINES`` neighbouring lines along the edge
    (rows for a column boundary, columns for a row boundary) are added up
    before their size is taken: a cell's edge keeps its sign along the cell
    and adds up in full, noise and grain change sign from pixel to pixel and
    partly cancel (about halving the noise floor's spread at 4 lines, which
    lifts a faint, low-contrast grid out of it).

    >>> a = np.zeros((2, 3, 4), np.uint8); a[:, 2] = 10
    >>> [v.tolist() for v in edge_profiles(a)]
    [[0.0, 80.0], [0.0]]
    """
    h, w = rgba.shape[:2]
    # The sum of the lines' steps is the step of the lines' sum: k lines are
    # added up first (in uint16) and only their sums are differenced. Lines
    # are summed, so on a large image half of them are plenty: the first k of
    # every 2k keep a cell at least 2 px wide in the sum.
    rows = _line_sums(rgba, max(1, h // PROFILE_LINES))
    columns = _line_sums(rgba.swapaxes(0, 1), max(1, w // PROFILE_LINES)).swapaxes(0, 1)
    # Summed over the long axes first: a sum over 3-4 channels is slow on its own.
    steps_x = _step_sizes(rows, axis=1)
    along_x = np.add.reduce(steps_x, axis=0, dtype=np.uint64).sum(axis=1)
    steps_y = _step_sizes(columns, axis=0)
    along_y = np.add.reduce(steps_y.reshape(steps_y.shape[0], -1), axis=1, dtype=np.uint64)
    return along_x.astype(np.float64), along_y.astype(np.float64)


def _line_sums(lines: NDArray[np.uint8], step: int) -> NDArray[np.uint16]:
    """Sums of ``EDGE_LINES`` neighbouring lines (axis 0), every ``step``-th group.

    Line ``i`` of the result is the sum of lines ``i * k * step`` to
    ``i * k * step + k - 1`` (fewer in a last, partial group). Each of the k
    is a strided view added in place: no copy of the picture is made.
    """
    stride = EDGE_LINES * step
    out = lines[::stride].astype(np.uint16)
    for j in range(1, EDGE_LINES):
        part = lines[j::stride]
        np.add(out[: part.shape[0]], part, out=out[: part.shape[0]])
    return out


def _step_sizes(sums: NDArray[np.uint16], axis: int) -> NDArray[np.uint16]:
    """``|sums[i + 1] - sums[i]|`` along ``axis``, in the unsigned type."""
    after = sums[(slice(None),) * axis + (slice(1, None),)]
    before = sums[(slice(None),) * axis + (slice(None, -1),)]
    out = np.maximum(after, before)
    out -= np.minimum(after, before)
    return out


def fit_axes(
    along_x: Float,
    along_y: Float,
    width: int,
    height: int,
    rgba: NDArray[np.uint8] | None = None,
) -> tuple[AxisFit, AxisFit]:
    """Fit both axes (:func:`fit_axis`), then check that their cells are near square.

    An axis whose cells are over ``MAX_ASPECT`` times the other's (or under its
    inverse) is fitted again with cells near the other axis's size. The new fit
    is kept when it is more coherent, or when the old one is JPEG's block
    lattice and the new one is a decent grid (``LATTICE_SWITCH``), as within
    one axis. The axis refitted is the one on the lattice, else the less
    confident one. ``rgba``, the picture itself, lets the check for blocks on
    two lattices compare the boundaries band by band (:func:`_halves`).

    >>> row = np.repeat(np.arange(8) % 2 * 100.0, 10)  # 8 cells of 10 px each way
    >>> fx, fy = fit_axes(np.abs(np.diff(row)), np.abs(np.diff(row)), 80, 80)
    >>> fx.period, fy.period
    (10.0, 10.0)
    """
    factor = _upscaled(along_x, along_y, width, height)
    if factor > 1:
        small = fit_axes(
            along_x[factor - 1 :: factor][: width // factor - 1],
            along_y[factor - 1 :: factor][: height // factor - 1],
            width // factor,
            height // factor,
        )
        if (
            min(fit.period for fit in small) >= UPSCALED_CELL
            and min(len(fit.bounds) - 1 for fit in small) >= UPSCALED_CELLS
            and joint_confidence(*small) >= UPSCALED_SURE
        ):
            return _scaled(small[0], factor, width), _scaled(small[1], factor, height)
    fx, fy = _backed_off_lattice(fit_axis(along_x, width), fit_axis(along_y, height))
    if 1 / MAX_ASPECT <= fx.period / fy.period <= MAX_ASPECT:
        if not NEAR_SQUARE < abs(fx.period / fy.period - 1) <= AGREE:
            return fx, fy
        if fx.confidence < fy.confidence:
            return _restarted(fx, along_x, width), fy
        return fx, _restarted(fy, along_y, height)
    # Blocks on two lattices: the finer axis found half the other's cells, its
    # every other boundary weak (the half-cell edges of some blocks).
    if _halves(fx, fy, along_x, rgba, 0):
        return _every_other(fx, fy, along_x, width), fy
    if _halves(fy, fx, along_y, rgba, 1):
        return fx, _every_other(fy, fx, along_y, height)
    refit_x = (
        _on_lattice(fx) if _on_lattice(fx) != _on_lattice(fy) else fx.confidence <= fy.confidence
    )
    if refit_x:
        return _near(fx, fy.period, along_x, width), fy
    return fx, _near(fy, fx.period, along_y, height)


def _backed_off_lattice(fx: AxisFit, fy: AxisFit) -> tuple[AxisFit, AxisFit]:
    """Both fits, with a JPEG lattice replaced by its deblocked grid where the other axis backs it.

    An axis whose deblocked profile holds a grid too weak on its own to
    overrule JPEG's lattice (under ``LATTICE_SWITCH``) takes that grid when
    the other axis found the same cell size on its own (within ``AGREE``, not
    on the lattice, or on it with a deblocked grid of that size as well) and
    the two together reach ``LATTICE_SWITCH`` (:func:`joint_confidence`).
    """

    def grid(fit: AxisFit) -> AxisFit:
        return fit.deblocked if fit.deblocked is not None else fit

    if fx.deblocked is None and fy.deblocked is None:
        return fx, fy
    gx, gy = grid(fx), grid(fy)
    if _on_lattice(gx) or _on_lattice(gy) or joint_confidence(gx, gy) < LATTICE_SWITCH:
        return fx, fy
    return replace(gx, deblocked=None), replace(gy, deblocked=None)


def _restarted(fit: AxisFit, profile: Float, length: int) -> AxisFit:
    """``fit``, or the axis fitted from a cell size ``RESTART`` either side when more coherent.

    Cells that vary across the picture (21.3 px at the top, 21.9 in the
    middle) can give an axis two spacings that each refine to themselves,
    46 rows or 48. Two axes whose cells nearly agree, but not quite
    (``NEAR_SQUARE`` to ``AGREE`` apart), hint that the less confident one
    settled on the wrong one: started a little either side, its fit may
    settle on the other, and the most coherent fit is kept.
    """
    best = fit
    for start in (fit.period * (1 - RESTART), fit.period * (1 + RESTART)):
        other = fit_axis(profile, length, periods=(start, start))
        if other.confidence > best.confidence:
            best = other
    return best


def _upscaled(along_x: Float, along_y: Float, width: int, height: int) -> int:
    """The largest whole factor the picture was scaled up by after it was drawn, or 1.

    A picture drawn with cells of 5.5 px and then scaled 2x (nearest) has all
    its edges on even pixels: the 2 px lattice is the strongest grid in it and
    hides the real, larger cells. Both axes must hold ``UPSCALED`` of their
    edge energy on the factor's lattice (an edge between pixels ``k f - 1``
    and ``k f``).
    """
    found = 1
    for factor in UPSCALES:
        if min(width, height) < factor * MIN_PERIOD * MIN_CELLS:
            break
        shares = [
            float(p[factor - 1 :: factor].sum()) / total
            for p in (along_x, along_y)
            if (total := float(p.sum())) > 0
        ]
        if len(shares) == 2 and min(shares) >= UPSCALED:
            found = factor
    return found


def _scaled(fit: AxisFit, factor: int, length: int) -> AxisFit:
    """A fit of the picture scaled down by ``factor``, in the full picture's pixels."""
    bounds = [min(b * factor, length) for b in fit.bounds]
    if fit.bounds[-1] == length // factor:
        bounds[-1] = length  # the end cell keeps the pixels the scale-down dropped
    return AxisFit(tuple(bounds), fit.period * factor, fit.confidence, fit.own)


def _halves(
    fine: AxisFit,
    coarse: AxisFit,
    profile: Float,
    rgba: NDArray[np.uint8] | None,
    across: int,
) -> bool:
    """Is ``fine`` half of ``coarse``'s cells, its alternate boundaries carried apart?

    A boundary's edge energy is the profile's peak within a pixel of it, above
    the median. Blocks on two lattices (some drawn half a cell off) put their
    edges on alternate boundaries: the picture's own ones on one set, the
    shifted blocks' on the other. When the shifted blocks are few, the weaker
    set holds under ``ALTERNATE`` of the stronger's mean over the whole
    picture. When they are many, both sets are about as strong overall, but
    not in the same place: in each band of the picture across the axis
    (``rgba``'s rows for x, its columns for y, ``across`` being that axis of
    the array) one set carries the edges (:func:`_parity_contrast` at least
    ``SPLIT``). Real cells half as wide as the other axis's (2:1 pixels) have
    edges on every boundary alike, everywhere.
    """
    if not HALF[0] <= fine.period / coarse.period <= HALF[1]:
        return False
    inner = np.asarray(fine.bounds[1:-1])
    if inner.size < 2 * MIN_CELLS:
        return False
    even, odd = _parity_energy(profile[None, :], inner)
    if min(even[0], odd[0]) < ALTERNATE * max(even[0], odd[0]):
        return True
    if rgba is None:
        return False
    lines = rgba.shape[across]
    step = max(1, lines // BANDS)
    bands = [
        edge_profiles(rgba[r0 : r0 + step] if across == 0 else rgba[:, r0 : r0 + step])[across]
        for r0 in range(0, lines - step + 1, step)
    ]
    return _parity_contrast(np.stack(bands), inner) >= SPLIT


def _parity_energy(profiles: Float, inner: NDArray[np.intp]) -> tuple[Float, Float]:
    """Mean edge energy on the even and on the odd boundaries of ``inner``, per profile row."""
    at = [profiles[:, np.clip(inner - 1 + d, 0, profiles.shape[1] - 1)] for d in (-1, 0, 1)]
    floor = np.median(profiles, axis=1, keepdims=True)
    peaks = np.maximum(np.maximum.reduce(at) - floor, 0.0)
    return peaks[:, ::2].mean(axis=1), peaks[:, 1::2].mean(axis=1)


def _parity_contrast(bands: Float, inner: NDArray[np.intp]) -> float:
    """How much one set of alternate boundaries carries the edges, band by band, 0 to 1.

    ``sum |even - odd| / sum (even + odd)`` over the bands: 0 when both sets
    are alike in every band, 1 when every band has edges on one set only.
    """
    even, odd = _parity_energy(bands, inner)
    total = float((even + odd).sum())
    return float(np.abs(even - odd).sum()) / total if total > 0 else 0.0


def joint_confidence(fx: AxisFit, fy: AxisFit) -> float:
    """The grid's confidence from both axes' evidence.

    Each axis's confidence is how far its fit stands above chance. When the
    two axes found the same cell size on their own (within ``AGREE``), each
    backs the other: both would be chance only if each were, so the grid's
    confidence is ``1 - (1 - cx) (1 - cy)``. Otherwise (cells of other
    sizes, or one axis fitted to the other's size by :func:`fit_axes`, which
    makes them agree by construction) it is the lower of the two. A dark,
    low-contrast tile or a sprite of large flat areas has weak evidence along
    each axis (0.4-0.6) that agrees; a photo's or noise's axes (0.0-0.2) find
    sizes that do not.

    >>> a, b = AxisFit((0, 10, 20), 10.0, 0.48), AxisFit((0, 10, 20), 10.2, 0.63)
    >>> round(joint_confidence(a, b), 2), joint_confidence(a, AxisFit((0, 20), 20.0, 0.63))
    (0.81, 0.48)
    """
    low = min(fx.confidence, fy.confidence)
    if not fx.own or not fy.own or abs(fx.period / fy.period - 1) > AGREE:
        return low
    return max(low, 1 - (1 - fx.confidence) * (1 - fy.confidence))


def _every_other(fine: AxisFit, coarse: AxisFit, profile: Float, length: int) -> AxisFit:
    """The cells of two of ``fine``'s cells each (see :func:`_halves`).

    Every other boundary of the fine fit, the set with the more edge energy
    (the picture's own lattice; the other set is the shifted blocks'). The
    fine fit found the edges of both lattices, so its boundaries, not a new
    fit at twice its period (which the half-cell edges pull off by a cell),
    give the count. The two axes found commensurate cells on their own, so
    they back each other as in :func:`joint_confidence`.
    """
    inner = np.asarray(fine.bounds[1:-1])
    even, odd = _parity_energy(profile[None, :], inner)
    sets = (inner[::2], inner[1::2]) if even[0] >= odd[0] else (inner[1::2], inner[::2])
    fits = []
    for kept in sets:
        if kept.size < 2:
            continue
        period = float(np.mean(np.diff(kept)))
        # Continue the lattice to the picture's ends (the fine fit may have left
        # out its end cells), so each end keeps a part cell of 0 to 1 cell.
        left = kept[0] - period * np.arange(int(kept[0] / period), 0, -1)
        right = kept[-1] + period * np.arange(1, int((length - kept[-1]) / period) + 1)
        full = np.unique(np.rint(np.concatenate([left, kept, right])).astype(np.intp))
        full = full[(full >= 1) & (full <= length - 1)]
        ends = np.array([full[0], length - full[-1]]) / period
        # The picture's own lattice meets its ends in (nearly) whole cells; the
        # shifted blocks' lattice leaves half a cell more or less there.
        fits.append((float(np.sum(np.abs(1.0 - ends))), full.tolist(), period))
    if not fits:
        return fine
    _, kept_bounds, period = min(fits, key=lambda fit: fit[0])
    bounds = _keep_edge_cells(kept_bounds, length, period)
    if len(bounds) < 1 + MIN_CELLS:
        return fine
    confidence = fine.confidence
    if abs(2 * fine.period / coarse.period - 1) <= AGREE:
        confidence = max(confidence, 1 - (1 - fine.confidence) * (1 - coarse.confidence))
    return AxisFit(bounds, period, confidence, own=False)


def _near(fit: AxisFit, period: float, profile: Float, length: int) -> AxisFit:
    """``fit``, or the axis fitted again with cells near ``period`` when that is better."""
    again = fit_axis(profile, length, periods=(period * (1 - SQUARE), period * (1 + SQUARE)))
    again = AxisFit(again.bounds, again.period, again.confidence, own=False)
    if again.confidence > fit.confidence:
        return again
    if _on_lattice(fit) and not _block_sized(again.period) and again.confidence >= LATTICE_SWITCH:
        return again
    return fit


def fit_axis(profile: Float, length: int, *, periods: tuple[float, float] | None = None) -> AxisFit:
    """Find the cell boundaries along an axis of ``length`` pixels.

    Parameters
    ----------
    profile : ndarray, shape (length - 1,)
        The edge profile (:func:`edge_profiles`).
    length : int
        Pixels along the axis.
    periods : (float, float), optional
        Look for a cell size in this range only (the other axis's cells, when
        this axis alone finds a size no pixel art has next to them).

    Returns
    -------
    AxisFit
        Confidence 0 and the whole axis as one cell when nothing periodic is
        found.

    Examples
    --------
    >>> row = np.repeat(np.arange(8) % 2 * 100.0, 10)  # 8 cells of 10 px
    >>> fit = fit_axis(np.abs(np.diff(row)), 80)
    >>> fit.bounds, fit.period, fit.confidence > 0.9
    ((0, 10, 20, 30, 40, 50, 60, 70, 80), 10.0, True)
    """
    nothing = AxisFit((0, length), float(length), 0.0)
    if length < MIN_PERIOD * MIN_CELLS or profile.size != length - 1:
        return nothing
    excess = profile - float(np.median(profile))
    if not np.any(excess > 0):
        return nothing
    raw = _fit(excess, length, periods)
    # A sure fit is kept as it is, unless it may be JPEG's block lattice itself
    # (8 or 16 px cells on the lattice's phase, coherent too): a lattice that
    # holds nearly all the edge energy is a real grid of 8 px cells, one that
    # leaves some of it elsewhere may be JPEG's, drawn over larger cells.
    if raw is not None and raw.confidence >= SURE and not _lattice_like(raw):
        return raw
    deblocked = _deblock(excess)
    clean = None if deblocked is None else _fit(deblocked, length, periods)
    if clean is None:
        return nothing if raw is None else raw
    if raw is None:
        return clean
    # JPEG's own lattice is a coherent grid too. When the raw fit is that
    # lattice (8 or 16 px exactly) and the deblocked profile holds a decent
    # grid of another size, the lattice was the artefact.
    lattice = _on_lattice(raw) and not _block_sized(clean.period)
    if lattice and clean.confidence >= LATTICE_SWITCH:
        return clean
    # Otherwise the more coherent fit: cells that sit on the lattice lose real
    # edges to deblocking, and the raw fit wins. A lattice kept over a weaker
    # grid carries that grid: the other axis may back it (:func:`fit_axes`).
    if clean.confidence > raw.confidence:
        return clean
    return replace(raw, deblocked=clean) if lattice else raw


def _lattice_like(fit: AxisFit) -> bool:
    """May a sure fit be JPEG's lattice (on it, yet not explaining nearly all the edges)?"""
    return fit.confidence < LATTICE_SURE and _on_lattice(fit)


def _on_lattice(fit: AxisFit) -> bool:
    """Is ``fit`` JPEG's block lattice: block-sized cells, boundaries on its 8 px phase?"""
    inner = np.asarray(fit.bounds[1:-1])
    return bool(
        _block_sized(fit.period) and inner.size and np.mean(inner % 8 == 0) >= LATTICE_PHASE
    )


def _block_sized(period: float) -> bool:
    """Is ``period`` one of JPEG's block sizes (to 0.5 %)?"""
    return any(abs(period - size) <= 0.005 * size for size in (8.0, 16.0))


def _fit(excess: Float, length: int, periods: tuple[float, float] | None) -> AxisFit | None:
    """Period, boundaries and confidence for one profile; None without a period."""
    # A range of one value is a known cell size: nothing to estimate.
    fixed = periods is not None and periods[0] == periods[1]
    period = (
        periods[0] if fixed and periods is not None else _estimate_period(excess, length, periods)
    )
    if period is None:
        return None
    signal = _signal(excess, length, period)
    bounds = _boundaries(signal, period)
    period, bounds = _refine(signal, bounds, period)
    confidence = _confidence(excess, bounds, period)
    kept = _keep_edge_cells(bounds, length, period)
    if len(kept) < 2:
        return None
    return AxisFit(kept, period, confidence)


def _deblock(excess: Float) -> Float | None:
    """The profile without JPEG's block edges, or None when there are none.

    JPEG codes 8x8 blocks (16x16 for subsampled colour), so a compressed image
    has extra edges between pixels ``8k - 1`` and ``8k``, from the image's
    origin, unrelated to the cells. Per position modulo 16, the median of the
    profile is the level every such position has regardless of the cells; its
    excess over the common level is taken away. When the cells themselves sit
    on that lattice this removes real edges too, which is why :func:`fit_axis`
    keeps whichever version, raw or deblocked, fits with more confidence.
    """
    n = excess.size - excess.size % BLOCK
    if n < 4 * BLOCK:
        return None
    per_residue = np.median(excess[:n].reshape(-1, BLOCK), axis=0)
    common = float(np.median(per_residue))
    raised = per_residue - common
    spread = float(np.mean(np.abs(excess))) or 1.0
    if raised.max() < BLOCKINESS * spread:
        return None
    out: Float = excess - np.tile(np.maximum(raised, 0.0), excess.size // BLOCK + 1)[: excess.size]
    return out


def _estimate_period(
    excess: Float, length: int, limits: tuple[float, float] | None = None
) -> float | None:
    """The cell size whose comb best matches the profile's autocorrelation.

    ``limits`` keeps the candidates to a range (both ends included).
    """
    x = excess - excess.mean()
    n = x.size
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if acf[0] <= 0:
        return None
    acf /= acf[0]
    max_lag = int(0.55 * n)  # so that a quarter of the axis still has two teeth
    p_max = min(length / MIN_CELLS, max_lag / 2)
    if p_max < MIN_PERIOD:
        return None
    count = int(math.log(p_max / MIN_PERIOD) / math.log1p(PERIOD_STEP)) + 1
    periods: Float = MIN_PERIOD * (1 + PERIOD_STEP) ** np.arange(count, dtype=np.float64)
    k = np.arange(1, TEETH + 1, dtype=np.float64)
    teeth = periods[:, None] * k[None, :]
    valid = teeth <= max_lag
    lags = np.arange(n, dtype=np.float64)
    on = _teeth_values(acf, np.where(valid, teeth, 0.0))
    off = np.interp(np.where(valid, teeth - periods[:, None] / 2, 0.0), lags, acf)
    used = valid.sum(axis=1)
    comb = np.where(valid, on, 0.0).sum(axis=1) / np.maximum(used, 1)
    half = np.where(valid, off, 0.0).sum(axis=1) / np.maximum(used, 1)
    scores = comb - np.maximum(half, _between(acf, periods))
    scores[used < 2] = -np.inf
    if limits is not None:
        scores[(periods < limits[0]) | (periods > limits[1])] = -np.inf
    best = int(np.argmax(scores))
    if not np.isfinite(scores[best]) or scores[best] <= 0:
        return None
    return float(periods[best])


def _teeth_values(acf: Float, teeth: Float) -> Float:
    """The autocorrelation at each tooth, as its maximum within the grid's error.

    Candidate periods are 0.5 % apart, so the k-th tooth of the candidate
    nearest the true period may miss the true peak by up to ``0.25 % * lag``;
    a sharp image (no blur) has peaks one lag wide. Each tooth therefore reads
    the autocorrelation's running maximum over that error.
    """
    radius = np.minimum(np.rint(teeth * PERIOD_STEP / 2), MAX_RADIUS).astype(np.intp)
    dilated = np.empty((MAX_RADIUS + 1, acf.size + 1))
    dilated[0, :-1] = acf
    dilated[0, -1] = acf[-1]
    for r in range(1, MAX_RADIUS + 1):
        row = dilated[r]
        row[:] = dilated[r - 1]
        row[1:] = np.maximum(row[1:], dilated[r - 1, :-1])
        row[:-1] = np.maximum(row[:-1], dilated[r - 1, 1:])
    i = np.clip(np.floor(teeth).astype(np.intp), 0, acf.size - 1)
    frac = teeth - i
    out: Float = (1 - frac) * dilated[radius, i] + frac * dilated[radius, i + 1]
    return out


def _between(acf: Float, periods: Float) -> Float:
    """Highest autocorrelation strictly between lag 0 and the first tooth.

    A multiple of the true period (3p, 5p...) has real boundary lags (p, 2p)
    between its teeth; this catches them. The central peak (up to the first
    local minimum: the width of the blur) is left out, and so is the rising
    flank of the first tooth, as wide.
    """
    falling = np.diff(acf) < 0
    width = int(np.argmin(falling)) if not np.all(falling) else acf.size
    lo = np.maximum(np.ceil(0.2 * periods), width).astype(np.intp)
    hi = np.floor(np.minimum(0.8 * periods, periods - width)).astype(np.intp)
    out = np.full(periods.size, -np.inf)
    ok = hi >= lo
    if np.any(ok):
        # reduceat over [lo, hi + 1) windows: a prefix of the running maxima would
        # not do (windows do not start at 0), so reduce each window directly.
        starts, stops = lo[ok], np.minimum(hi[ok] + 1, acf.size)
        idx = np.stack([starts, stops], axis=1).reshape(-1)
        padded = np.append(acf, -np.inf)
        out[ok] = np.maximum.reduceat(padded, idx)[::2]
    return out


def _signal(excess: Float, length: int, period: float) -> Float:
    """Edge energy per boundary position ``0 .. length``, a typical boundary ~ 1.

    Entry ``x`` is the energy between pixel ``x - 1`` and ``x`` (0 at both
    ends), lightly smoothed so a blurred edge peaks at its centre.
    """
    signal = np.zeros(length + 1)
    # Cells of 2-3 px have no room for a blurred edge: smoothing would only
    # leak a boundary's energy onto its neighbours.
    smooth = np.convolve(excess, [0.25, 0.5, 0.25], mode="same") if period >= 4 else excess
    top = np.sort(smooth)[-max(1, int(length / period)) :]
    scale = float(top.mean())
    signal[1:length] = smooth / (scale if scale > 0 else 1.0)
    return signal


def _refine(signal: Float, bounds: list[int], period: float) -> tuple[float, list[int]]:
    """Re-fit with the period measured between the outermost real edges.

    The period from the autocorrelation is within about 1 %; over 30 cells that
    is a third of a cell. Boundaries backed by a real edge measure it exactly
    (their mean spacing); the fit is redone with it, and where the image has no
    edges (a flat background at the border) boundaries continue at that spacing,
    fractional and rounded, instead of whole-pixel steps that drift.
    """
    length = signal.size - 1
    b = np.asarray(bounds)
    backed = np.flatnonzero(signal[b] >= SUPPORT) if b.size else b
    if backed.size < 2 or backed[-1] - backed[0] < 2:
        return period, bounds
    first, last = int(backed[0]), int(backed[-1])
    measured = (b[last] - b[first]) / (last - first)
    if not SPACING[0] * period <= measured <= SPACING[1] * period:
        return period, bounds
    b = np.asarray(_boundaries(signal, measured))
    backed = np.flatnonzero(signal[b] >= SUPPORT)
    if backed.size < 2:
        return measured, b.tolist()
    lo, hi = int(b[backed[0]]), int(b[backed[-1]])
    inner = b[(b >= lo) & (b <= hi)]
    filled = _drift_fill(b, backed, measured, length) if backed.size >= DRIFT_POINTS else None
    if filled is not None:
        left, right = filled
    else:
        left = lo - measured * np.arange(int(lo / measured), 0, -1)
        right = hi + measured * np.arange(1, int((length - hi) / measured) + 1)
    out = np.concatenate([np.rint(left), inner, np.rint(right)]).astype(np.intp)
    out = out[(out >= 1) & (out <= length - 1)]
    return float(measured), np.unique(out).tolist()


def _drift_fill(
    b: NDArray[np.intp], backed: NDArray[np.intp], measured: float, length: int
) -> tuple[Float, Float] | None:
    """Boundaries in the flat bands before and after the real edges, from a drift model.

    Where a background leaves no edges, how many cells fit into the band is not
    in the picture: continuing the spacing measured between the real edges is
    right for a steady grid, but a drifting grid is locally wider or narrower
    than on average, and over a band of ten or twenty cells that adds up to a
    cell. The grid is instead modelled across the whole axis, the flat bands
    included: cell ``i`` of ``n`` starts at ``t + s i + u(i / n)``, a steady
    grid plus a smooth drift ``u(x) = x (1 - x) (c1 + c2 (x - 1/2))`` cells
    that vanishes at both ends of the picture (the grid spans the canvas; it
    wobbles in between). For every count of cells in each band (the steady
    continuation's count and one either side), ``t``, ``s``, ``c1`` and ``c2``
    are fitted to the real edges by least squares, the drift held small by a
    prior (ridge) of about 0.3 cell; the partial cells left at the
    picture's ends must be between nothing and a little over a whole cell,
    and ones under half a cell or over a whole one are penalised. The counts with the lowest
    cost win, and the band boundaries are the fitted model's. None when no
    count fits.
    """
    lo, hi = int(b[backed[0]]), int(b[backed[-1]])
    r = (backed - backed[0]).astype(np.float64)
    pos = b[backed].astype(np.float64) / DRIFT_SIGMA
    inner = int(r[-1])
    prior = np.zeros((2, 4))
    prior[0, 2], prior[1, 3] = 1.0 / DRIFT_PRIOR[0], 1.0 / DRIFT_PRIOR[1]
    target = np.concatenate([pos, [0.0, 0.0]])
    best: tuple[float, int, int, Float] | None = None
    left0, right0 = int(lo / measured), int((length - hi) / measured)
    for n_left in range(max(0, left0 - 1), left0 + 2):
        for n_right in range(max(0, right0 - 1), right0 + 2):
            cells = n_left + inner + n_right + 2
            index = n_left + 1 + r
            design = np.vstack([_drift_design(index, cells, measured) / DRIFT_SIGMA, prior])
            coef = np.linalg.lstsq(design, target, rcond=None)[0]
            t, s = float(coef[0]), float(coef[1])
            if not SPACING[0] * measured <= s <= SPACING[1] * measured:
                continue
            ends = (1.0 + t / s, 1.0 - (t + s * cells - length) / s)
            if min(ends) <= 0.0 or max(ends) > 1.0 + 1.5 * DRIFT_EDGE:
                continue
            cost = float(np.sum((design @ coef - target) ** 2))
            cost += sum(((EDGE_CELL - e) / DRIFT_EDGE) ** 2 for e in ends if e < EDGE_CELL)
            cost += sum(((e - 1.0) / DRIFT_EDGE) ** 2 for e in ends if e > 1.0)
            if best is None or cost < best[0]:
                best = (cost, n_left, n_right, coef)
    if best is None:
        return None
    _, n_left, n_right, coef = best
    cells = n_left + inner + n_right + 2
    model = _drift_design(np.arange(1, cells, dtype=np.float64), cells, measured) @ coef
    left, right = model[:n_left], model[n_left + inner + 1 :]
    return left[left < lo], right[right > hi]


def _drift_design(index: Float, cells: int, measured: float) -> Float:
    """Columns of the drift model at boundary ``index``: 1, index, and the drift's two shapes."""
    x = index / cells
    shape = measured * x * (1.0 - x)
    return np.stack([np.ones_like(x), index, shape, shape * (x - 0.5)], axis=1)


def _boundaries(signal: Float, period: float) -> list[int]:
    """Interior boundary positions (1 .. length - 1) by dynamic programming."""
    length = signal.size - 1
    d_min = max(1, math.floor(period * SPACING[0]))
    d_max = max(d_min + 1, math.ceil(period * SPACING[1]))
    steps = np.arange(d_min, d_max + 1)
    penalty = LAMBDA * ((steps - period) / period) ** 2

    # best[x]: the best score of a chain of boundaries ending at x; back[x]: the
    # boundary before x (-1: x is the first). Positions x .. x + d_min - 1 only
    # depend on positions before x, so they are computed together.
    best = np.full(length + 1, -np.inf)  # best[0] stays -inf: "no predecessor"
    back = np.full(length + 1, -1, dtype=np.intp)
    last = length - 1
    rows = np.arange(d_min)
    offsets = rows[:, None] - steps[None, :]
    for start in range(1, last + 1, d_min):
        stop = min(start + d_min, last + 1)
        m = stop - start
        prev = offsets[:m] + start
        cand = best[np.maximum(prev, 0)] - penalty
        arg = cand.argmax(axis=1)
        val = cand[rows[:m], arg]
        pred = prev[rows[:m], arg]
        if start <= d_max:  # may be the first boundary: no predecessor, no penalty
            fresh = (np.arange(start, stop) <= d_max) & (val < 0.0)
            val = np.where(fresh, 0.0, val)
            pred = np.where(fresh, -1, pred)
        best[start:stop] = signal[start:stop] + val
        back[start:stop] = pred
    tail = np.arange(max(1, length - d_max), last + 1)
    x = int(tail[np.argmax(best[tail])])
    bounds: list[int] = []
    while x >= 1:
        bounds.append(x)
        x = int(back[x])
    return bounds[::-1]


def _keep_edge_cells(bounds: list[int], length: int, period: float) -> tuple[int, ...]:
    """Add the border cells that are at least half a cell wide."""
    if not bounds:
        return (0, length)
    out = list(bounds)
    if bounds[0] >= EDGE_CELL * period:
        out.insert(0, 0)
    if length - bounds[-1] >= EDGE_CELL * period:
        out.append(length)
    return tuple(out)


def _confidence(excess: Float, bounds: list[int], period: float) -> float:
    """Coherence beyond chance (null-corrected) or rigid Fourier coherence, 0 to 1."""
    weight = np.maximum(excess, 0.0)
    total = float(weight.sum())
    if total <= 0 or not bounds:
        return 0.0
    pos = np.arange(1, weight.size + 1, dtype=np.float64)
    rigid = float(np.abs(np.sum(weight * np.exp(2j * np.pi * pos / period))) / total)
    if rigid >= SURE:
        return min(1.0, rigid)
    real = _coherence(weight, bounds, period)
    block = max(1, int(period / 4))
    blocks = excess.size // block
    order = np.random.default_rng(NULL_SEED).permutation(blocks)
    idx = (order[:, None] * block + np.arange(block)[None, :]).reshape(-1)
    null_excess = np.concatenate([excess[idx], excess[blocks * block :]])
    null_signal = _signal(null_excess, excess.size + 1, period)
    null = _coherence(np.maximum(null_excess, 0.0), _boundaries(null_signal, period), period)
    beyond = (real - null) / (1.0 - null) if null < 1.0 else 0.0
    return max(0.0, min(1.0, max(beyond, rigid)))


def _coherence(weight: Float, bounds: list[int], period: float) -> float:
    """Edge energy's mean ``cos(2 pi t)``, ``t`` the position within the cell."""
    total = float(weight.sum())
    if total <= 0 or not bounds:
        return 0.0
    pos = np.arange(1, weight.size + 1, dtype=np.float64)  # boundary position of each entry
    b = np.asarray(bounds, dtype=np.float64)
    # Extend the boundaries by one period at each end so every position has a cell.
    ext = np.concatenate([[b[0] - period], b, [b[-1] + period]])
    idx = np.clip(np.searchsorted(ext, pos, side="right") - 1, 0, ext.size - 2)
    t = (pos - ext[idx]) / (ext[idx + 1] - ext[idx])
    value = float((weight * np.cos(2 * np.pi * t)).sum() / total)
    return max(0.0, min(1.0, value))
