"""Fixtures for the training tests: the tiny random SDXL, the DCSS training sprites."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

TINY = "random:sdxl-tiny"
DATA = Path(__file__).parents[1] / "data" / "train-sprites"


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    """One torch thread: on a few shared cores the tiny model's steps run about 30x faster
    than with a thread per core (measured: 0.14 s against 4-5 s a step)."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never download: the hub is offline and its cache an empty folder."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.getbasetemp() / "hf-cache"))


@pytest.fixture(scope="session")
def tiny_pipe() -> Any:
    """The tiny random SDXL pipeline on the CPU in float32, loaded once."""
    from dgx_pixels.engine._device import MEMORY_PLANS, place
    from dgx_pixels.engine._loading import load_pipeline
    from dgx_pixels.engine.models import resolve_model

    pipe, _ = load_pipeline(resolve_model(TINY), place("cpu", "fp32"), MEMORY_PLANS["none"])
    return pipe


@pytest.fixture
def sprites(tmp_path: Path) -> Path:
    """A copy of the four DCSS training sprites (and the wolf's caption)."""
    out = tmp_path / "sprites"
    shutil.copytree(DATA, out)
    return out
