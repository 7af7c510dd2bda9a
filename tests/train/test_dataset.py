"""The training set as the trainer sees it: sizes, nearest upscales, buckets, captions,
and bad data refused with the file named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.engine import drawing_size, resolve_model
from dgx_pixels.train import DatasetError, TrainConfig, load_dataset, preset

DATA = Path(__file__).parents[1] / "data" / "train-sprites"
SDXL = resolve_model("sdxl-base")
TINY = resolve_model("random:sdxl-tiny")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the four DCSS training sprites (and the wolf's caption)."""
    out = tmp_path / "sprites"
    shutil.copytree(DATA, out)
    return out


def config(**changes: object) -> TrainConfig:
    return preset("pixel-fast", trigger="ourstyle", **changes)


def test_sprites_are_drawn_like_the_engine_draws_them(folder: Path) -> None:
    dataset = load_dataset(folder, config(), SDXL)
    names = [s.path.name for s in dataset.samples]
    assert names == ["bat.png", "black_bear.png", "bullfrog.png", "wolf.png"]
    for s in dataset.samples:
        assert s.sprite.size == (32, 32)
        assert (s.drawing.width, s.drawing.height, s.drawing.factor) == (1024, 1024, 32)
    assert dataset.buckets == {(1024, 1024): [0, 1, 2, 3]}


def test_captions_come_from_txt_sidecar_or_name_with_the_trigger_in_front(
    folder: Path,
) -> None:
    sidecar = {"format": "dgx-pixels/1", "request": {"prompt": "a  black bear, standing"}}
    (folder / "black_bear.json").write_text(json.dumps(sidecar))
    dataset = load_dataset(folder, config(), SDXL)
    got = {s.path.stem: (s.caption, s.caption_source) for s in dataset.samples}
    assert got == {
        "bat": ("ourstyle, bat", "name"),
        "black_bear": ("ourstyle, a black bear, standing", "sidecar"),
        "bullfrog": ("ourstyle, bullfrog", "name"),
        "wolf": ("ourstyle, a grey wolf, side view", "txt"),
    }


def test_an_exact_upscale_is_trained_at_its_true_size(folder: Path) -> None:
    wolf = Image.open(folder / "wolf.png").convert("RGBA")
    (folder / "wolf.png").unlink()
    wolf.resize((128, 128), Image.Resampling.NEAREST).save(folder / "wolf.png")
    dataset = load_dataset(folder, config(), SDXL)
    original = load_dataset(DATA, config(), SDXL)
    [big] = [s for s in dataset.samples if s.path.stem == "wolf"]
    [small] = [s for s in original.samples if s.path.stem == "wolf"]
    assert big.file_factor == 4
    assert big.sprite.size == (32, 32)
    assert big.sha256 == small.sha256


def test_the_picture_is_a_nearest_upscale_on_the_background(folder: Path) -> None:
    sample = load_dataset(folder, config(), TINY).samples[0]
    picture = np.asarray(sample.picture("#ffffff"))
    assert picture.shape == (64, 64, 3)  # the tiny model draws 32x32 sprites at 64x64
    sprite = np.asarray(sample.sprite)
    cells = picture.reshape(32, 2, 32, 2, 3)
    assert (cells == cells[:, :1, :, :1]).all()  # every cell is one colour
    clear = sprite[..., 3] == 0
    assert clear.any()
    assert (picture[::2, ::2][clear] == 255).all()
    opaque = sprite[..., 3] == 255
    assert (picture[::2, ::2][opaque] == sprite[..., :3][opaque]).all()


def test_buckets_group_drawing_sizes_and_every_epoch_sees_each_sample_once(
    folder: Path,
) -> None:
    wide = Image.open(folder / "bat.png").convert("RGBA").crop((0, 0, 32, 16))
    wide.save(folder / "bat_wide.png")
    dataset = load_dataset(folder, config(), SDXL)
    wide_drawing = drawing_size((32, 16), SDXL)  # the engine's own size for a 32x16 sprite
    assert dataset.buckets == {
        (1024, 1024): [0, 2, 3, 4],
        (wide_drawing.width, wide_drawing.height): [1],
    }
    for epoch in range(3):
        batches = dataset.epoch_batches(epoch, batch=2, seed=7)
        assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]
        assert all(len({dataset.samples[i].bucket for i in b}) == 1 for b in batches)
        assert batches == dataset.epoch_batches(epoch, batch=2, seed=7)
    assert dataset.batches_per_epoch(2) == 3
    assert dataset.batch_at(4, batch=2, seed=7) == dataset.epoch_batches(1, batch=2, seed=7)[1]


def test_previews_and_raw_drawings_are_skipped(folder: Path) -> None:
    shutil.copy(folder / "bat.png", folder / "bat@8x.png")
    shutil.copy(folder / "bat.png", folder / "bat.raw.png")
    dataset = load_dataset(folder, config(), SDXL)
    assert len(dataset.samples) == 4
    assert sorted(p.name for p in dataset.skipped) == ["bat.raw.png", "bat@8x.png"]
    assert any("skipped 2" in line for line in dataset.describe())


def _animated(path: Path) -> None:
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:])


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("junk.png", lambda p: p.write_bytes(b"not a png"), "not an image file"),
        ("notes.md", lambda p: p.write_text("hi"), "not an image"),
        ("walk.gif", _animated, "animated image"),
        ("dot.png", lambda p: Image.new("RGBA", (3, 3)).save(p), "too small"),
        ("lonely.txt", lambda p: p.write_text("a caption"), "no image named lonely"),
        (
            "blurry.png",
            lambda p: (
                Image.open(DATA / "wolf.png")
                .convert("RGBA")
                .resize((105, 105), Image.Resampling.NEAREST)
                .save(p)
            ),
            "cells of mixed sizes",
        ),
        (
            "banner.png",
            lambda p: Image.effect_noise((1024, 8), 90).convert("RGBA").save(p),
            "cannot be drawn",
        ),
    ],
)
def test_bad_data_is_refused_with_the_file_named(
    folder: Path, name: str, make: object, message: str
) -> None:
    path = folder / name
    make(path)  # type: ignore[operator]
    with pytest.raises(DatasetError) as info:
        load_dataset(folder, config(), SDXL)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_an_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no images to train on"):
        load_dataset(tmp_path, config(), SDXL)
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(tmp_path / "nope", config(), SDXL)
