"""Background removal (holes included) and alpha binarisation, on real sprites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel.alpha import binarize_alpha, estimate_background, remove_background

DATA = Path(__file__).resolve().parents[1] / "data"
SPRITES = ["dcss-wolf.png", "dcss-agnes.png", "dcss-long-sword.png"]


def _on_background(sprite: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """The sprite with binary alpha, drawn on a flat background."""
    s = binarize_alpha(sprite)
    bg = Image.new("RGBA", s.size, (*colour, 255))
    bg.alpha_composite(s)
    return bg


def _alpha(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGBA"))[..., 3] >= 128


@pytest.mark.parametrize("name", SPRITES)
@pytest.mark.parametrize("colour", [(255, 0, 255), (40, 160, 90), (255, 255, 255)])
def test_flat_background_is_removed_exactly(name: str, colour: tuple[int, int, int]) -> None:
    sprite = Image.open(DATA / name)
    truth = _alpha(binarize_alpha(sprite))
    out = remove_background(_on_background(sprite, colour))
    assert estimate_background(_on_background(sprite, colour)) == colour
    # white touches a few light sprite pixels: allow a handful out of 1024
    assert (_alpha(out) != truth).sum() <= (6 if colour == (255, 255, 255) else 0)


def test_the_real_sprites_have_enclosed_holes() -> None:
    # what makes the exact-removal test above meaningful: transparent regions
    # that a flood fill from the border never reaches (between legs, arms...)
    from dgx_pixels.pixel._arrays import label_components

    holes = 0
    for name in SPRITES:
        clear = ~_alpha(binarize_alpha(Image.open(DATA / name)))
        labels, n = label_components(clear)
        border = set(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]).tolist())
        holes += n - len(border - {0})
    assert holes == 11  # wolf 4, agnes 6, long sword 1; most are 1-2 pixels


def test_enclosed_holes_are_removed_too() -> None:
    ring = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ring.paste((200, 60, 20, 255), (4, 4, 28, 28))
    ring.paste((0, 0, 0, 0), (8, 8, 24, 24))  # a 16x16 hole inside
    img = _on_background(ring, (0, 255, 0))
    out = _alpha(remove_background(img))
    assert not out[16, 16]  # the hole
    assert out[5, 5]  # the ring
    assert not out[0, 0]  # the outside
    assert out.sum() == 24 * 24 - 16 * 16


def test_noisy_background_is_removed() -> None:
    sprite = Image.open(DATA / "dcss-wolf.png")
    truth = _alpha(binarize_alpha(sprite))
    img = np.asarray(_on_background(sprite, (90, 140, 210))).astype(int)
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 6, size=(*img.shape[:2], 3))
    bg = ~truth
    img[..., :3][bg] = np.clip(img[..., :3][bg] + noise[bg], 0, 255)
    out = remove_background(Image.fromarray(img.astype(np.uint8)))
    assert (_alpha(out) != truth).mean() < 0.01


def test_small_detail_in_the_background_colour_is_kept() -> None:
    img = Image.new("RGB", (32, 32), (255, 255, 255))
    img.paste((30, 30, 30), (8, 8, 24, 24))
    img.putpixel((15, 15), (235, 235, 235))  # a highlight close to, not equal to, white
    out = remove_background(img)
    assert _alpha(out)[15, 15]


def test_full_bleed_image_keeps_everything() -> None:
    noise = np.random.default_rng(0).integers(0, 255, size=(64, 64, 3), dtype=np.uint8)
    img = Image.fromarray(noise)
    assert estimate_background(img) is None
    assert _alpha(remove_background(img)).all()


def test_already_transparent_sprite_only_gets_binary_alpha() -> None:
    sprite = Image.open(DATA / "dcss-long-sword.png").convert("RGBA")
    out = remove_background(sprite)
    a = np.asarray(out)[..., 3]
    assert set(np.unique(a).tolist()) <= {0, 255}
    assert np.array_equal(a == 255, np.asarray(sprite)[..., 3] >= 128)


def test_input_is_not_changed_and_options_are_checked() -> None:
    img = _on_background(Image.open(DATA / "dcss-agnes.png"), (255, 0, 255))
    before = img.tobytes()
    remove_background(img)
    assert img.tobytes() == before
    with pytest.raises(InputError, match="tolerance"):
        remove_background(img, tolerance=0)
    with pytest.raises(InputError, match="min_hole"):
        remove_background(img, min_hole=2)
    with pytest.raises(InputError, match="threshold"):
        binarize_alpha(img, threshold=0)
