"""A tiny SDXL written as one ``.safetensors`` file, in the layout ComfyUI and A1111 keep.

A single-file SDXL checkpoint holds the four models under Stability's
original (SGM) names: the UNet under ``model.diffusion_model.`` (LDM block
numbering), the VAE under ``first_stage_model.``, the CLIP ViT-L text encoder
under ``conditioner.embedders.0.transformer.`` (transformers' names) and the
OpenCLIP ViT-bigG one under ``conditioner.embedders.1.model.`` (OpenCLIP's
names, query, key and value fused into one ``in_proj``). diffusers reads that
layout (``diffusers/loaders/single_file_utils.py``) but cannot write it, so
:func:`sgm_state_dict` is the inverse of its converters for the shapes used
here (SDXL's blocks: a down block without attention first, cross-attention
in the mid block, linear attention projections).

:func:`build_standin` is the SDXL base as the checkpoint tests need it:
diffusers recognises an SDXL base checkpoint by the key
``conditioner.embedders.1.model.transformer.resblocks.9.mlp.c_proj.bias``, so
the OpenCLIP encoder has 10 layers; and it tells the two text encoders apart
by their width, so they differ (32 and 48, where SDXL's are 768 and 1280).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dgx_pixels.engine._random_models import RANDOM_CONFIGS, build_components

__all__ = ["STANDIN_CONFIGS", "build_standin", "sgm_state_dict", "write_checkpoint"]

_TINY = RANDOM_CONFIGS["sdxl-tiny"]
_CLIP_WIDTH, _OPEN_CLIP_WIDTH = 32, 48

#: The stand-in's component configs: the tiny model's, with SDXL's 8x VAE
#: (four blocks), a 10-layer second text encoder and text widths that differ.
STANDIN_CONFIGS: dict[str, dict[str, Any]] = {
    "unet": {
        **_TINY["unet"],
        "cross_attention_dim": _CLIP_WIDTH + _OPEN_CLIP_WIDTH,
        "projection_class_embeddings_input_dim": 6 * 8 + _OPEN_CLIP_WIDTH,  # 6 time ids * 8
    },
    "vae": {
        **_TINY["vae"],
        "block_out_channels": (8, 8, 16, 16),
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
    },
    "text_encoder": {**_TINY["text_encoder"], "hidden_size": _CLIP_WIDTH},
    "text_encoder_2": {
        **_TINY["text_encoder_2"],
        "hidden_size": _OPEN_CLIP_WIDTH,
        "projection_dim": _OPEN_CLIP_WIDTH,
        "num_hidden_layers": 10,
    },
}


def build_standin(seed: int = 0) -> Any:
    """The stand-in SDXL base pipeline, with seeded random weights, in float32 on the CPU."""
    import torch
    import transformers
    from diffusers import AutoencoderKL, StableDiffusionXLPipeline, UNet2DConditionModel

    parts = build_components("sdxl-tiny", device="cpu", dtype=torch.float32, seed=seed)
    tokenizer = parts["tokenizer"]
    special = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    torch.manual_seed(seed)
    parts["unet"] = UNet2DConditionModel(**STANDIN_CONFIGS["unet"])
    torch.manual_seed(seed + 1)
    parts["vae"] = AutoencoderKL(**STANDIN_CONFIGS["vae"])
    torch.manual_seed(seed + 2)
    parts["text_encoder"] = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(**STANDIN_CONFIGS["text_encoder"], **special)
    )
    torch.manual_seed(seed + 3)
    parts["text_encoder_2"] = transformers.CLIPTextModelWithProjection(
        transformers.CLIPTextConfig(**STANDIN_CONFIGS["text_encoder_2"], **special)
    )
    return StableDiffusionXLPipeline(**parts)


def write_checkpoint(pipe: Any, path: Path) -> Path:
    """Write ``pipe``'s four models to ``path`` as one SGM-layout safetensors file."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(sgm_state_dict(pipe), str(path))
    return path


