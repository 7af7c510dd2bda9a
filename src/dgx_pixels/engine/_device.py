"""Where the model runs: device, number format and memory options.

``auto`` picks CUDA (bfloat16 where the GPU has it, else float16), then Apple
MPS (float16), then the CPU (float32). Memory options for small GPUs (VAE
slicing and tiling, CPU offload) follow from the free memory and the model's
size unless the caller names a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dgx_pixels.errors import InputError, ModelError

__all__ = ["DTYPES", "MEMORY_PLANS", "MemoryPlan", "Placement", "choose_memory", "place"]

#: Accepted dtype names -> canonical name.
DTYPES = {
    "fp32": "fp32",
    "float32": "fp32",
    "fp16": "fp16",
    "float16": "fp16",
    "half": "fp16",
    "bf16": "bf16",
    "bfloat16": "bf16",
}

Offload = Literal["none", "model", "sequential"]


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """Memory options: VAE slicing/tiling and CPU offload of idle modules."""

    vae_slicing: bool = False
    vae_tiling: bool = False
    offload: Offload = "none"


#: Named plans, smallest saving first.
MEMORY_PLANS: dict[str, MemoryPlan] = {
    "none": MemoryPlan(),
    "vae": MemoryPlan(vae_slicing=True, vae_tiling=True),
    "offload": MemoryPlan(vae_slicing=True, vae_tiling=True, offload="model"),
    "sequential": MemoryPlan(vae_slicing=True, vae_tiling=True, offload="sequential"),
}


@dataclass(frozen=True, slots=True)
class Placement:
    """A torch device and dtype, with their names for metadata."""

    device: Any  # torch.device
    dtype: Any  # torch.dtype
    device_name: str
    dtype_name: str
    description: str


def place(device: str | None, dtype: str | None) -> Placement:
    """Resolve device and dtype names (``None`` or ``"auto"``: the best available)."""
    import torch

    # 1. The device.
    name = (device or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    kind = name.split(":")[0]
    if kind not in ("cuda", "mps", "cpu"):
        raise InputError(f"device must be auto, cuda[:N], mps or cpu, got {device!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {name} was asked for but torch sees no CUDA GPU")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ModelError("device mps was asked for but torch sees no Apple GPU")
    torch_device = torch.device(name)
    # 2. The number format.
    wanted = (dtype or "auto").strip().lower()
    if wanted == "auto":
        if kind == "cuda":
            wanted = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            wanted = "fp16" if kind == "mps" else "fp32"
    if wanted not in DTYPES:
        raise InputError(f"dtype must be auto, fp32, fp16 or bf16, got {dtype!r}")
    canonical = DTYPES[wanted]
    torch_dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[canonical]
    # 3. A description for metadata.
    if kind == "cuda":
        description = torch.cuda.get_device_name(torch_device)
    elif kind == "mps":
        description = "Apple GPU (MPS)"
    else:
        description = "CPU"
    return Placement(torch_device, torch_dtype, name, canonical, description)


def choose_memory(placement: Placement, weights_gib: float, memory: str | None) -> MemoryPlan:
    """A memory plan: the named one, or (``None``/``"auto"``) one that fits the free memory.

    On CUDA with room for the weights plus about 6 GiB of working memory nothing
    is needed; below that VAE slicing/tiling, then model offload, then
    sequential offload.
    """
    if memory not in (None, "auto"):
        if memory not in MEMORY_PLANS:
            raise InputError(
                f"memory must be auto or one of {', '.join(MEMORY_PLANS)}, got {memory!r}"
            )
        return MEMORY_PLANS[memory]
    if not placement.device_name.startswith("cuda"):
        return MEMORY_PLANS["none"]
    import torch

    free_gib = torch.cuda.mem_get_info(placement.device)[0] / 2**30
    if free_gib >= weights_gib + 6:
        return MEMORY_PLANS["none"]
    if free_gib >= weights_gib + 2:
        return MEMORY_PLANS["vae"]
    if free_gib >= weights_gib / 2 + 2:
        return MEMORY_PLANS["offload"]
    return MEMORY_PLANS["sequential"]
