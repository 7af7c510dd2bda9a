"""Test stand-ins for the built-in model: a RANDOM-weight weights file and a hashed-words
text encoder. Neither is a model: both exist so the engine path runs in tests without
trained weights or MiniLM. Never shipped, never used by ``make run``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_random_weights(path: Path, *, preset: str = "tiny", seed: int = 0) -> Path:
    """A weights file of the ``preset`` network with random weights, marked as such.

    The output layers of a fresh network start at zero (each block is the identity);
    here they get small random weights too, so the drawings depend on the prompt and
    the noise.
    """
    import torch

    from dgx_pixels.engine._builtin import _unet

    torch.manual_seed(seed)
    net = _unet.SpriteUNet(_unet.PRESETS[preset])
    with torch.no_grad():
        for p in net.parameters():
            if not p.abs().sum():
                p.normal_(0, 0.05)
    return _unet.save_weights(net, path, extra={"weights": "random (test fixture, not trained)"})


def hashed_words_encoder(prompts: Sequence[str]) -> np.ndarray:
    """A stand-in for MiniLM: each word is a fixed random vector (seeded by its hash), a
    prompt their normalised sum. It knows no language; equal prompts embed alike."""
    out = np.zeros((len(prompts), 384), np.float32)
    for i, prompt in enumerate(prompts):
        for word in prompt.lower().replace(",", " ").split():
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            out[i] += np.random.default_rng(seed).standard_normal(384).astype(np.float32)
        out[i] /= max(float(np.linalg.norm(out[i])), 1e-6)
    return out