def sgm_state_dict(pipe: Any) -> dict[str, Any]:
    """``pipe``'s weights under the names a single-file SDXL checkpoint gives them."""
    tensors: dict[str, Any] = {}
    for prefix, renamed in (
        ("model.diffusion_model.", _unet(pipe.unet)),
        ("first_stage_model.", _vae(pipe.vae)),
        ("conditioner.embedders.0.transformer.", _clip(pipe.text_encoder)),
        ("conditioner.embedders.1.model.", _open_clip(pipe.text_encoder_2)),
    ):
        tensors.update({prefix + key: value.contiguous() for key, value in renamed.items()})
    return tensors


# -- the UNet and the VAE: modules renamed -------------------------------------

_UNET_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
_VAE_RESNET = {"conv_shortcut": "nin_shortcut"}
_VAE_ATTENTION = {
    "group_norm": "norm",
    "to_q": "q",
    "to_k": "k",
    "to_v": "v",
    "to_out.0": "proj_out",
}


def _unet(unet: Any) -> dict[str, Any]:
    """The UNet's weights under LDM names.

    LDM numbers the UNet's layers in one sequence each way: ``input_blocks``
    (0 is ``conv_in``; each down block is its layers, then its downsampler)
    and ``output_blocks`` (each up block is its layers, the last one holding
    the upsampler after its attention, if any); ``middle_block`` is resnet,
    attention, resnet. In a layer, ``.0`` is the resnet and ``.1`` the
    attention, whose inner names diffusers kept.
    """
    config = unet.config
    per_block = config.layers_per_block
    modules = {
        "conv_in": "input_blocks.0.0",
        "time_embedding.linear_1": "time_embed.0",
        "time_embedding.linear_2": "time_embed.2",
        "add_embedding.linear_1": "label_emb.0.0",
        "add_embedding.linear_2": "label_emb.0.2",
        "mid_block.resnets.0": "middle_block.0",
        "mid_block.attentions.0": "middle_block.1",
        "mid_block.resnets.1": "middle_block.2",
        "conv_norm_out": "out.0",
        "conv_out": "out.2",
    }
    for block in range(len(config.down_block_types)):
        first = 1 + block * (per_block + 1)
        for layer in range(per_block):
            modules[f"down_blocks.{block}.resnets.{layer}"] = f"input_blocks.{first + layer}.0"
            modules[f"down_blocks.{block}.attentions.{layer}"] = f"input_blocks.{first + layer}.1"
        modules[f"down_blocks.{block}.downsamplers.0.conv"] = (
            f"input_blocks.{first + per_block}.0.op"
        )
    for block, kind in enumerate(config.up_block_types):
        first = block * (per_block + 1)
        for layer in range(per_block + 1):
            modules[f"up_blocks.{block}.resnets.{layer}"] = f"output_blocks.{first + layer}.0"
            modules[f"up_blocks.{block}.attentions.{layer}"] = f"output_blocks.{first + layer}.1"
        after = 2 if "CrossAttn" in kind else 1
        modules[f"up_blocks.{block}.upsamplers.0.conv"] = (
            f"output_blocks.{first + per_block}.{after}.conv"
        )
    return _renamed(unet.state_dict(), modules, {"resnets": _UNET_RESNET})


