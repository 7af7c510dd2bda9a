"""The private array helpers: connected regions against a flood fill and SciPy."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dgx_pixels.pixel._arrays import label_components


def _flood_labels(mask: np.ndarray) -> tuple[np.ndarray, int]:
    seen = np.zeros(mask.shape, dtype=int)
    n = 0
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        n += 1
        seen[y, x] = n
        queue = deque([(y, x)])
        while queue:
            a, b = queue.popleft()
            for c, d in ((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)):
                inside = 0 <= c < mask.shape[0] and 0 <= d < mask.shape[1]
                if inside and mask[c, d] and not seen[c, d]:
                    seen[c, d] = n
                    queue.append((c, d))
    return seen, n


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 20), st.integers(1, 20))))
def test_regions_match_a_flood_fill(mask: np.ndarray) -> None:
    labels, n = label_components(mask)
    expect, k = _flood_labels(mask)
    assert n == k
    assert np.array_equal(labels > 0, mask)
    # the same partition, and numbered in raster order like the flood fill
    assert np.array_equal(labels, expect)


def test_regions_match_scipy_on_random_masks() -> None:
    from scipy import ndimage

    rng = np.random.default_rng(0)
    for density in (0.2, 0.45, 0.55, 0.8):  # around 4-connected percolation (0.59)
        mask = rng.random((97, 131)) < density
        labels, n = label_components(mask)
        expect, k = ndimage.label(mask)  # default structure: 4-connected in 2-D
        assert n == k
        # SciPy numbers regions in raster order of their first pixel, as we do.
        assert np.array_equal(labels, expect)
