"""A kohya LoRA with the original SDXL (SGM) block names, the layout sd-scripts writes
and most shared SDXL LoRAs have (``lora_unet_input_blocks_4_1_...``), draws exactly
as its peft twin. The SGM names are made by the trainer's writer
(:mod:`dgx_pixels.train._lora_files`); diffusers maps them back on load."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from dgx_pixels.engine import Engine
from dgx_pixels.engine._random_models import write_random_lora
from dgx_pixels.request import LoraRef
from dgx_pixels.train._lora_files import kohya_module_name

from ..images import assert_image_equal
from .conftest import tiny_request


def _sgm_twin(peft: Path, out: Path, *, layers_per_block: int) -> Path:
    tensors = {}
    for key, value in load_file(str(peft)).items():
        component, rest = key.split(".", 1)
        module, _, kind = rest.rpartition(".lora_")
        name = kohya_module_name(component, module, layers_per_block=layers_per_block)
        part = {"A.weight": "lora_down.weight", "B.weight": "lora_up.weight"}[kind]
        tensors[f"{name}.{part}"] = value
        tensors[f"{name}.alpha"] = torch.tensor(
            float(value.shape[0] if kind == "A.weight" else value.shape[1])
        )
    save_file(tensors, str(out))
    return out


def test_a_kohya_lora_with_sgm_block_names_draws_as_its_peft_twin(
    tiny_engine: Engine, tmp_path: Path
) -> None:
    peft = write_random_lora(tmp_path / "peft.safetensors", seed=5)
    layers = int(tiny_engine.pipeline.unet.config.layers_per_block)
    sgm = _sgm_twin(peft, tmp_path / "sgm.safetensors", layers_per_block=layers)
    keys = load_file(str(sgm)).keys()
    assert any(k.startswith("lora_unet_input_blocks_") for k in keys)
    assert any(k.startswith("lora_unet_output_blocks_") for k in keys)
    assert any(k.startswith("lora_unet_middle_block_1_") for k in keys)
    drawn = [
        tiny_engine.generate([tiny_request(loras=(LoraRef(str(p), 0.8),))])[0].images[0].raw
        for p in (peft, sgm)
    ]
    assert_image_equal(drawn[1], drawn[0], tolerance=1, what="sgm vs peft")
    plain = tiny_engine.generate([tiny_request()])[0].images[0].raw
    assert plain.tobytes() != drawn[0].tobytes()
