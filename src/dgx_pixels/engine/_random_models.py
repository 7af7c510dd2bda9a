"""SDXL-shaped pipelines with random weights, built from configs held here.

Nothing is downloaded: the configs are Python data, the tokenizer is built in
memory (a byte-level vocabulary without merges, so every character is one
token), and the weights are drawn from a seeded generator. ``sdxl-tiny`` runs
on a CPU in seconds (the shapes of diffusers' own ``get_dummy_components`` for
SDXL, a little smaller; ``sdxl-tiny-b`` has the same shapes and other weights,
a second model for tests of a worker serving two); ``sdxl`` has the real SDXL
base 1.0 shapes, so a GPU benchmark on it times what real weights would.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

__all__ = ["RANDOM_CONFIGS", "RANDOM_SEEDS", "build_components", "byte_vocab", "write_random_lora"]

_SCHEDULER: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "interpolation_type": "linear",
    "use_karras_sigmas": False,
}

_TINY: dict[str, dict[str, Any]] = {
    "unet": {
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "sample_size": 32,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
        "attention_head_dim": (2, 4),
        "use_linear_projection": True,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 8,
        "transformer_layers_per_block": (1, 1),
        "projection_class_embeddings_input_dim": 80,  # 6 time ids * 8 + text_encoder_2 width 32
        "cross_attention_dim": 64,  # text_encoder 32 + text_encoder_2 32
        "norm_num_groups": 8,
    },
    "vae": {
        "block_out_channels": (8, 16),
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ("DownEncoderBlock2D", "DownEncoderBlock2D"),
        "up_block_types": ("UpDecoderBlock2D", "UpDecoderBlock2D"),
        "latent_channels": 4,
        "layers_per_block": 1,
        "norm_num_groups": 8,
        "sample_size": 64,
    },
    "text_encoder": {
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "layer_norm_eps": 1e-5,
        "vocab_size": 1000,
        "hidden_act": "gelu",
        "projection_dim": 32,
        "max_position_embeddings": 77,
    },
    "text_encoder_2": {
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "layer_norm_eps": 1e-5,
        "vocab_size": 1000,
        "hidden_act": "gelu",
        "projection_dim": 32,
        "max_position_embeddings": 77,
    },
    "scheduler": _SCHEDULER,
}

# stabilityai/stable-diffusion-xl-base-1.0, written out so nothing is fetched.
_SDXL: dict[str, dict[str, Any]] = {
    "unet": {
        "addition_embed_type": "text_time",
        "addition_embed_type_num_heads": 64,
        "addition_time_embed_dim": 256,
        "attention_head_dim": (5, 10, 20),
        "block_out_channels": (320, 640, 1280),
        "cross_attention_dim": 2048,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 2,
        "norm_num_groups": 32,
        "projection_class_embeddings_input_dim": 2816,  # 6 * 256 + 1280
        "sample_size": 128,
        "transformer_layers_per_block": (1, 2, 10),
        "use_linear_projection": True,
    },
    "vae": {
        "block_out_channels": (128, 256, 512, 512),
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "force_upcast": True,
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": 4,
        "layers_per_block": 2,
        "norm_num_groups": 32,
        "sample_size": 1024,
        "scaling_factor": 0.13025,
    },
    "text_encoder": {  # CLIP ViT-L/14
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_attention_heads": 12,
        "num_hidden_layers": 12,
        "hidden_act": "quick_gelu",
        "projection_dim": 768,
        "vocab_size": 49408,
        "max_position_embeddings": 77,
    },
    "text_encoder_2": {  # OpenCLIP ViT-bigG/14
        "hidden_size": 1280,
        "intermediate_size": 5120,
        "num_attention_heads": 20,
        "num_hidden_layers": 32,
        "hidden_act": "gelu",
        "projection_dim": 1280,
        "vocab_size": 49408,
        "max_position_embeddings": 77,
    },
    "scheduler": _SCHEDULER,
}

#: ``source -> component configs`` for the ``random:`` model ids.
RANDOM_CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "sdxl-tiny": _TINY,
    "sdxl-tiny-b": _TINY,
    "sdxl": _SDXL,
}

#: ``source -> the first seed of its weights`` (0 when not listed).
RANDOM_SEEDS: dict[str, int] = {"sdxl-tiny-b": 100}


def byte_vocab() -> dict[str, int]:
    """A CLIP-style byte-level vocabulary with no merges: 256 bytes, their
    end-of-word forms, then the start and end tokens (514 entries)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            chars.append(256 + extra)
            extra += 1
    symbols = [chr(c) for c in chars]
    vocab: dict[str, int] = {}
    for s in symbols:
        vocab[s] = len(vocab)
    for s in symbols:
        vocab[s + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab


def build_components(
    source: str, *, device: Any, dtype: Any, seed: int | None = None
) -> dict[str, Any]:
    """Build the seven SDXL pipeline components for ``source`` with seeded random weights
    (``seed`` None: the source's own, :data:`RANDOM_SEEDS`).

    The modules are created directly on ``device`` (a 2.6 B-parameter UNet
    initialises in seconds on a GPU, minutes on a CPU) and then cast to ``dtype``.
    """
    import torch

    diffusers: Any = importlib.import_module("diffusers")
    transformers: Any = importlib.import_module("transformers")

    configs = RANDOM_CONFIGS[source]
    if seed is None:
        seed = RANDOM_SEEDS.get(source, 0)
    # 1. Tokenizers: built in memory, so nothing is fetched.
    tokenizer = transformers.CLIPTokenizer(vocab=byte_vocab(), merges=[], model_max_length=77)
    special = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    # 2. Modules, each from its own seed so one change does not shift the others.
    with torch.device(device):
        torch.manual_seed(seed)
        unet = diffusers.UNet2DConditionModel(**configs["unet"])
        torch.manual_seed(seed + 1)
        vae = diffusers.AutoencoderKL(**configs["vae"])
        torch.manual_seed(seed + 2)
        text_encoder = transformers.CLIPTextModel(
            transformers.CLIPTextConfig(**configs["text_encoder"], **special)
        )
        torch.manual_seed(seed + 3)
        text_encoder_2 = transformers.CLIPTextModelWithProjection(
            transformers.CLIPTextConfig(**configs["text_encoder_2"], **special)
        )
    # 3. Cast (the SDXL pipeline upcasts the VAE itself where its config asks for it).
    modules: tuple[Any, ...] = (unet, text_encoder, text_encoder_2, vae)
    for module in modules:
        module.to(dtype=dtype).eval()
    return {
        "unet": unet,
        "vae": vae,
        "text_encoder": text_encoder,
        "text_encoder_2": text_encoder_2,
        "tokenizer": tokenizer,
        "tokenizer_2": tokenizer,
        "scheduler": diffusers.EulerDiscreteScheduler(**configs["scheduler"]),
    }


def write_random_lora(
    path: Path,
    source: str = "sdxl-tiny",
    *,
    seed: int = 0,
    rank: int = 4,
    layout: Literal["peft", "kohya"] = "peft",
) -> Path:
    """Write a LoRA with random weights for the ``source`` random model.

    It covers the attention projections (``to_q``, ``to_k``, ``to_v``,
    ``to_out.0``) of the UNet, as SDXL style LoRAs do, so LoRA loading and
    stacking run the real code path on random models. Written as safetensors,
    with peft's key names (``unet.<module>.lora_A.weight``) or kohya's, as
    sd-scripts and most LoRAs shared online write them
    (``lora_unet_<module with _>.lora_down.weight``, plus an ``alpha`` equal to
    the rank, so both layouts of the same seed are the same LoRA).
    """
    import torch
    from safetensors.torch import save_file

    unet = build_components(source, device="meta", dtype=torch.float32)["unet"]
    gen = torch.Generator().manual_seed(seed)
    tensors: dict[str, Any] = {}
    for name, module in unet.named_modules():
        if name.endswith(("to_q", "to_k", "to_v", "to_out.0")):
            out_features, in_features = module.weight.shape
            down = torch.randn(rank, in_features, generator=gen)
            up = torch.randn(out_features, rank, generator=gen)
            if layout == "peft":
                tensors[f"unet.{name}.lora_A.weight"] = down
                tensors[f"unet.{name}.lora_B.weight"] = up
            else:
                key = "lora_unet_" + name.replace(".", "_")
                tensors[f"{key}.lora_down.weight"] = down
                tensors[f"{key}.lora_up.weight"] = up
                tensors[f"{key}.alpha"] = torch.tensor(float(rank))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    return path
