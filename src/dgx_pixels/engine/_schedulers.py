"""Schedulers (samplers) by name, as users know them from A1111 and ComfyUI.

Names are checked without importing diffusers; :func:`make_scheduler` builds
one from the model's own scheduler config, so the training schedule (betas,
prediction type, offsets) is kept and only the sampling method changes.

>>> canonical_scheduler("DPM++ 2M Karras")
'dpm++ 2m karras'
>>> canonical_scheduler("euler_a")
'euler-a'
"""

from __future__ import annotations

from typing import Any

from dgx_pixels.errors import RequestError

__all__ = ["A1111_NAMES", "SCHEDULERS", "canonical_scheduler", "make_scheduler"]

#: name -> (diffusers class name, config overrides)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler-a": ("EulerAncestralDiscreteScheduler", {}),
    "dpm++ 2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "dpm++ 2m karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True},
    ),
    "dpm++ 2m sde karras": (
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True},
    ),
    "ddim": ("DDIMScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
}

#: Our name -> the sampler name A1111 writes in its ``parameters`` text.
A1111_NAMES: dict[str, str] = {
    "euler": "Euler",
    "euler-a": "Euler a",
    "dpm++ 2m": "DPM++ 2M",
    "dpm++ 2m karras": "DPM++ 2M Karras",
    "dpm++ 2m sde karras": "DPM++ 2M SDE Karras",
    "ddim": "DDIM",
    "lcm": "LCM",
    "unipc": "UniPC",
}

_ALIASES = {"euler a": "euler-a", "euler ancestral": "euler-a", "euler-ancestral": "euler-a"}


def canonical_scheduler(name: str) -> str:
    """The canonical form of a scheduler name; :class:`RequestError` if unknown."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    key = _ALIASES.get(key, key)
    if key not in SCHEDULERS:
        raise RequestError(
            f"unknown scheduler {name!r}; choose one of: {', '.join(SCHEDULERS)}",
            option="scheduler",
        )
    return key


def make_scheduler(name: str, base_config: Any) -> Any:
    """A diffusers scheduler for ``name`` built from the model's scheduler config."""
    import diffusers

    class_name, overrides = SCHEDULERS[canonical_scheduler(name)]
    scheduler_class = getattr(diffusers, class_name)
    return scheduler_class.from_config(base_config, **overrides)
