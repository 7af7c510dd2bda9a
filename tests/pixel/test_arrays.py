"""The private array helpers: connected regions against a plain flood fill."""

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
