"""Image asserts for the tests: exact or within a tolerance; a failure keeps the images.

Modelled on Pillow's ``Tests/helper.py``: a pixel test that fails says where
the pixels differ and saves what it got, what it wanted and a difference
mask (white where they differ, at 8x so one cell shows) under
``$DGX_PIXELS_TEST_FAILURES`` (default ``<tmp>/dgx-pixels-test-failures``), in
a folder named after the test.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = ["assert_image_equal", "failures_dir"]


def failures_dir() -> Path:
    """Where the current test's failing images go (created on demand)."""
    root = Path(
        os.environ.get("DGX_PIXELS_TEST_FAILURES")
        or Path(tempfile.gettempdir()) / "dgx-pixels-test-failures"
    )
    test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
    return root / re.sub(r"[^\w.-]+", "_", test)


def _pixels(image: Image.Image | NDArray[np.uint8]) -> NDArray[np.uint8]:
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image)


def assert_image_equal(
    got: Image.Image | NDArray[np.uint8],
    want: Image.Image | NDArray[np.uint8],
    *,
    tolerance: int = 0,
    what: str = "image",
) -> None:
    """Assert two images (PIL images compared as RGBA, or uint8 arrays) match.

    ``tolerance`` is the largest difference allowed in any channel of any
    pixel. On failure both images and a difference mask are saved (see the
    module docstring) and the message says how many pixels differ, by how much
    at most, and where the first one is.
    """
    a, b = _pixels(got), _pixels(want)
    if a.shape == b.shape:
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        if diff.size == 0 or int(diff.max()) <= tolerance:
            return
        off = diff.reshape(*a.shape[:2], -1).max(axis=2) > tolerance
        ys, xs = np.nonzero(off)
        detail = (
            f"{int(off.sum())} of {off.size} pixels differ by more than {tolerance} "
            f"(at most {int(diff.max())}); first at x={xs[0]}, y={ys[0]}: "
            f"got {a[ys[0], xs[0]].tolist()}, want {b[ys[0], xs[0]].tolist()}"
        )
    else:
        off = None
        detail = f"shapes differ: got {a.shape}, want {b.shape}"
    folder = failures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(folder / f"{what}-got.png")
    Image.fromarray(b).save(folder / f"{what}-want.png")
    if off is not None:
        mask = Image.fromarray((off * 255).astype(np.uint8))
        mask.resize((mask.width * 8, mask.height * 8), Image.Resampling.NEAREST).save(
            folder / f"{what}-diff.png"
        )
    raise AssertionError(f"{what}: {detail}; saved in {folder}")
