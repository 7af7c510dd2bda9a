"""PixelSpec validation and to_pixel_art / lock_palette on real sprites."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.errors import InputError, NoGridError, PaletteError
from dgx_pixels.pixel.alpha import binarize_alpha
from dgx_pixels.pixel.metrics import measure
from dgx_pixels.pixel.palette import builtin_palette, resolve_palette
from dgx_pixels.pixel.spec import PixelSpec, lock_palette, to_pixel_art

DATA = Path(__file__).resolve().parents[1] / "data"
SPRITES = ["dcss-wolf.png", "dcss-agnes.png", "dcss-long-sword.png"]


def _generated(
    name: str, *, scale: int = 24, bg: tuple[int, int, int] = (255, 0, 255)
) -> Image.Image:
    """A sprite as a generator would draw it: large, on a flat background."""
    sprite = binarize_alpha(Image.open(DATA / name))
    canvas = Image.new("RGBA", sprite.size, (*bg, 255))
    canvas.alpha_composite(sprite)
    w, h = sprite.size
    return canvas.resize((w * scale, h * scale), Image.Resampling.NEAREST)


@pytest.mark.parametrize("name", SPRITES)
def test_generated_sprite_comes_back_exactly(name: str) -> None:
    truth = np.asarray(binarize_alpha(Image.open(DATA / name)))
    out = np.asarray(to_pixel_art(_generated(name), PixelSpec(size=(32, 32))))
    assert out.shape == (32, 32, 4)
    opaque = truth[..., 3] == 255
    assert np.array_equal(out[..., 3] == 255, opaque)
    assert np.array_equal(out[opaque], truth[opaque])


def test_palette_dither_outline_and_background_colour() -> None:
    spec = PixelSpec(
        scale=24, palette="pico-8", dither="ordered", outline="darker", background="#1a1c2c"
    )
    out = to_pixel_art(_generated("dcss-agnes.png"), spec)
    m = measure(out)
    assert m.alpha_binarity == 1.0
    # every colour is PICO-8 except the background fill
    pico = {tuple(c) for c in builtin_palette("pico-8").colors.tolist()}
    rgb = {tuple(c) for c in np.asarray(out)[..., :3].reshape(-1, 3).tolist()}
    assert rgb - pico == {(0x1A, 0x1C, 0x2C)}
    assert (np.asarray(out)[..., 3] == 255).all()


def test_auto_palette_and_lock_for_a_batch() -> None:
    spec = PixelSpec(size=(32, 32), palette="auto:8")
    images = [_generated(n) for n in SPRITES]
    locked = lock_palette(spec, images)
    assert locked.palette is not None
    assert locked.palette.startswith("#")
    shared = {tuple(c) for c in resolve_palette(locked.palette).colors.tolist()}
    assert len(shared) <= 8
    for img in images:
        arr = np.asarray(to_pixel_art(img, locked))
        used = {tuple(c) for c in arr[..., :3][arr[..., 3] == 255].tolist()}
        assert used <= shared
    assert lock_palette(PixelSpec(size=(4, 4), palette="db16"), images).palette == "db16"


def test_pixelize_sampling_on_a_smooth_upscale() -> None:
    smooth = Image.open(DATA / "dcss-wolf.png").resize((100, 100), Image.Resampling.BICUBIC)
    out = to_pixel_art(smooth, PixelSpec(size=(25, 25), sampling="contrast", palette="auto:6"))
    assert out.size == (25, 25)
    assert measure(out).colors_used <= 6


def test_spec_round_trips_through_json() -> None:
    spec = PixelSpec(size=(16, 24), palette="auto:12", dither="error-diffusion", outline="#000000")
    again = PixelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": (0, 8)}, InputError, "at least 1x1"),
        ({"size": [8, 8]}, InputError, "pair of integers"),
        ({"size": (8, 8), "scale": 4.0}, InputError, "either size or scale"),
        ({"scale": 0.5}, InputError, "at least 1"),
        ({"palette": "pico-9"}, PaletteError, "did you mean"),
        ({"palette": "auto:1"}, PaletteError, "2 to 256"),
        ({"dither": "random"}, InputError, "dither must be"),
        ({"background": "green"}, InputError, "background must be"),
        ({"outline": "thick"}, InputError, "outline must be"),
        ({"outline_side": "middle"}, InputError, "outline_side"),
        ({"sampling": "lanczos"}, InputError, "sampling must be"),
        ({"sampling": "contrast"}, InputError, "needs a size"),
        ({"seed": -1}, InputError, "seed must be"),
    ],
)
def test_bad_specs_are_refused_on_construction(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        PixelSpec(**kwargs)  # type: ignore[arg-type]


def test_errors_from_the_image() -> None:
    small = Image.new("RGB", (16, 16))
    with pytest.raises(InputError, match="larger than"):
        to_pixel_art(small, PixelSpec(size=(32, 32)))
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (97, 89, 3), dtype=np.uint8))
    with pytest.raises(NoGridError):
        to_pixel_art(noise, PixelSpec())
    with pytest.raises(InputError, match="unknown PixelSpec field"):
        PixelSpec.from_dict({"colours": 4})


def test_input_is_never_changed() -> None:
    img = _generated("dcss-long-sword.png")
    before = img.tobytes()
    to_pixel_art(img, PixelSpec(size=(32, 32), palette="auto:4", outline="darker"))
    assert img.tobytes() == before


@pytest.mark.parametrize("sampling", ["grid", "box", "contrast"])
def test_a_scale_that_leaves_no_cell_is_an_error_for_every_sampling(sampling: str) -> None:
    image = Image.new("RGB", (64, 64), (200, 30, 60))
    with pytest.raises(InputError, match="scale 200 is larger than the 64x64 image"):
        to_pixel_art(image, PixelSpec(scale=200, sampling=sampling))  # 0.32 cells: none
