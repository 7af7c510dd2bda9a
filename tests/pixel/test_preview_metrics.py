"""Nearest-neighbour preview and the pixel metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel.alpha import binarize_alpha
from dgx_pixels.pixel.metrics import (
    alpha_binarity,
    colors_used,
    measure,
    palette_share,
    stray_pixel_count,
    tile_seam_score,
)
from dgx_pixels.pixel.palette import builtin_palette, palette_from_image
from dgx_pixels.pixel.preview import upscale
from dgx_pixels.pixel.quantize import map_to_palette

from ..images import assert_image_equal

DATA = Path(__file__).resolve().parents[1] / "data"


def test_preview_repeats_each_pixel_as_a_square() -> None:
    sprite = Image.open(DATA / "dcss-agnes.png").convert("RGBA")
    big = upscale(sprite, factor=5)
    a, b = np.asarray(sprite), np.asarray(big)
    assert b.shape == (160, 160, 4)
    assert_image_equal(b, a.repeat(5, axis=0).repeat(5, axis=1))
    assert upscale(sprite).size == (512, 512)
    with pytest.raises(InputError, match="factor"):
        upscale(sprite, factor=0)
    with pytest.raises(InputError, match="factor"):
        upscale(sprite, factor=65)


def test_metrics_of_a_real_sprite() -> None:
    sprite = Image.open(DATA / "dcss-long-sword.png")
    m = measure(sprite)
    assert m.colors_used == len(palette_from_image(sprite))
    assert 0.0 < m.alpha_binarity < 1.0  # the sword has a soft shadow
    assert alpha_binarity(binarize_alpha(sprite)) == 1.0
    assert m.to_dict()["seams"]["left_right"] == m.seams.left_right


def test_palette_share_after_mapping_is_total() -> None:
    sprite = Image.open(DATA / "dcss-agnes.png")
    pal = builtin_palette("db32")
    assert palette_share(sprite, pal) < 0.5
    assert palette_share(map_to_palette(sprite, pal), pal) == 1.0
    assert measure(sprite, palette=pal).palette_share == palette_share(sprite, pal)


def test_stray_count_counts_islands() -> None:
    img = binarize_alpha(Image.open(DATA / "dcss-wolf.png"))
    base = stray_pixel_count(img)
    img.putpixel((0, 0), (255, 255, 255, 255))
    assert stray_pixel_count(img) == base + 1
    assert colors_used(Image.new("RGBA", (3, 3))) == 0


def test_seam_score_tells_a_seamless_tile_from_a_seamed_one() -> None:
    rng = np.random.default_rng(1)
    # seamless: a periodic pattern; seamed: a gradient that jumps at the wrap
    x = np.arange(32)
    wave = (128 + 100 * np.sin(2 * np.pi * x / 32)).astype(np.uint8)
    tile = np.stack([np.tile(wave, (32, 1))] * 3, axis=-1)
    tile = np.clip(tile.astype(int) + rng.integers(-3, 4, tile.shape), 0, 255).astype(np.uint8)
    seamless = tile_seam_score(Image.fromarray(tile))
    assert seamless.left_right < 2.0
    ramp = np.stack([np.tile(np.linspace(0, 255, 32).astype(np.uint8), (32, 1))] * 3, axis=-1)
    seamed = tile_seam_score(Image.fromarray(ramp))
    assert seamed.left_right > 10
    assert seamed.top_bottom == 0.0
