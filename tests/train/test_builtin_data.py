"""The built-in model's training set on real DCSS sprites: captions, colours, balance, cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dgx_pixels.errors import InputError
from dgx_pixels.train._builtin import data

RLTILES = Path(__file__).parent.parent / "data" / "rltiles"


@pytest.fixture(scope="module")
def sprites() -> data.SpriteSet:
    return data.read_sprites(RLTILES, heldout=0.3)


def test_captions_come_from_the_path() -> None:
    assert data.caption_from_path("item/weapon/long_sword1.png") == "long sword, weapon, item"
    assert data.caption_from_path("dngn/wall/stone2_dark3.png") == "stone dark, wall, dungeon"
    assert data.caption_from_path("item/gold/02.png") == "gold, item"
    assert data.caption_from_path("effect/icicle6.png") == "icicle, effect"


def test_colour_words_read_the_opaque_pixels() -> None:
    img = np.zeros((4, 4, 4), np.uint8)
    img[:2, :, :3] = (30, 60, 220)  # blue
    img[2:3, :, :3] = (40, 180, 40)  # green
    img[:3, :, 3] = 255  # the last row stays transparent and its colour is ignored
    img[3, :, :3] = (255, 0, 0)
    assert data.colour_words(img) == ["blue", "green"]
    assert data.colour_words(np.zeros((4, 4, 4), np.uint8)) == []


def test_real_sprites_read_with_captions_and_categories(sprites: data.SpriteSet) -> None:
    assert len(sprites.paths) == 12
    assert sprites.images.shape == (12, 32, 32, 4)
    assert sprites.categories == (
        "dngn/floor", "dngn/wall", "item/potion", "item/weapon", "mon/animals",
    )  # fmt: skip
    i = sprites.paths.index("item/weapon/long_sword1.png")
    assert sprites.categories[sprites.category_ids[i]] == "item/weapon"
    assert len(sprites.captions[i]) == data.CAPTION_VARIANTS
    assert sprites.captions[i][0] == "long sword, weapon, item"
    assert all("long sword" in c for c in sprites.captions[i])
    # The split is a hash of the path: the same on every read.
    assert sprites.heldout.tolist() == data.read_sprites(RLTILES, heldout=0.3).heldout.tolist()
    assert 0 < sprites.heldout.sum() < 12


def test_balanced_sampling_gives_each_category_the_same_mass(sprites: data.SpriteSet) -> None:
    w = data.sampling_weights(sprites.category_ids, power=1.0)
    mass = np.bincount(sprites.category_ids, weights=w)
    np.testing.assert_allclose(mass, 1 / len(sprites.categories))
    uniform = data.sampling_weights(sprites.category_ids, power=0.0)
    np.testing.assert_allclose(uniform, 1 / 12)
    with pytest.raises(InputError, match="got 2"):
        data.sampling_weights(sprites.category_ids, power=2)


def test_the_cache_round_trips(sprites: data.SpriteSet, tmp_path: Path) -> None:
    seen: list[str] = []

    def encode(captions: list[str]) -> np.ndarray:
        seen.extend(captions)
        return np.array([[len(c), c.count(" "), 1.0] for c in captions], np.float32)

    path = data.write_cache(sprites, encode, tmp_path / "c.safetensors")
    assert len(seen) == len(set(seen))  # each distinct caption is embedded once
    back = data.load_cache(path)
    assert back.sprites.paths == sprites.paths
    assert back.sprites.captions == sprites.captions
    np.testing.assert_array_equal(back.sprites.images, sprites.images)
    np.testing.assert_array_equal(back.sprites.heldout, sprites.heldout)
    assert back.text.shape == (12, data.CAPTION_VARIANTS, 3)
    assert back.text[3, 1, 0] == len(sprites.captions[3][1])


def test_bad_folders_say_so(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        data.read_sprites(tmp_path / "nope")
    with pytest.raises(InputError, match="no 32x32 PNG sprites"):
        data.read_sprites(tmp_path)
    with pytest.raises(InputError, match="no such sprite cache"):
        data.load_cache(tmp_path / "c.safetensors")
