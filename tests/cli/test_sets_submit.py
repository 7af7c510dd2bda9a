"""``animate/tiles/tileset --submit`` and ``train lora --submit``: the commands as worker jobs.

A real worker process (random:sdxl-tiny) on a free loopback port. A set job
runs the plan the command runs in this process (the same request in its
manifest) and its asset is copied here byte for byte; a training submitted
this way leaves its LoRA at ``--out``. (Pixels are compared only between two
fresh processes, ``animate --from`` drawn by the worker and by ``python -m
dgx_pixels``: torch's thread count, which earlier tests in a session change,
moves the random model's floats, and the palette step can amplify that.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.assets import read_manifest
from dgx_pixels.cli import cli
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.limits import LIMITS
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker

from ..sprites.test_generated import colours, frames_of

TINY = ["--model", "random:sdxl-tiny", "--steps", "2", "--scheduler", "euler", "--seed", "5"]
SPRITES = Path(__file__).parents[1] / "data" / "train-sprites"
WOLF = Path(__file__).parents[1] / "data" / "rltiles" / "mon" / "animals" / "wolf.png"


@pytest.fixture
def worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SpawnedWorker]:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spawned = spawn_worker(
        model="random:sdxl-tiny",
        data_dir=tmp_path / "data",
        bind="tcp://127.0.0.1:*",
        args=["--no-metrics"],
    )
    try:
        spawned.wait_ready()
        yield spawned
    finally:
        spawned.process.kill()
        spawned.process.wait()


def test_animate_submit_copies_the_asset_the_command_draws_here(
    worker: SpawnedWorker, tmp_path: Path
) -> None:
    args = ["animate", "a knight", "--frames", "2", "--size", "16", *TINY]
    here, there = tmp_path / "here", tmp_path / "there"
    local = CliRunner().invoke(cli, [*args, "--out", str(here)])
    assert local.exit_code == 0, local.output
    job = ["--submit", "--worker", worker.address, "--out", str(there)]
    submitted = CliRunner().invoke(cli, [*args, *job])
    assert submitted.exit_code == 0, submitted.output
    [folder] = there.iterdir()
    assert submitted.stdout.strip() == str(folder)
    manifest = read_manifest(folder)
    assert len(manifest.frames) == 2
    local_manifest = read_manifest(here / folder.name)
    assert manifest.request == local_manifest.request  # the same plan, the same request
    assert [f.rect for f in manifest.frames] == [f.rect for f in local_manifest.frames]
    [source] = worker.data.outputs.glob("*/job-1/*/manifest.json")  # the worker's own asset
    for name in (*manifest.files(), "manifest.json"):
        assert (folder / name).read_bytes() == (source.parent / name).read_bytes(), name
    again = CliRunner().invoke(cli, [*args, *job])  # the folder exists: refused before a job
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_animate_from_a_sprite_submit_keeps_its_palette_and_records_it(
    worker: SpawnedWorker, tmp_path: Path
) -> None:
    args = ["animate", "--from", str(WOLF), "--action", "walk", "--frames", "2", *TINY]
    there = tmp_path / "there"
    job = ["--submit", "--worker", worker.address, "--out", str(there)]
    submitted = CliRunner().invoke(cli, [*args, *job])
    assert submitted.exit_code == 0, submitted.output
    [folder] = there.iterdir()
    manifest = read_manifest(folder)
    assert manifest.request["from"] == "wolf.png"
    assert manifest.request["request"]["prompt"] == "wolf"
    own = set(colours(np.asarray(Image.open(WOLF).convert("RGBA"))))
    frames = frames_of(folder, manifest)
    assert len(frames) == 2
    for frame in frames:
        assert frame.shape == (32, 32, 4)
        assert set(colours(frame)) <= own  # the sprite's palette, exactly
    [stored] = worker.data.inputs.glob("*.png")  # by content: a re-run finds the same file
    assert stored.read_bytes() == WOLF.read_bytes()
    with Client(worker.address, timeout=30) as client:
        record = client.status(1)
    assert record.request["from"] == {"name": "wolf.png", "path": str(stored.resolve())}
    # The same seed drawn without --submit gives the same pixels. It runs in a fresh
    # process, as the worker does, so both have torch's default thread count.
    here = tmp_path / "here"
    command = [sys.executable, "-m", "dgx_pixels", *args, "--out", str(here)]
    local = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert local.returncode == 0, local.stderr
    for mine, theirs in zip(frames_of(here / folder.name, manifest), frames, strict=True):
        assert np.array_equal(mine, theirs)


def test_animate_from_a_bad_sprite_is_refused_at_submit_naming_it(
    worker: SpawnedWorker, tmp_path: Path
) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    animated = tmp_path / "blink.gif"
    still = Image.open(WOLF).convert("RGB")
    still.save(
        animated, save_all=True, append_images=[still.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    )
    big = tmp_path / "padded.png"  # a real PNG, padded past the input limit after its end
    big.write_bytes(WOLF.read_bytes() + bytes(LIMITS.input_bytes))
    noisy = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(noisy)
    cases = [
        (text, "not an image file Pillow can read"),
        (animated, "animated image with 2 frames"),
        (big, "bytes, over the limit of"),
        (noisy, "has more than 256 colours"),
    ]
    out = tmp_path / "out"
    for sprite, message in cases:
        args = ["animate", "--from", str(sprite), "--frames", "2", *TINY]
        result = CliRunner().invoke(cli, [*args, "--submit", "--worker", worker.address,
                                          "--out", str(out)])  # fmt: skip
        assert result.exit_code == 2, result.output
        [line] = result.output.strip().splitlines()
        assert str(sprite) in line, line
        assert message in line, line
    with Client(worker.address, timeout=30) as client:
        assert client.jobs().total == 0
    assert not out.exists() or not any(out.iterdir())
    assert not list(worker.data.inputs.glob("*"))


def test_the_model_free_forms_refuse_submit() -> None:
    sprite = str(SPRITES / "bat.png")
    for args in (["animate", "--from", sprite, "--effect", "blink"],
                 ["tileset", "--from-template", sprite]):  # fmt: skip
        result = CliRunner().invoke(cli, [*args, "--submit"])
        assert result.exit_code == 2, result.output
        assert "leave out --submit" in result.output
    result = CliRunner().invoke(cli, ["tiles", "moss", "--priority", "3"])
    assert result.output.strip() == "Error: --worker and --priority go with --submit"


def test_train_lora_submit_leaves_the_lora_at_out(worker: SpawnedWorker, tmp_path: Path) -> None:
    from safetensors import safe_open

    out = tmp_path / "mine.safetensors"
    args = [
        "train", "lora", str(SPRITES), "--trigger", "ourstyle", "--model", "random:sdxl-tiny",
        "--steps", "2", "--rank", "2", "--alpha", "2", "--validate-every", "0",
        "--no-gradient-checkpointing", "--out", str(out),
        "--submit", "--worker", worker.address,
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    with safe_open(str(out), "pt") as f:
        assert len(list(f.keys())) > 0
    lines = out.with_suffix(".metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2]
    assert json.loads(out.with_suffix(".json").read_text())["config"]["trigger"] == "ourstyle"
