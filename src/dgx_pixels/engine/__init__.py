"""The generation engine: prompt -> raw SDXL drawings -> true-resolution sprites.

The only package that imports torch and diffusers, and only inside the
functions that need them: importing ``dgx_pixels.engine`` is cheap, so the CLI
can check a request (:func:`check_request`) before it loads a model.

Typical use (the worker keeps one engine warm)::

    engine = Engine.load("random:sdxl-tiny", device="cpu")
    request = GenerationRequest("a knight", size=(32, 32), count=4, model="random:sdxl-tiny")
    [result] = engine.generate([request], on_step=print)
    result.images[0].sprite  # a 32x32 RGBA sprite

A request with ``seamless="x"|"y"|"xy"`` draws a tile that wraps around: for
that run every convolution of the UNet and the VAE pads circularly
(:func:`circular_padding`) and the pixel step treats the tile as a torus.
"""

from __future__ import annotations

from dgx_pixels.engine._backend import Backend
from dgx_pixels.engine._checks import check_request
from dgx_pixels.engine._device import MEMORY_PLANS, MemoryPlan
from dgx_pixels.engine._engine import Engine
from dgx_pixels.engine._resolution import DrawingSize, drawing_size
from dgx_pixels.engine._schedulers import SCHEDULERS, canonical_scheduler
from dgx_pixels.engine._seamless import circular_padding
from dgx_pixels.engine._types import GeneratedImage, GenerationResult, LoraInfo, StepInfo, Timings
from dgx_pixels.engine.models import ModelSpec, resolve_model

__all__ = [
    "MEMORY_PLANS",
    "SCHEDULERS",
    "Backend",
    "DrawingSize",
    "Engine",
    "GeneratedImage",
    "GenerationResult",
    "LoraInfo",
    "MemoryPlan",
    "ModelSpec",
    "StepInfo",
    "Timings",
    "canonical_scheduler",
    "check_request",
    "circular_padding",
    "drawing_size",
    "resolve_model",
]
