"""SDXL conditioning, computed the way the model was trained (and the pipeline computes it).

- Prompt embeddings: the penultimate hidden states of both CLIP text
  encoders, concatenated along the feature axis (768 + 1280 = 2048 on SDXL).
- Pooled embedding: the projected output of the second text encoder.
- ``add_time_ids``: original size (h, w), crop top-left (y, x), target size
  (h, w). Sprites are upscaled by a whole factor before training, so the
  original size is the drawing size and the crop is (0, 0): the model is told
  "a full-resolution picture, uncropped", as it is at generation time.

``tests/train/test_conditioning.py`` checks these against diffusers'
``StableDiffusionXLPipeline.encode_prompt`` and ``_get_add_time_ids``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["encode_prompts", "time_ids"]


def encode_prompts(
    tokenizers: Sequence[Any], text_encoders: Sequence[Any], prompts: Sequence[str]
) -> tuple[Any, Any]:
    """``(prompt_embeds [B, 77, D1 + D2], pooled [B, D2])`` for ``prompts``.

    Gradients flow when the text encoders are being trained; call under
    ``torch.no_grad()`` otherwise.
    """
    import torch

    hidden = []
    pooled = None
    for tokenizer, encoder in zip(tokenizers, text_encoders, strict=True):
        ids = tokenizer(
            list(prompts),
            padding="max_length",
            max_length=tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids
        out = encoder(ids.to(encoder.device), output_hidden_states=True)
        hidden.append(out.hidden_states[-2])
        pooled = out[0]  # the second encoder's projected text embedding (2-D)
    if pooled is None or pooled.ndim != 2:
        raise ValueError("the last text encoder must return a pooled (projected) embedding")
    return torch.cat(hidden, dim=-1), pooled


def time_ids(
    original: tuple[int, int], crop: tuple[int, int], target: tuple[int, int], *, dtype: Any
) -> Any:
    """The six SDXL micro-conditioning numbers as a ``[1, 6]`` tensor.

    ``original`` and ``target`` are (height, width), ``crop`` is (top, left).
    """
    import torch

    return torch.tensor([[*original, *crop, *target]], dtype=dtype)
