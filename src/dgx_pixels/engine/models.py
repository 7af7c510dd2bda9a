"""Model ids: what a user may name with ``--model`` and how each one is loaded.

Importing this module is cheap (no torch): the CLI resolves and checks ids
before it loads anything. An id is one of

* the built-in model, ``builtin:sprites-32``: a small diffusion model of our own
  that draws 32x32 RGBA sprites on a CPU in seconds (weights in the package once
  trained; see docs/builtin-model.md);
* a random-weight model, ``random:sdxl-tiny`` (CPU, seconds, for tests) or
  ``random:sdxl`` (real SDXL shapes, for GPU benchmarks), built from configs
  held here as Python data, never downloaded;
* a preset name such as ``pixel-art-xl`` (SDXL base 1.0 + ``nerijs/pixel-art-xl``);
* a Hugging Face hub id ``owner/name`` (downloaded into the HF cache on first
  use when online);
* a local diffusers folder (one holding ``model_index.json``);
* a single-file ``.safetensors`` checkpoint as ComfyUI/A1111 users keep them.

>>> resolve_model("pixel-art-xl").source
'stabilityai/stable-diffusion-xl-base-1.0'
>>> [str(lo) for lo in resolve_model("pixel-art-xl").loras]
['nerijs/pixel-art-xl:1']
>>> resolve_model("random:sdxl-tiny").native_side
64
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dgx_pixels.errors import ModelError, ModelNotFoundError
from dgx_pixels.request import LoraRef

__all__ = [
    "BUILTIN_MODELS",
    "KNOWN_LORA_FILES",
    "PRESETS",
    "RANDOM_MODELS",
    "SDXL_BASE",
    "ModelKind",
    "ModelSpec",
    "pull_hint",
    "resolve_model",
]

ModelKind = Literal["builtin", "random", "hub", "folder", "file"]

#: The SDXL base model every preset builds on.
SDXL_BASE = "stabilityai/stable-diffusion-xl-base-1.0"

#: Suffixes of pickle-based weight files: never loaded.
_PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl")

#: The weight file inside hub LoRA repositories that hold more than one file.
KNOWN_LORA_FILES: dict[str, str] = {
    "nerijs/pixel-art-xl": "pixel-art-xl.safetensors",
    "latent-consistency/lcm-lora-sdxl": "pytorch_lora_weights.safetensors",
}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How to load one model id, and the drawing sizes it handles.

    ``native_side`` is the side of the square the model was trained to draw
    (SDXL: 1024); the engine draws at about that area. ``min_side`` and
    ``max_side`` bound each side of a drawing, ``multiple`` is what each side
    must be divisible by. ``cross_attention_dim`` is what a LoRA for this
    model must match. ``loras`` are applied before the request's own.
    ``weights_gib_16`` is about how much memory its weights take at 16 bits
    (twice that at fp32), for choosing the memory plan.
    """

    id: str
    kind: ModelKind
    source: str
    loras: tuple[LoraRef, ...] = ()
    native_side: int = 1024
    min_side: int = 256
    max_side: int = 2048
    multiple: int = 8
    cross_attention_dim: int = 2048
    fast_lora: str | None = "latent-consistency/lcm-lora-sdxl"
    variant: str | None = None
    description: str = ""
    weights_gib_16: float = 6.5  # SDXL: UNet, two text encoders and the VAE

    @property
    def downloadable(self) -> bool:
        """Whether ``models pull`` can fetch this model (and its LoRAs) from the hub."""
        return self.kind == "hub"


#: Random-weight SDXL-shaped models: ``name -> spec``. Their configs live in
#: ``engine/_random_models.py``.
RANDOM_MODELS: dict[str, ModelSpec] = {
    "random:sdxl-tiny": ModelSpec(
        id="random:sdxl-tiny",
        kind="random",
        source="sdxl-tiny",
        native_side=64,
        min_side=16,
        max_side=1024,
        cross_attention_dim=64,
        fast_lora=None,
        weights_gib_16=0.01,
        description="tiny SDXL-shaped pipeline with random weights (CPU, seconds; for tests)",
    ),
    "random:sdxl-tiny-b": ModelSpec(
        id="random:sdxl-tiny-b",
        kind="random",
        source="sdxl-tiny-b",
        native_side=64,
        min_side=16,
        max_side=1024,
        cross_attention_dim=64,
        fast_lora=None,
        weights_gib_16=0.01,
        description="random:sdxl-tiny's shapes with other random weights (a second test model)",
    ),
    "random:sdxl": ModelSpec(
        id="random:sdxl",
        kind="random",
        source="sdxl",
        fast_lora=None,
        description="SDXL base shapes with random weights (for GPU benchmarks)",
    ),
}

