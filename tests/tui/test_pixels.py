"""Exact pictures: half blocks show 1x2 sprite pixels per cell; graphics are never resampled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.image_files import read_image
from dgx_pixels.tui.pixels import CHECKER, fit_zoom, graphics_picture, halfblock_rows

from ..images import assert_image_equal

DATA = Path(__file__).parent.parent / "data"


def on_checker(sprite: Image.Image) -> Image.Image:
    """``sprite`` over the checkerboard, composited by Pillow (not by the code under test)."""
    board = Image.new("RGBA", sprite.size)
    board.putdata(
        [CHECKER[(x + y) % 2] + (255,) for y in range(sprite.height) for x in range(sprite.width)]
    )
    return Image.alpha_composite(board, sprite.convert("RGBA")).convert("RGB")


def decode(rows: list, width: int, height: int) -> Image.Image:
    """The picture the half-block segments draw: top pixel = foreground, bottom = background."""
    out = Image.new("RGB", (width, height))
    for cy, row in enumerate(rows):
        x = 0
        for segment in row:
            for _ in segment.text:
                assert segment.text[0] == "▀"
                top = segment.style.color.get_truecolor()
                out.putpixel((x, 2 * cy), tuple(top))
                if 2 * cy + 1 < height:
                    out.putpixel((x, 2 * cy + 1), tuple(segment.style.bgcolor.get_truecolor()))
                x += 1
        assert x == width
    return out


@pytest.mark.parametrize("name", ["dcss-wolf.png", "potion.png", "dcss-long-sword.png"])
def test_halfblocks_draw_every_sprite_pixel_exactly(name: str) -> None:
    sprite = read_image(DATA / name)
    rows = halfblock_rows(sprite)
    assert len(rows) == (sprite.height + 1) // 2
    assert_image_equal(decode(rows, *sprite.size), on_checker(sprite), what=name)


def test_zoom_repeats_pixels_nearest_only() -> None:
    sprite = read_image(DATA / "potion.png")
    rows = halfblock_rows(sprite, zoom=3)
    got = decode(rows, sprite.width * 3, sprite.height * 3)
    want = on_checker(
        sprite.resize((sprite.width * 3, sprite.height * 3), Image.Resampling.NEAREST)
    )
    # the checker is per drawn pixel after zoom, so compare the opaque pixels only
    opaque = np.asarray(sprite.resize(got.size, Image.Resampling.NEAREST))[..., 3] == 255
    assert np.array_equal(np.asarray(got)[opaque], np.asarray(want)[opaque])
    assert len({tuple(c) for c in np.asarray(got)[opaque]}) <= len(
        {tuple(c) for c in np.asarray(sprite)[..., :3][np.asarray(sprite)[..., 3] == 255]}
    )


def test_graphics_picture_is_whole_cells_of_nearest_pixels() -> None:
    sprite = read_image(DATA / "dcss-wolf.png")
    picture, cols, rows = graphics_picture(sprite, zoom=1, cell=(9, 19))
    assert picture.size == (cols * 9, rows * 19)
    side = round(19 / 2)  # a sprite pixel is as tall as in half blocks: half a cell
    big = sprite.resize((sprite.width * side, sprite.height * side), Image.Resampling.NEAREST)
    opaque = np.asarray(big)[..., 3] == 255
    crop = np.asarray(picture)[: big.height, : big.width]
    assert np.array_equal(crop[opaque], np.asarray(big)[..., :3][opaque])


def test_fit_zoom_never_shrinks() -> None:
    assert fit_zoom((64, 64), (10, 5)) == 1
    assert fit_zoom((16, 16), (64, 32)) == 4
