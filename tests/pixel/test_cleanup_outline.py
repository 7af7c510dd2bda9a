"""Stray pixels, anti-aliasing fringes and outlines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel.alpha import binarize_alpha, remove_background
from dgx_pixels.pixel.cleanup import cleanup, remove_fringe, remove_strays, stray_mask
from dgx_pixels.pixel.outline import add_outline

from ..images import assert_image_equal

DATA = Path(__file__).resolve().parents[1] / "data"


def _sprite() -> Image.Image:
    return binarize_alpha(Image.open(DATA / "dcss-wolf.png"))


def test_strays_are_found_and_removed_from_a_real_sprite() -> None:
    sprite = _sprite()
    arr = np.asarray(sprite).copy()
    empty = arr[..., 3] == 0
    # two spots with nothing around them (5x5 of transparency)
    spots = [
        (y, x)
        for y in range(2, 30)
        for x in range(2, 30)
        if empty[y - 2 : y + 3, x - 2 : x + 3].all()
    ][::7][:2]
    assert len(spots) == 2
    for y, x in spots:
        arr[y, x] = (255, 0, 0, 255)
    dirty = Image.fromarray(arr)
    found = stray_mask(dirty)
    assert sorted(map(tuple, np.argwhere(found).tolist())) == sorted(spots)
    # removing them gives back the hand-made sprite, untouched
    assert_image_equal(remove_strays(dirty), sprite)


def test_speck_and_pinhole_take_the_colour_around() -> None:
    img = Image.new("RGBA", (5, 5), (0, 120, 0, 255))
    img.putpixel((1, 1), (255, 255, 0, 255))
    img.putpixel((3, 3), (0, 0, 0, 0))
    out = remove_strays(img)
    assert out.getpixel((1, 1)) == (0, 120, 0, 255)
    assert out.getpixel((3, 3)) == (0, 120, 0, 255)


def test_fringe_pixels_are_dropped_or_recoloured() -> None:
    img = Image.new("RGB", (12, 12), (255, 255, 255))
    img.paste((20, 20, 120), (3, 3, 9, 9))
    # an anti-aliased halo: a blend mostly white on the left, mostly blue at the top
    for y in range(3, 9):
        img.putpixel((2, y), (200, 200, 230))
    for x in range(3, 9):
        img.putpixel((x, 2), (70, 70, 150))
    cut = remove_background(img)  # the light halo survives background removal
    assert np.asarray(cut)[5, 2, 3] == 255
    out = remove_fringe(cut, background=(255, 255, 255))
    assert np.asarray(out)[5, 2, 3] == 0  # mostly background: dropped
    assert out.getpixel((5, 2)) == (20, 20, 120, 255)  # mostly sprite: sprite colour
    assert out.getpixel((5, 5)) == (20, 20, 120, 255)


def test_cleanup_leaves_a_clean_sprite_alone() -> None:
    sprite = _sprite()
    assert_image_equal(cleanup(sprite), sprite)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_outside_outline_rings_the_sprite(connectivity: int) -> None:
    sprite = _sprite()
    out = add_outline(sprite, color="#ff00ff", connectivity=connectivity)
    a0 = np.asarray(sprite)[..., 3] == 255
    a1 = np.asarray(out)[..., 3] == 255
    new = a1 & ~a0
    assert new.any()
    assert np.array_equal(np.asarray(out)[a0], np.asarray(sprite)[a0])  # sprite untouched
    assert (np.asarray(out)[new][:, :3] == (255, 0, 255)).all()
    # every new pixel touches the sprite
    from dgx_pixels.pixel._arrays import neighbour_count

    assert (neighbour_count(a0, connectivity=connectivity)[new] > 0).all()


def test_inside_outline_keeps_the_size_and_darker_shade() -> None:
    img = Image.new("RGBA", (6, 6), (0, 0, 0, 0))
    img.paste((200, 150, 100, 255), (1, 1, 5, 5))
    out = add_outline(img, side="inside")
    a = np.asarray(out)
    assert (a[..., 3] == 255).sum() == 16
    edge, centre = a[1, 1, :3].astype(int), a[2, 2, :3].astype(int)
    assert centre.tolist() == [200, 150, 100]
    assert edge.sum() < centre.sum()


def test_outline_checks_options_and_keeps_input() -> None:
    sprite = _sprite()
    before = sprite.tobytes()
    add_outline(sprite)
    assert sprite.tobytes() == before
    with pytest.raises(InputError, match="side"):
        add_outline(sprite, side="middle")
    with pytest.raises(InputError, match="hex colour"):
        add_outline(sprite, color="blue")
    with pytest.raises(InputError, match="connectivity"):
        add_outline(sprite, connectivity=6)
