"""Colour conversions and CIEDE2000 against published values and scikit-image."""

from __future__ import annotations

import numpy as np
import pytest

from dgx_pixels.pixel.color import ciede2000, oklab_to_srgb, srgb_to_lab, srgb_to_oklab

# Sharma, Wu & Dalal (2005), Table 1: Lab pairs and their CIEDE2000 differences.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_ciede2000_matches_sharma(
    lab1: tuple[float, ...], lab2: tuple[float, ...], expected: float
) -> None:
    assert float(ciede2000(lab1, lab2)) == pytest.approx(expected, abs=1e-4)
    assert float(ciede2000(lab2, lab1)) == pytest.approx(expected, abs=1e-4)


def test_oklab_round_trip_on_all_corners_and_random_colours() -> None:
    rng = np.random.default_rng(0)
    colours = np.vstack(
        [np.array(np.meshgrid([0, 1], [0, 1], [0, 1])).T.reshape(-1, 3), rng.random((500, 3))]
    )
    assert np.allclose(oklab_to_srgb(srgb_to_oklab(colours)), colours, atol=1e-6)


def test_srgb_to_lab_reference_points() -> None:
    assert np.allclose(srgb_to_lab(np.array([1.0, 1.0, 1.0])), [100, 0, 0], atol=0.01)
    assert np.allclose(srgb_to_lab(np.array([1.0, 0.0, 0.0])), [53.24, 80.09, 67.20], atol=0.05)


def test_ciede2000_and_lab_match_scikit_image_on_random_colours() -> None:
    from skimage.color import deltaE_ciede2000, rgb2lab

    rng = np.random.default_rng(0)
    rgb = rng.random((2, 2000, 3))
    rgb[:, :50] = rng.integers(0, 2, (2, 50, 3))  # corners of the cube: zero chroma too
    rgb[1, 50:100] = rgb[0, 50:100] + rng.normal(0, 0.01, (50, 3))  # close pairs
    rgb = np.clip(rgb, 0, 1)
    lab = srgb_to_lab(rgb)
    assert np.allclose(lab, rgb2lab(rgb, illuminant="D65"), atol=0.02)
    # Random Lab pairs too, with hue differences across the 180-degree wrap.
    wide = rng.uniform([0, -100, -100], [100, 100, 100], (2, 2000, 3))
    lab_pairs = np.concatenate([lab, wide], axis=1)
    ours = ciede2000(lab_pairs[0], lab_pairs[1])
    theirs = deltaE_ciede2000(lab_pairs[0], lab_pairs[1])
    assert np.allclose(ours, theirs, atol=1e-6)
