"""Writing a trained LoRA: the diffusers/peft layout, or kohya's, with metadata.

**peft layout** (what diffusers' ``load_lora_weights`` reads natively)::

    unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight
    text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_B.weight

with the adapters' peft configs (rank, alpha, target modules) in the
``lora_adapter_metadata`` entry of the file's metadata, as diffusers'
``save_lora_weights`` writes it, so an alpha other than the rank loads right.

**kohya layout** (sd-scripts' ``networks/lora.py``; what ComfyUI and A1111
load), with the module names of the original SDXL (SGM) UNet::

    lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight
    lora_unet_middle_block_1_..., lora_unet_output_blocks_0_1_...
    lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight
    lora_te2_...                                         .alpha

Diffusers' ``down_blocks.{b}.attentions.{l}`` is SGM's
``input_blocks.{b * (L + 1) + l + 1}.1``, ``mid_block.attentions.0`` is
``middle_block.1`` and ``up_blocks.{b}.attentions.{l}`` is
``output_blocks.{b * (L + 1) + l}.1``, with ``L`` the UNet's layers per block
(2 on SDXL): the inverse of diffusers' ``_maybe_map_sgm_blocks_to_diffusers``.

Both carry the same metadata: ours (``dgx_pixels.*``), and the ``ss_*`` and
``modelspec.*`` keys that sd-scripts writes and that LoRA browsers read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["Layout", "kohya_module_name", "lora_file_bytes", "sgm_unet_name"]

Layout = Literal["peft", "kohya"]

_KOHYA_PREFIX = {"unet": "lora_unet_", "text_encoder": "lora_te1_", "text_encoder_2": "lora_te2_"}
_DOWN = re.compile(r"down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)")
_MID = re.compile(r"mid_block\.attentions\.0\.(.+)")
_UP = re.compile(r"up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)")


def sgm_unet_name(module: str, *, layers_per_block: int) -> str:
    """The SGM (original SDXL) name of a diffusers UNet attention module.

    >>> sgm_unet_name("down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q",
    ...               layers_per_block=2)
    'input_blocks.4.1.transformer_blocks.0.attn1.to_q'
    >>> sgm_unet_name("up_blocks.0.attentions.2.proj_in", layers_per_block=2)
    'output_blocks.2.1.proj_in'
    >>> sgm_unet_name("mid_block.attentions.0.proj_out", layers_per_block=2)
    'middle_block.1.proj_out'
    """
    step = layers_per_block + 1
    if m := _DOWN.fullmatch(module):
        return f"input_blocks.{int(m[1]) * step + int(m[2]) + 1}.1.{m[3]}"
    if m := _MID.fullmatch(module):
        return f"middle_block.1.{m[1]}"
    if m := _UP.fullmatch(module):
        return f"output_blocks.{int(m[1]) * step + int(m[2])}.1.{m[3]}"
    raise ValueError(f"no SGM name for UNet module {module!r} (only attention blocks map)")


def kohya_module_name(component: str, module: str, *, layers_per_block: int) -> str:
    """sd-scripts' name for ``module`` of ``component`` (``unet``, ``text_encoder``,
    ``text_encoder_2``).

    >>> kohya_module_name("text_encoder_2", "text_model.encoder.layers.3.self_attn.q_proj",
    ...                   layers_per_block=2)
    'lora_te2_text_model_encoder_layers_3_self_attn_q_proj'
    >>> kohya_module_name("text_encoder", "encoder.layers.3.mlp.fc1", layers_per_block=2)
    'lora_te1_text_model_encoder_layers_3_mlp_fc1'
    """
    if component == "unet":
        module = sgm_unet_name(module, layers_per_block=layers_per_block)
    elif not module.startswith("text_model."):
        # transformers 5 drops the ``text_model`` level that sd-scripts' names keep.
        module = "text_model." + module
    return _KOHYA_PREFIX[component] + module.replace(".", "_")


def lora_file_bytes(
    weights: Mapping[str, Mapping[str, Any]],
    *,
    rank: int,
    alpha: int,
    target_modules: Mapping[str, list[str]],
    layout: Layout,
    layers_per_block: int,
    metadata: Mapping[str, str],
    dtype: Any,
) -> bytes:
    """The safetensors file of a LoRA.

    ``weights``: component -> peft state dict of that component
    (``<module>.lora_A.weight`` / ``<module>.lora_B.weight``, as
    ``peft.get_peft_model_state_dict`` returns it).
    """
    import torch
    from safetensors.torch import save

    tensors: dict[str, Any] = {}
    info = dict(metadata)
    adapter_meta: dict[str, Any] = {}
    for component, state in weights.items():
        for key, value in state.items():
            module, _, kind = key.rpartition(".lora_")
            tensor = value.detach().to("cpu", dtype).contiguous()
            if layout == "peft":
                tensors[f"{component}.{key}"] = tensor
                continue
            name = kohya_module_name(component, module, layers_per_block=layers_per_block)
            part = {"A.weight": "lora_down.weight", "B.weight": "lora_up.weight"}[kind]
            tensors[f"{name}.{part}"] = tensor
            tensors[f"{name}.alpha"] = torch.tensor(float(alpha), dtype=dtype)
        if layout == "peft":
            config = {
                "r": rank,
                "lora_alpha": alpha,
                "target_modules": sorted(target_modules[component]),
                "init_lora_weights": "gaussian",
                "use_dora": False,
                "lora_bias": False,
            }
            adapter_meta.update({f"{component}.{k}": v for k, v in config.items()})
    if layout == "peft":
        info["lora_adapter_metadata"] = json.dumps(adapter_meta, indent=2, sort_keys=True)
        info["format"] = "pt"
    return bytes(save(tensors, metadata=info))
