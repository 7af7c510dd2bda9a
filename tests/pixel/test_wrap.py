"""A seamless tile keeps its wrap through the pixel step: the tile is a torus."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art


def drawing(seed: int) -> Image.Image:
    """A 16x16 tile of blobs with stray pixels, drawn 4x as a model would."""
    rng = np.random.default_rng(seed)
    colours = np.array([[40, 90, 40], [120, 160, 60], [90, 70, 40], [200, 200, 120]], np.uint8)
    index = np.repeat(np.repeat(rng.integers(0, 2, (4, 4)), 4, 0), 4, 1)
    index[rng.random((16, 16)) < 0.08] = 3  # strays, some at the edges
    small = colours[index]
    return Image.fromarray(np.repeat(np.repeat(small, 4, 0), 4, 1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_pixel_step_commutes_with_rolling_a_seamless_tile(seed: int) -> None:
    spec = PixelSpec(size=(16, 16), palette="pico-8", background="keep")
    raw = np.asarray(drawing(seed))
    sprite = np.asarray(to_pixel_art(Image.fromarray(raw), spec, wrap="xy"))
    for dy, dx in ((0, 5), (3, 0), (7, 9)):
        rolled = Image.fromarray(np.roll(raw, (4 * dy, 4 * dx), axis=(0, 1)))
        got = np.asarray(to_pixel_art(rolled, spec, wrap="xy"))
        assert np.array_equal(got, np.roll(sprite, (dy, dx), axis=(0, 1)))


def test_without_the_wrap_the_edges_are_edges() -> None:
    spec = PixelSpec(size=(16, 16), palette="pico-8", background="keep")
    differs = 0
    for seed in range(3):
        raw = np.asarray(drawing(seed))
        plain = np.asarray(to_pixel_art(Image.fromarray(raw), spec))
        rolled = np.asarray(to_pixel_art(Image.fromarray(np.roll(raw, (28, 36), (0, 1))), spec))
        differs += not np.array_equal(rolled, np.roll(plain, (7, 9), axis=(0, 1)))
    assert differs > 0


def test_bad_wrap() -> None:
    with pytest.raises(InputError, match="wrap must be one of none, x, y, xy, got 'z'"):
        to_pixel_art(drawing(0), PixelSpec(size=(16, 16)), wrap="z")