def _vae(vae: Any) -> dict[str, Any]:
    """The VAE's weights under LDM names.

    The decoder's up blocks are numbered in reverse (LDM's ``up.0`` is the
    last, full-resolution one), and the mid-block attention's projections are
    1x1 convolutions there.
    """
    blocks = len(vae.config.down_block_types)
    modules = {"quant_conv": "quant_conv", "post_quant_conv": "post_quant_conv"}
    for part in ("encoder", "decoder"):
        for name in ("conv_in", "conv_out"):
            modules[f"{part}.{name}"] = f"{part}.{name}"
        modules[f"{part}.conv_norm_out"] = f"{part}.norm_out"
        modules[f"{part}.mid_block.attentions.0"] = f"{part}.mid.attn_1"
        modules[f"{part}.mid_block.resnets.0"] = f"{part}.mid.block_1"
        modules[f"{part}.mid_block.resnets.1"] = f"{part}.mid.block_2"
    for block in range(blocks):
        down, up = f"encoder.down.{block}", f"decoder.up.{blocks - 1 - block}"
        for layer in range(vae.config.layers_per_block + 1):  # the decoder's have one more
            modules[f"encoder.down_blocks.{block}.resnets.{layer}"] = f"{down}.block.{layer}"
            modules[f"decoder.up_blocks.{block}.resnets.{layer}"] = f"{up}.block.{layer}"
        modules[f"encoder.down_blocks.{block}.downsamplers.0.conv"] = f"{down}.downsample.conv"
        modules[f"decoder.up_blocks.{block}.upsamplers.0.conv"] = f"{up}.upsample.conv"
    inner = {"resnets": _VAE_RESNET, "attentions": _VAE_ATTENTION}
    renamed = _renamed(vae.state_dict(), modules, inner)
    for key, value in renamed.items():
        if re.search(r"\.mid\.attn_1\.(q|k|v|proj_out)\.weight$", key):
            renamed[key] = value[:, :, None, None]  # linear -> 1x1 convolution
    return renamed


def _renamed(
    state: dict[str, Any], modules: dict[str, str], inner: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """``state`` with each key's module renamed as ``modules`` says and, in resnets and
    attentions, the layer inside it as ``inner[kind]`` says. Every key must belong to
    a module listed."""
    renamed = {}
    for key, value in state.items():
        parts = key.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module in modules:
                break
        else:
            raise KeyError(f"no LDM name for {key}")
        rest, kind = ".".join(parts[cut:]), parts[cut - 2] if cut >= 2 else ""
        for name, ldm_name in inner.get(kind, {}).items():
            if rest.startswith(name + "."):
                rest = ldm_name + rest[len(name) :]
                break
        renamed[f"{modules[module]}.{rest}"] = value
    return renamed


# -- the text encoders ---------------------------------------------------------


def _clip(encoder: Any) -> dict[str, Any]:
    """CLIP ViT-L under transformers' own names, as SGM wraps it (``text_model.`` included).

    transformers 5.6 dropped the ``text_model.`` level from ``CLIPTextModel``;
    checkpoints keep it.
    """
    return {
        "text_model." + key.removeprefix("text_model."): value
        for key, value in encoder.state_dict().items()
    }


_OPEN_CLIP_TOP = {
    "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
    "text_model.embeddings.position_embedding.weight": "positional_embedding",
    "text_model.final_layer_norm.weight": "ln_final.weight",
    "text_model.final_layer_norm.bias": "ln_final.bias",
}
_OPEN_CLIP_LAYER = {
    "self_attn.out_proj": "attn.out_proj",
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
}


def _open_clip(encoder: Any) -> dict[str, Any]:
    """The second text encoder under OpenCLIP's names.

    Each layer's query, key and value projections are one ``in_proj`` (stacked
    in that order), and ``text_projection`` is a matrix applied as
    ``x @ text_projection``: the transpose of the linear layer's weight.
    """
    import torch

    state = encoder.state_dict()
    tensors = {ldm: state[key] for key, ldm in _OPEN_CLIP_TOP.items()}
    tensors["text_projection"] = state["text_projection.weight"].T
    for layer in range(encoder.config.num_hidden_layers):
        ours, theirs = f"text_model.encoder.layers.{layer}", f"transformer.resblocks.{layer}"
        for kind in ("weight", "bias"):
            qkv = [state[f"{ours}.self_attn.{p}_proj.{kind}"] for p in "qkv"]
            tensors[f"{theirs}.attn.in_proj_{kind}"] = torch.cat(qkv)
            for name, ldm in _OPEN_CLIP_LAYER.items():
                tensors[f"{theirs}.{ldm}.{kind}"] = state[f"{ours}.{name}.{kind}"]
    return tensors
