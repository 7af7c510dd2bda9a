"""Speed of the pixel toolkit (run with ``make bench``; disabled in ``make test``).

Real sprites drawn the way a generator draws them: 32x32 DCSS sprites at
1024x1024 on a flat background, and a smooth 512x512 picture to pixelize.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from dgx_pixels.pixel.alpha import binarize_alpha, remove_background
from dgx_pixels.pixel.palette import builtin_palette
from dgx_pixels.pixel.pixelize import downscale
from dgx_pixels.pixel.quantize import extract_palette, map_to_palette
from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


@pytest.fixture(scope="module")
def generated() -> Image.Image:
    sprite = binarize_alpha(Image.open(DATA / "dcss-agnes.png"))
    canvas = Image.new("RGBA", sprite.size, (255, 0, 255, 255))
    canvas.alpha_composite(sprite)
    return canvas.resize((1024, 1024), Image.Resampling.NEAREST)


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    sprite = Image.open(DATA / "dcss-wolf.png").convert("RGBA")
    return sprite.resize((512, 512), Image.Resampling.BICUBIC)


def test_to_pixel_art_1024_to_32_with_auto_palette(benchmark: Any, generated: Image.Image) -> None:
    spec = PixelSpec(size=(32, 32), palette="auto:16", outline="darker")
    out = benchmark(to_pixel_art, generated, spec)
    assert out.size == (32, 32)


def test_contrast_downscale_512_to_64(benchmark: Any, picture: Image.Image) -> None:
    out = benchmark(downscale, picture, size=(64, 64), method="contrast")
    assert out.size == (64, 64)


def test_extract_16_colours_from_1024(benchmark: Any, picture: Image.Image) -> None:
    big = picture.resize((1024, 1024), Image.Resampling.BICUBIC)
    pal = benchmark(extract_palette, big, 16)
    assert len(pal) == 16


@pytest.mark.parametrize("dither", ["none", "ordered", "error-diffusion"])
def test_map_256_onto_endesga_64(benchmark: Any, picture: Image.Image, dither: str) -> None:
    small = picture.resize((256, 256), Image.Resampling.BICUBIC)
    out = benchmark(map_to_palette, small, builtin_palette("endesga-64"), dither=dither)
    assert out.size == (256, 256)


def test_remove_background_1024(benchmark: Any, generated: Image.Image) -> None:
    out = benchmark(remove_background, generated)
    assert out.size == (1024, 1024)