#: Our own models, not SDXL: ``name -> spec``. They draw at one size (``native_side``,
#: which is also the largest sprite), take no LoRAs and load through their own backend
#: (``engine/_builtin``).
BUILTIN_MODELS: dict[str, ModelSpec] = {
    "builtin:sprites-32": ModelSpec(
        id="builtin:sprites-32",
        kind="builtin",
        source="sprites-32",
        native_side=32,
        min_side=32,
        max_side=32,
        multiple=32,
        cross_attention_dim=0,
        fast_lora=None,
        weights_gib_16=0.03,
        description="our own 32x32 sprite model: CPU, offline, seconds (trained on DCSS sprites)",
    ),
}

#: Named presets: ``name -> spec``.
PRESETS: dict[str, ModelSpec] = {
    "pixel-art-xl": ModelSpec(
        id="pixel-art-xl",
        kind="hub",
        source=SDXL_BASE,
        loras=(LoraRef("nerijs/pixel-art-xl", 1.0),),
        variant="fp16",
        description="SDXL base 1.0 with the pixel-art LoRA nerijs/pixel-art-xl (default)",
    ),
    "sdxl-base": ModelSpec(
        id="sdxl-base",
        kind="hub",
        source=SDXL_BASE,
        variant="fp16",
        description="SDXL base 1.0 without LoRAs",
    ),
}


def pull_hint(model_id: str) -> str:
    """The command that fetches ``model_id``, for error messages."""
    return f"dgx-pixels models pull {model_id}"


def resolve_model(model_id: str) -> ModelSpec:
    """Resolve a model id to a :class:`ModelSpec`; nothing is loaded or downloaded.

    Raises :class:`~dgx_pixels.errors.ModelNotFoundError` for an id that names
    nothing (a missing file, an unknown random model) and
    :class:`~dgx_pixels.errors.ModelError` for one that can never be loaded
    (a pickle checkpoint, a folder that is not a diffusers model).
    """
    text = model_id.strip()
    if not text:
        raise ModelError("model id must not be empty")
    if text.startswith("builtin:"):
        if text not in BUILTIN_MODELS:
            known = ", ".join(sorted(BUILTIN_MODELS))
            raise ModelNotFoundError(f"unknown built-in model {text!r}; known: {known}", model=text)
        return BUILTIN_MODELS[text]
    if text.startswith("random:"):
        if text not in RANDOM_MODELS:
            known = ", ".join(sorted(RANDOM_MODELS))
            raise ModelNotFoundError(f"unknown random model {text!r}; known: {known}", model=text)
        return RANDOM_MODELS[text]
    if text in PRESETS:
        return PRESETS[text]
    return _resolve_path_or_hub(text)


def _resolve_path_or_hub(text: str) -> ModelSpec:
    path = Path(text).expanduser()
    lower = text.lower()
    if lower.endswith(_PICKLE_SUFFIXES):
        raise ModelError(
            f"{text}: only .safetensors checkpoints are loaded (pickle files can run code); "
            "convert it to safetensors first",
            model=text,
        )
    if lower.endswith(".safetensors"):
        if not path.is_file():
            raise ModelNotFoundError(f"{text}: no such checkpoint file", model=text)
        return ModelSpec(id=text, kind="file", source=str(path.resolve()))
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelError(
                f"{text}: folder is not a diffusers model (no model_index.json)", model=text
            )
        return ModelSpec(id=text, kind="folder", source=str(path.resolve()))
    if _looks_like_hub_id(text):
        return ModelSpec(id=text, kind="hub", source=text)
    known = ", ".join([*sorted(PRESETS), *sorted(BUILTIN_MODELS), *sorted(RANDOM_MODELS)])
    raise ModelNotFoundError(
        f"unknown model {text!r}: not a preset ({known}), a hub id owner/name, "
        "a diffusers folder or a .safetensors file",
        model=text,
    )


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    return (
        len(parts) == 2
        and all(parts)
        and all(set(p) <= allowed for p in parts)
        and not any(p.startswith(".") for p in parts)
    )
