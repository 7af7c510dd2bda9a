"""The trainer's inputs, computed once: VAE latents of every drawing and the text
embeddings of every caption, through the on-disk :class:`FeatureCache`.

Latents are stored as the VAE's mean and standard deviation, so each step
draws a fresh latent sample from them (as an uncached trainer would) with the
trainer's own seeded generator. The VAE encodes in float32 whatever the
training precision: SDXL's VAE overflows in float16.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dgx_pixels.train._cache import FeatureCache, cache_key
from dgx_pixels.train._conditioning import encode_prompts
from dgx_pixels.train._config import TrainConfig
from dgx_pixels.train._dataset import TrainingSet

__all__ = ["Features", "compute_features", "model_identity"]


@dataclass(frozen=True, slots=True)
class Features:
    """Latent (mean, std) per (sample index, flipped), text (embeds, pooled) per caption;
    all float32 on the CPU. ``text`` is empty when the text encoders are trained."""

    latents: dict[tuple[int, bool], tuple[Any, Any]]
    text: dict[str, tuple[Any, Any]]


def model_identity(model_info: dict[str, Any]) -> str:
    """A string that changes whenever the model's weights could (id, revision, hash)."""
    return json.dumps(model_info, sort_keys=True, default=str)


def compute_features(
    dataset: TrainingSet,
    config: TrainConfig,
    pipe: Any,
    identity: str,
    cache: FeatureCache,
    *,
    with_text: bool = True,
) -> Features:
    """Encode every drawing (and, with ``with_text``, every caption), cached."""
    import numpy as np
    import torch

    vae = pipe.vae
    device = vae.device
    latents: dict[tuple[int, bool], tuple[Any, Any]] = {}
    flips = (False, True) if config.flip else (False,)
    with torch.no_grad():
        # 1. Latents, in float32.
        for i, sample in enumerate(dataset.samples):
            for flip in flips:
                key = cache_key(
                    "latents/1", identity, sample.sha256, config.background, str(sample.bucket),
                    str(flip),
                )  # fmt: skip
                hit = cache.get(key)
                if hit is None:
                    picture = np.asarray(sample.picture(config.background, flip=flip))
                    x = torch.from_numpy(picture.copy()).permute(2, 0, 1)[None].float()
                    x = (x / 127.5 - 1.0).to(device, torch.float32)
                    dist = vae.encode(x).latent_dist
                    hit = {"mean": dist.mean[0].float(), "std": dist.std[0].float()}
                    cache.put(key, hit)
                latents[(i, flip)] = (hit["mean"], hit["std"])
        # 2. Text embeddings, one per distinct caption.
        text: dict[str, tuple[Any, Any]] = {}
        if with_text:
            tokenizers = [pipe.tokenizer, pipe.tokenizer_2]
            encoders = [pipe.text_encoder, pipe.text_encoder_2]
            for caption in sorted({s.caption for s in dataset.samples}):
                key = cache_key("text/1", identity, caption)
                hit = cache.get(key)
                if hit is None:
                    embeds, pooled = encode_prompts(tokenizers, encoders, [caption])
                    hit = {"embeds": embeds[0].float(), "pooled": pooled[0].float()}
                    cache.put(key, hit)
                text[caption] = (hit["embeds"], hit["pooled"])
    return Features(latents, text)
