"""Restore speed on a 1024x1024 "AI pixel art" picture (target: <= 20 ms median, one core).

Timed beside it, on the same picture and in the same run: restore without
merging inks (each cell's own colour, as before palette recovery) and
perfect-pixel, the fastest peer (skipped when ``.[peers]`` is not installed).

Run with ``make bench`` or, for this file alone::

    OMP_NUM_THREADS=1 .venv/bin/python -m pytest benchmarks/test_restore_speed.py \
        --benchmark-enable

Never a timed assertion: the figure is read from the benchmark table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.metrics.degrade import DegradeParams, degrade
from dgx_pixels.pixel.grid import detect_grid
from dgx_pixels.pixel.restore import restore

SPRITE = Path(__file__).resolve().parents[1] / "tests" / "data" / "alligator.png"


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    """The 32x32 alligator drawn as a generator would: 1024x1024, 31.7-32.3 px cells."""
    with Image.open(SPRITE) as im:
        sprite = im.convert("RGBA")
    params = DegradeParams(
        scale_x=32.4,
        scale_y=32.2,
        edge_x=(0.8, 0.9),
        edge_y=(0.85, 0.95),
        warp=0.2,
        blur=1.0,
        noise=4.0,
        jpeg_quality=85,
        drift=(0.02, -0.01, 0.01),
        background=(40, 60, 80),
        seed=0,
    )
    big = degrade(sprite, params).resize((1024, 1024), Image.Resampling.NEAREST)
    assert detect_grid(big).size == (32, 32)
    return big


def test_restore_1024_detect(benchmark, picture: Image.Image) -> None:  # type: ignore[no-untyped-def]
    result = benchmark(restore, picture)
    assert result.image.size == (32, 32)


def test_restore_1024_known_size(benchmark, picture: Image.Image) -> None:  # type: ignore[no-untyped-def]
    result = benchmark(restore, picture, size=(32, 32))
    assert result.image.size == (32, 32)


def test_detect_grid_1024(benchmark, picture: Image.Image) -> None:  # type: ignore[no-untyped-def]
    grid = benchmark(detect_grid, picture)
    assert np.isfinite(grid.confidence)


def test_restore_1024_detect_keep_colours(benchmark, picture: Image.Image) -> None:  # type: ignore[no-untyped-def]
    result = benchmark(restore, picture, merge_inks=False)
    assert result.image.size == (32, 32)


def test_perfect_pixel_1024(benchmark, picture: Image.Image) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("perfect_pixel")
    from dgx_pixels.metrics._peers import perfect_pixel

    out = benchmark(perfect_pixel, picture)
    assert out.width > 1
