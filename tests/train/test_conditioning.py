"""Conditioning as SDXL was trained, checked against the diffusers pipeline itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dgx_pixels.engine import resolve_model
from dgx_pixels.train import preset
from dgx_pixels.train._cache import FeatureCache
from dgx_pixels.train._conditioning import encode_prompts, time_ids
from dgx_pixels.train._dataset import load_dataset
from dgx_pixels.train._features import compute_features

PROMPTS = ["ourstyle, a grey wolf, side view", "ourstyle, bat"]


def test_prompt_embeds_and_pooled_match_encode_prompt(tiny_pipe: Any) -> None:
    ours, ours_pooled = encode_prompts(
        [tiny_pipe.tokenizer, tiny_pipe.tokenizer_2],
        [tiny_pipe.text_encoder, tiny_pipe.text_encoder_2],
        PROMPTS,
    )
    embeds, _, pooled, _ = tiny_pipe.encode_prompt(
        PROMPTS, device="cpu", num_images_per_prompt=1, do_classifier_free_guidance=False
    )
    # Shapes: 77 tokens, both encoders' widths side by side (32 + 32), the second's pooled.
    assert ours.shape == embeds.shape == (2, 77, 64)
    assert ours_pooled.shape == pooled.shape == (2, 32)
    assert torch.equal(ours, embeds)
    assert torch.equal(ours_pooled, pooled)
    # Sources: the penultimate layers of each encoder, and the second's projection.
    ids = tiny_pipe.tokenizer(
        PROMPTS, padding="max_length", max_length=77, truncation=True, return_tensors="pt"
    ).input_ids
    first = tiny_pipe.text_encoder(ids, output_hidden_states=True)
    second = tiny_pipe.text_encoder_2(ids, output_hidden_states=True)
    assert torch.equal(ours[..., :32], first.hidden_states[-2])
    assert not torch.equal(ours[..., :32], first.last_hidden_state)
    assert torch.equal(ours[..., 32:], second.hidden_states[-2])
    assert torch.equal(ours_pooled, second.text_embeds)


def test_time_ids_match_the_pipeline() -> None:
    from diffusers import StableDiffusionXLPipeline

    class Shapes:  # just what _get_add_time_ids reads
        class unet:  # noqa: N801
            class config:  # noqa: N801
                addition_time_embed_dim = 8

            class add_embedding:  # noqa: N801
                class linear_1:  # noqa: N801
                    in_features = 80

    want = StableDiffusionXLPipeline._get_add_time_ids(
        Shapes,  # type: ignore[arg-type]
        (64, 96), (0, 0), (64, 96), torch.float32, text_encoder_projection_dim=32,
    )  # fmt: skip
    got = time_ids((64, 96), (0, 0), (64, 96), dtype=torch.float32)
    assert torch.equal(got, want)
    assert got.tolist() == [[64.0, 96.0, 0.0, 0.0, 64.0, 96.0]]


def test_features_are_cached_by_content(tiny_pipe: Any, sprites: Path, tmp_path: Path) -> None:
    config = preset("pixel-fast", trigger="ourstyle", model="random:sdxl-tiny")
    dataset = load_dataset(sprites, config, resolve_model("random:sdxl-tiny"))
    cache = FeatureCache(tmp_path / "cache")
    first = compute_features(dataset, config, tiny_pipe, "tiny", cache)
    assert (cache.hits, cache.misses) == (0, 8)  # 4 latents, 4 captions
    again = compute_features(dataset, config, tiny_pipe, "tiny", cache)
    assert (cache.hits, cache.misses) == (8, 8)
    mean, std = first.latents[(0, False)]
    assert mean.shape == std.shape == (4, 32, 32)  # 64x64 drawing, the tiny VAE halves sides
    assert torch.equal(again.latents[(0, False)][0], mean)
    # The cached text is what the encoders compute now.
    caption = dataset.samples[3].caption
    embeds, pooled = encode_prompts(
        [tiny_pipe.tokenizer, tiny_pipe.tokenizer_2],
        [tiny_pipe.text_encoder, tiny_pipe.text_encoder_2],
        [caption],
    )
    assert torch.equal(again.text[caption][0], embeds[0])
    assert torch.equal(again.text[caption][1], pooled[0])
    # Another model identity or caption misses.
    compute_features(dataset, config, tiny_pipe, "another model", cache)
    assert cache.misses == 16
