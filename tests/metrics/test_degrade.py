"""The degradations: cell layout, determinism, what each level does."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.metrics.degrade import (
    LEVELS,
    DegradeParams,
    cell_bounds,
    degrade,
    draw_params,
    truth,
)

from ..images import assert_image_equal


def test_cell_bounds_cut_the_border_cells_and_drift_inside() -> None:
    b = cell_bounds(32, 31.3, (0.7, 0.8), 0.25, 2, 0.0)
    plain = cell_bounds(32, 31.3, (0.7, 0.8), 0.0, 2, 0.0)
    assert b[0] == plain[0] == 0
    assert plain[1] == round(0.7 * 31.3)
    assert b[-1] == plain[-1] == round((30 + 0.7 + 0.8) * 31.3)
    widths = np.diff(b)
    assert widths.min() >= 1
    assert set(widths[1:-1]) > {31, 32}  # uneven cells
    assert 0 < np.abs(b - plain).max() <= round(0.25 * 31.3) + 1


def test_degrade_draws_each_cell_at_its_bounds() -> None:
    sprite = Image.fromarray(np.arange(4 * 3 * 4, dtype=np.uint8).reshape(3, 4, 4) * 5 + 3)
    big = np.asarray(degrade(sprite, DegradeParams(10.0, 10.0, edge_x=(0.5, 1.0))))
    assert big.shape == (30, 35, 4)
    ref = np.asarray(sprite)
    assert np.array_equal(big[0, 0], ref[0, 0])
    assert np.array_equal(big[0, 4], ref[0, 0])
    assert np.array_equal(big[0, 5], ref[0, 1])


@pytest.mark.parametrize("level", LEVELS)
def test_levels_are_seeded_and_deterministic(level: str) -> None:
    sprite = Image.new("RGBA", (8, 8), (200, 100, 50, 255))
    p1 = draw_params(level, 8, 8, np.random.default_rng(3))  # type: ignore[arg-type]
    p2 = draw_params(level, 8, 8, np.random.default_rng(3))  # type: ignore[arg-type]
    assert p1 == p2
    assert_image_equal(degrade(sprite, p1), degrade(sprite, p2))


def test_what_each_level_does() -> None:
    rng = np.random.default_rng(0)
    easy = [draw_params("easy", 32, 32, rng) for _ in range(50)]
    assert all(p.scale_x.is_integer() and p.blur == 0 and p.background is None for p in easy)
    hard = [draw_params("hard", 32, 32, rng) for _ in range(50)]
    assert all(8 <= p.scale_x <= 32 and p.jpeg_quality and p.background for p in hard)
    assert any(p.scale_x != p.scale_y for p in hard)
    with pytest.raises(ValueError, match="level must be one of"):
        draw_params("extreme", 32, 32, rng)  # type: ignore[arg-type]


def test_hard_level_is_an_opaque_rgb_picture() -> None:
    sprite = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    sprite.putpixel((4, 4), (255, 255, 0, 255))
    params = draw_params("hard", 8, 8, np.random.default_rng(1))
    out = degrade(sprite, params)
    assert out.mode == "RGB"
    corner = np.asarray(out)[0, 0].astype(int)
    assert np.abs(corner - np.asarray(params.background)).max() < 40  # background, drift+noise


def test_new_levels_do_what_they_say() -> None:
    sprite = Image.new("RGBA", (8, 8), (200, 100, 50, 255))
    sprite.putpixel((2, 2), (20, 40, 240, 255))
    rng = np.random.default_rng(2)
    low = draw_params("low-contrast", 8, 8, rng)
    shown = np.asarray(truth(sprite, low)).astype(int)
    original = np.asarray(sprite).astype(int)
    spread = np.ptp(shown[..., :3].reshape(-1, 3), axis=0)
    assert (spread <= 0.36 * np.ptp(original[..., :3].reshape(-1, 3), axis=0) + 1).all()
    assert low.background is not None
    assert np.abs(np.subtract(low.background, low.tint)).max() <= 8
    half = draw_params("half-cell", 8, 8, rng)
    assert half.half_rows is not None
    assert 0.25 <= half.half_rows[1] - half.half_rows[0] <= 0.5
    textured = draw_params("textured", 8, 8, rng)
    assert 4 <= textured.texture <= 10
    # The plain levels show the sprite itself.
    assert_image_equal(truth(sprite, draw_params("hard", 8, 8, rng)), sprite)


def test_half_cell_rows_are_drawn_half_a_cell_to_the_right() -> None:
    sprite = Image.new("RGBA", (4, 4), (0, 0, 0, 255))
    for y in range(4):
        sprite.putpixel((1, y), (255, 255, 255, 255))
    big = np.asarray(degrade(sprite, DegradeParams(10.0, 10.0, half_rows=(0.5, 1.0))))
    assert big[5, 10:20, 0].tolist() == [255] * 10  # the top rows as drawn
    assert big[25, 15:25, 0].tolist() == [255] * 10  # the band, 5 px to the right
    assert big[25, 10:15, 0].tolist() == [0] * 5
