"""restore: known size or scale, detection, refusal, alpha, purity, bad options."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from dgx_pixels.errors import InputError, NoGridError
from dgx_pixels.metrics.degrade import DegradeParams, degrade
from dgx_pixels.pixel.grid import Grid
from dgx_pixels.pixel.restore import DEFAULT_MIN_CONFIDENCE, RestoreResult, restore

from ..images import assert_image_equal

DATA = Path(__file__).resolve().parents[1] / "data"


def sprite(name: str = "alligator.png") -> Image.Image:
    with Image.open(DATA / name) as im:
        return im.convert("RGBA")


@pytest.mark.parametrize("name", ["alligator.png", "potion.png", "floor.png", "bardiche.png"])
def test_known_scale_gives_the_sprite_back_exactly(name: str) -> None:
    truth = sprite(name)
    big = truth.resize((32 * 12, 32 * 12), Image.Resampling.NEAREST)
    result = restore(big, scale=12)
    assert isinstance(result, RestoreResult)
    assert result.confidence == 1.0
    assert result.grid == Grid.uniform(big.size, (32, 32))
    assert_image_equal(result.image, truth)


def test_known_size_reads_the_cell_centre_not_its_blurred_edge() -> None:
    truth = sprite("floor.png")  # opaque, many colours
    big = truth.resize((32 * 16, 32 * 16), Image.Resampling.NEAREST).convert("RGB")
    big = big.filter(ImageFilter.GaussianBlur(2.0))
    noisy = np.asarray(big).astype(np.float64)
    noisy += np.random.default_rng(0).normal(0, 4, noisy.shape)
    big = Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))
    # Every cell within a few levels of the truth: the blur never reaches the centre
    # (each cell's own colour: merging inks is tested on its own).
    assert_image_equal(restore(big, size=(32, 32), merge_inks=False).image, truth, tolerance=6)


def test_detection_restores_a_degraded_sprite() -> None:
    truth = sprite()
    big = truth.resize((32 * 31, 32 * 31), Image.Resampling.NEAREST)
    big = big.crop((9, 4, big.width - 7, big.height - 3))  # phase offset: border cells cut
    result = restore(big)
    assert result.image.size == (32, 32)
    assert result.confidence >= DEFAULT_MIN_CONFIDENCE
    assert_image_equal(result.image, truth)


def test_noisy_cells_are_merged_into_inks_and_the_palette_is_returned() -> None:
    rng = np.random.default_rng(1)
    inks = np.array([(200, 40, 40), (40, 40, 200), (60, 160, 60), (72, 176, 70)], np.uint8)
    truth = inks[rng.integers(0, 4, (16, 16))]
    big = truth.repeat(10, axis=0).repeat(10, axis=1) + rng.normal(0, 5, (160, 160, 3))
    picture = Image.fromarray(np.clip(np.rint(big), 0, 255).astype(np.uint8))
    result = restore(picture, size=(16, 16))
    assert result.inks is not None
    assert len(result.inks) == 4
    assert result.palette is not None
    assert len(result.palette) == 4
    assert np.abs(np.asarray(result.image)[..., :3].astype(int) - truth).max() <= 2
    kept = restore(picture, size=(16, 16), merge_inks=False)
    assert kept.inks is None
    assert kept.palette is None
    assert len(kept.image.getcolors(1024)) > 50


def test_a_black_outline_and_a_dark_ramp_under_noise_keep_their_inks() -> None:
    # Near black, a level or two of noise used to look like a new ink (OKLab's
    # cube root: (1, 1, 1) is as far from black as two shades of a ramp), and
    # a black outline came back as 5-10 near-blacks. The dark ramp's steps
    # (CIEDE2000 about 5 apart) stay apart.
    rng = np.random.default_rng(3)
    inks = np.array([(0, 0, 0), (28, 30, 22), (44, 46, 36), (200, 180, 60)], np.uint8)
    truth = inks[rng.integers(0, 4, (24, 24))]
    big = truth.repeat(12, axis=0).repeat(12, axis=1) + rng.normal(0, 4, (288, 288, 3))
    picture = Image.fromarray(np.clip(np.rint(big), 0, 255).astype(np.uint8))
    result = restore(picture, size=(24, 24))
    assert result.inks is not None
    assert len(result.inks) == 4
    assert np.abs(np.asarray(result.image)[..., :3].astype(int) - truth).max() <= 3


def test_an_ink_drifting_across_the_picture_stays_one_ink() -> None:
    # A colour drift takes one ink across the picture over more than the
    # merging distance: it found two leaders, and k-means settled them on the
    # ink's two halves, 2-3 units apart, so one ink came back as two.
    rng = np.random.default_rng(5)
    inks = np.array([(150, 110, 40), (40, 60, 160)], np.uint8)
    truth = inks[rng.integers(0, 2, (24, 24))]
    drift = np.linspace(-5.0, 5.0, 24 * 12)[None, :, None] * np.array([1.0, 0.8, 0.3])
    big = truth.repeat(12, axis=0).repeat(12, axis=1) + drift + rng.normal(0, 2, (288, 288, 3))
    picture = Image.fromarray(np.clip(np.rint(big), 0, 255).astype(np.uint8))
    result = restore(picture, size=(24, 24))
    assert result.inks is not None
    assert len(result.inks) == 2
    assert np.abs(np.asarray(result.image)[..., :3].astype(int) - truth).max() <= 3


def test_a_close_lightness_ramp_under_chroma_noise_keeps_its_steps() -> None:
    # Three shades 8 levels apart (L* 3.1 each, under the merging distance of
    # 3.5) with every cell's chroma shifted, as JPEG's subsampled chroma
    # does. With chroma shifts counted as much as lightness steps, the inks
    # were cut across the ramp and cells came back 7 levels off their shade.
    rng = np.random.default_rng(11)
    inks = np.array([(150, 110, 70), (158, 118, 78), (166, 126, 86)], np.uint8)
    truth = inks[np.broadcast_to(np.arange(24) * 3 // 24, (24, 24))]
    shift = rng.uniform(-2.0, 2.0, (24, 24, 1)) * np.array([1.0, -1.0, 0.0])
    cells = truth + shift
    big = cells.repeat(12, axis=0).repeat(12, axis=1) + rng.normal(0, 2, (288, 288, 3))
    picture = Image.fromarray(np.clip(np.rint(big), 0, 255).astype(np.uint8))
    result = restore(picture, size=(24, 24))
    assert result.inks is not None
    assert len(result.inks) == 3
    assert np.abs(np.asarray(result.image)[..., :3].astype(int) - truth).max() <= 3


def test_rows_drawn_half_a_cell_off_are_read_where_they_were_drawn() -> None:
    # Blocks on two lattices: a band of rows drawn half a cell to the right.
    # Read on the picture's lattice, each of its cells mixed two of the sprite's.
    # The art runs on across the band (columns of one ink, a few odd cells),
    # which tells the side the band was drawn to.
    rng = np.random.default_rng(7)
    inks = np.array([(200, 40, 40), (40, 40, 200), (60, 160, 60), (230, 210, 90)], np.uint8)
    index = np.broadcast_to(rng.integers(0, 4, 24), (24, 24)).copy()
    odd = rng.random((24, 24)) < 0.1
    index[odd] = rng.integers(0, 4, int(odd.sum()))
    truth = inks[index]
    big = truth.repeat(12, axis=0).repeat(12, axis=1)
    big[96:180, 6:] = big[96:180, :-6].copy()
    result = restore(Image.fromarray(big))
    assert result.image.size == (24, 24)
    out = np.asarray(result.image)[..., :3]
    assert np.array_equal(out, truth)


def test_alpha_is_taken_per_cell() -> None:
    truth = sprite("bardiche.png")
    big = truth.resize((32 * 8, 32 * 8), Image.Resampling.NEAREST)
    out = np.asarray(restore(big, scale=8).image)
    ref = np.asarray(truth)
    assert np.array_equal(out[..., 3], ref[..., 3])
    assert not out[out[..., 3] == 0].any()  # fully transparent cells are (0, 0, 0, 0)


def test_no_grid_is_refused_with_its_confidence() -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (256, 256, 3), np.uint8))
    with pytest.raises(NoGridError, match=r"no pixel grid found \(confidence 0\.\d\d < 0\.5\)"):
        restore(noise)
    # Asked not to refuse, it returns its best guess and says how sure it is.
    result = restore(noise, min_confidence=0.0)
    assert result.confidence < DEFAULT_MIN_CONFIDENCE


def test_restore_never_changes_its_input_and_is_deterministic() -> None:
    big = sprite().resize((32 * 9, 32 * 9), Image.Resampling.NEAREST)
    before = big.tobytes()
    first, second = restore(big), restore(big)
    assert big.tobytes() == before
    assert_image_equal(first.image, second.image)
    assert first.grid == second.grid
    assert first.image is not big


@pytest.mark.parametrize("mode", ["RGB", "P", "L", "LA"])
def test_any_pillow_mode_is_accepted(mode: str) -> None:
    big = sprite("floor.png").resize((128, 128), Image.Resampling.NEAREST).convert(mode)
    out = restore(big, size=(32, 32)).image
    assert out.mode == "RGBA"
    assert out.size == (32, 32)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": (32, 32), "scale": 4.0}, "either size or scale"),
        ({"size": (0, 32)}, "at least 1x1, got 0x32"),
        ({"size": (33, 32)}, "33x32 is larger than the 32x32 input"),
        ({"size": (4.5, 4)}, "pair of integers"),
        ({"scale": 0.5}, "at least 1, got 0.5"),
        ({"scale": math.nan}, "finite number"),
        ({"scale": 64.0}, "larger than the 32x32 image"),
        ({"min_confidence": 1.5}, "between 0 and 1, got 1.5"),
    ],
)
def test_bad_options_are_refused_up_front(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        restore(sprite(), **kwargs)  # type: ignore[arg-type]


def test_a_non_image_is_refused() -> None:
    with pytest.raises(InputError, match="must be a PIL image, got ndarray"):
        restore(np.zeros((8, 8, 4), np.uint8))  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    cols=st.integers(4, 24),
    rows=st.integers(4, 24),
    scale=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
def test_any_sprite_at_any_integer_scale_round_trips(
    cols: int, rows: int, scale: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (rows, cols, 4), dtype=np.uint8)
    pixels[..., 3] = np.where(pixels[..., 3] > 127, 255, 0)
    pixels[pixels[..., 3] == 0] = 0
    truth = Image.fromarray(pixels, "RGBA")
    big = truth.resize((cols * scale, rows * scale), Image.Resampling.NEAREST)
    assert_image_equal(restore(big, scale=scale).image, truth, what="by-scale")
    assert_image_equal(restore(big, size=(cols, rows)).image, truth, what="by-size")


def test_an_rgb_picture_restores_as_its_rgba_conversion() -> None:
    # RGB is read without an alpha channel (faster); the sprite, grid and inks
    # are those of the same picture made RGBA, opaque.
    params = DegradeParams(scale_x=17.2, scale_y=17.0, blur=0.8, noise=3.0, seed=4)
    rgb = degrade(sprite("floor.png"), params).convert("RGB")
    fast, slow = restore(rgb), restore(rgb.convert("RGBA"))
    assert fast.grid == slow.grid
    assert_image_equal(fast.image, slow.image)
    assert fast.inks is not None
    assert slow.inks is not None
    assert fast.inks.tolist() == slow.inks.tolist()
    assert fast.image.getchannel("A").getextrema() == (255, 255)
