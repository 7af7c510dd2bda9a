"""Palette extraction and mapping (with dithering), on real sprites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from dgx_pixels.errors import InputError, PaletteError
from dgx_pixels.pixel.color import (
    ciede2000,
    linear_to_srgb,
    srgb_to_lab,
    srgb_to_oklab,
    to_float_rgb,
)
from dgx_pixels.pixel.dither import bayer_matrix, floyd_steinberg, nearest
from dgx_pixels.pixel.palette import Palette, builtin_palette
from dgx_pixels.pixel.quantize import extract_palette, map_to_palette

DATA = Path(__file__).resolve().parents[1] / "data"


def _sprite(name: str = "dcss-agnes.png") -> Image.Image:
    return Image.open(DATA / name).convert("RGBA")


def _opaque_rgb(img: Image.Image) -> np.ndarray:
    a = np.asarray(img.convert("RGBA"))
    return a[..., :3][a[..., 3] >= 128]


def test_extraction_is_deterministic_and_ignores_transparency() -> None:
    sprite = _sprite()
    a = extract_palette(sprite, 8)
    b = extract_palette(sprite, 8)
    assert a == b
    assert len(a) == 8
    assert not a.locked
    # the transparent pixels' RGB (black or anything) never counts
    arr = np.asarray(sprite).copy()
    arr[arr[..., 3] < 128] = (255, 0, 255, 0)
    assert extract_palette(Image.fromarray(arr), 8) == a


def test_extracted_palette_represents_the_sprite() -> None:
    sprite = _sprite("dcss-agnes.png")
    rgb = _opaque_rgb(sprite)
    pal = extract_palette(sprite, 12)
    mapped = _opaque_rgb(map_to_palette(sprite, pal))
    de = ciede2000(srgb_to_lab(to_float_rgb(rgb)), srgb_to_lab(to_float_rgb(mapped)))
    # measured: mean CIEDE2000 3.6 with 12 of the sprite's 55 colours
    assert float(de.mean()) < 4.5
    uniq = np.unique(rgb, axis=0)
    naive = Palette("spread", uniq[:: len(uniq) // 12][:12])  # 6.4
    de_naive = ciede2000(
        srgb_to_lab(to_float_rgb(rgb)),
        srgb_to_lab(to_float_rgb(_opaque_rgb(map_to_palette(sprite, naive)))),
    )
    assert float(de.mean()) < float(de_naive.mean())


def test_few_colours_come_back_exactly() -> None:
    img = Image.new("RGB", (4, 4), (1, 2, 3))
    img.putpixel((0, 0), (200, 100, 0))
    assert sorted(extract_palette(img, 16).hex_codes()) == ["#010203", "#c86400"]


def test_one_palette_for_a_batch() -> None:
    a, b = _sprite("dcss-wolf.png"), _sprite("dcss-long-sword.png")
    shared = extract_palette([a, b], 10).lock()
    colours = {tuple(c) for c in shared.colors.tolist()}
    for img in (a, b):
        assert {tuple(c) for c in _opaque_rgb(map_to_palette(img, shared)).tolist()} <= colours


def test_extraction_checks_its_input() -> None:
    with pytest.raises(InputError, match="1 to 256"):
        extract_palette(_sprite(), 0)
    with pytest.raises(PaletteError, match="no opaque pixels"):
        extract_palette(Image.new("RGBA", (4, 4)), 4)
    with pytest.raises(InputError, match="at least one image"):
        extract_palette([], 4)


def test_large_photo_like_input_is_binned_and_still_deterministic() -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(300, 300, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    assert extract_palette(img, 6) == extract_palette(img, 6)


@pytest.mark.parametrize("dither", ["none", "ordered", "error-diffusion"])
def test_mapping_uses_only_palette_colours_and_keeps_alpha(dither: str) -> None:
    sprite = _sprite()
    before = sprite.tobytes()
    pal = builtin_palette("endesga-32")
    out = map_to_palette(sprite, pal, dither=dither)
    assert sprite.tobytes() == before
    assert np.array_equal(np.asarray(out)[..., 3], np.asarray(sprite)[..., 3])
    used = {tuple(c) for c in _opaque_rgb(out).tolist()}
    assert used <= {tuple(c) for c in pal.colors.tolist()}


@pytest.mark.parametrize("dither", ["ordered", "error-diffusion"])
def test_dithering_keeps_the_average_of_a_gradient(dither: str) -> None:
    grad = Image.linear_gradient("L").resize((64, 64)).convert("RGB")
    bw = Palette("bw", [(0, 0, 0), (255, 255, 255)])
    flat = np.asarray(map_to_palette(grad, bw)).astype(float)[..., 0]
    dith = np.asarray(map_to_palette(grad, bw, dither=dither)).astype(float)[..., 0]
    src = np.asarray(grad).astype(float)[..., 0]

    # compare average brightness per band of 8 rows, in linear light
    def band(a: np.ndarray) -> np.ndarray:
        lin = (a / 255) ** 2.2
        means: np.ndarray = lin.reshape(8, 8, 64).mean(axis=(1, 2))
        return means

    err_flat = np.abs(band(flat) - band(src)).mean()
    err_dith = np.abs(band(dith) - band(src)).mean()
    assert err_dith < err_flat / 2


def test_bayer_matrices() -> None:
    for n in (2, 4, 8):
        m = bayer_matrix(n)
        assert sorted((m * n * n - 0.5).astype(int).ravel().tolist()) == list(range(n * n))
    with pytest.raises(InputError, match="power of two"):
        bayer_matrix(3)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(0, 10_000))
def test_floyd_steinberg_matches_the_raster_loop(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lin = rng.random((h, w, 3))
    pal_lin = rng.random((4, 3))
    pal_lab = srgb_to_oklab(linear_to_srgb(pal_lin))
    err = np.zeros((h, w, 3))
    expect = np.zeros((h, w), dtype=int)
    for y in range(h):
        for x in range(w):
            v = np.clip(lin[y, x] + err[y, x], 0.0, 1.0)
            i = int(nearest(srgb_to_oklab(linear_to_srgb(v))[None], pal_lab)[0])
            expect[y, x] = i
            e = v - pal_lin[i]
            for dy, dx, wt in ((0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)):
                if 0 <= y + dy < h and 0 <= x + dx < w:
                    err[y + dy, x + dx] += e * wt
    assert np.array_equal(floyd_steinberg(lin, pal_lin, pal_lab), expect)


def test_mapping_checks_its_options() -> None:
    img = Image.new("RGB", (4, 4))
    pal = builtin_palette("pico-8")
    with pytest.raises(InputError, match="dither must be one of"):
        map_to_palette(img, pal, dither="atkinson")
    with pytest.raises(InputError, match="palette must be a Palette"):
        map_to_palette(img, "pico-8")  # type: ignore[arg-type]
