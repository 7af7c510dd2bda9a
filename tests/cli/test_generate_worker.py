"""``dgx-pixels generate`` hands its request to a running worker that serves its model.

A real worker process (random:sdxl-tiny) on a free loopback port: the sprites
it writes are the ones the same request makes in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from dgx_pixels.cli import cli
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker

from ..images import assert_image_equal

REQUEST = [
    "a slime, front view", "--model", "random:sdxl-tiny", "--steps", "2",
    "--scheduler", "euler", "--size", "16", "--count", "2", "--seed", "11",
    "--palette", "pico-8",
]  # fmt: skip
NAMES = ("a-slime-front-view-11.png", "a-slime-front-view-12.png")


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
        # Bound is not ready: wait until the model is loaded, so the short probe
        # of generate meets an idle worker rather than one busy loading.
        spawned.wait_ready()
        yield spawned
    finally:
        spawned.process.kill()
        spawned.process.wait()


def generate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["generate", *REQUEST, *args])


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGBA"))


def test_generate_uses_the_worker_and_matches_in_process(
    worker: SpawnedWorker, tmp_path: Path
) -> None:
    on_worker, here = tmp_path / "on-worker", tmp_path / "here"

    remote = generate("--worker", worker.address, "--out", str(on_worker))
    assert remote.exit_code == 0, remote.output
    assert f"using the worker at {worker.address}" in remote.output
    local = generate("--worker", worker.address, "--local", "--out", str(here))
    assert local.exit_code == 0, local.output
    assert "using the worker" not in local.output

    for name in NAMES:
        assert str(on_worker / name) in remote.output
        assert (on_worker / name.replace(".png", ".json")).is_file()
        assert_image_equal(pixels(on_worker / name), pixels(here / name), what=name)


def test_worker_path_keeps_the_no_clobber_rule(worker: SpawnedWorker, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / NAMES[0]).write_bytes(b"the user's file")
    result = generate("--worker", worker.address, "--out", str(out))
    assert result.exit_code == 3, result.output
    assert (out / NAMES[0]).read_bytes() == b"the user's file"
