"""Fixtures for the engine tests: one warm tiny engine, tiny LoRA files, offline hub."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.engine import Engine
from dgx_pixels.engine._random_models import write_random_lora
from dgx_pixels.request import GenerationRequest

TINY = "random:sdxl-tiny"


def tiny_request(prompt: str = "a knight with a sword", **changes: Any) -> GenerationRequest:
    """A fast request for the tiny model: 16x16 sprite, 3 steps, seed 1."""
    fields: dict[str, Any] = {
        "size": (16, 16),
        "seed": 1,
        "model": TINY,
        "steps": 3,
        "scheduler": "euler",
    }
    fields.update(changes)
    return GenerationRequest(prompt, **fields)


@pytest.fixture
def make_request() -> Callable[..., GenerationRequest]:
    """:func:`tiny_request`, for tests."""
    return tiny_request


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never download: the hub is offline and its cache an empty folder."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.getbasetemp() / "hf-cache"))


@pytest.fixture(scope="session")
def tiny_engine() -> Engine:
    """The tiny random SDXL on the CPU, loaded once for the session."""
    return Engine.load(TINY, device="cpu")


def make_foreign_lora(path: Path, *, width: int = 768, rank: int = 4) -> Path:
    """Write a LoRA whose cross-attention input is ``width`` wide: one for another model."""
    import torch
    from safetensors.torch import save_file

    key = "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"
    tensors = {
        f"{key}.lora_A.weight": torch.ones(rank, width),
        f"{key}.lora_B.weight": torch.ones(64, rank),
    }
    save_file(tensors, str(path))
    return path


@pytest.fixture(scope="session")
def lora_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two tiny SDXL-shaped LoRAs, an SD 1.5-shaped one and a pickle-named one."""
    folder = tmp_path_factory.mktemp("loras")
    pickle = folder / "style.ckpt"
    pickle.write_bytes(b"not loaded")
    return {
        "a": write_random_lora(folder / "style-a.safetensors", seed=1),
        "b": write_random_lora(folder / "style-b.safetensors", seed=2),
        "sd15": make_foreign_lora(folder / "sd15.safetensors"),
        "pickle": pickle,
    }
