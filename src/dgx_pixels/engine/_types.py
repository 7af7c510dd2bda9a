"""The engine's result types: small frozen dataclasses, no torch at import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from dgx_pixels.request import GenerationRequest

__all__ = ["GeneratedImage", "GenerationResult", "LoraInfo", "StepInfo", "Timings"]


@dataclass(frozen=True, slots=True)
class StepInfo:
    """Progress after one denoising step.

    ``step`` counts from 1 to ``total`` over the whole ``generate`` call.
    :meth:`preview` turns the current latents of the first image of the batch
    into a small RGB image with a linear approximation; it costs nothing until
    called and is valid during the callback.
    """

    step: int
    total: int
    elapsed_s: float
    _preview: Callable[[], Image.Image] = field(repr=False, compare=False)

    def preview(self) -> Image.Image:
        """A small RGB preview of the first image of the batch at this step."""
        return self._preview()

    @property
    def eta_s(self) -> float:
        """Seconds left, assuming the remaining steps take as long as the done ones."""
        return self.elapsed_s / self.step * (self.total - self.step) if self.step else 0.0


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image: its seed, the true-resolution sprite and the raw drawing."""

    seed: int
    sprite: Image.Image  # RGBA, request.size
    raw: Image.Image  # RGB, drawing resolution


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds spent: the whole call, drawing (text encoding, denoising, VAE decode), and
    pixel post-processing, for a batch of ``batch_images`` images."""

    total_s: float
    draw_s: float
    postprocess_s: float
    batch_images: int

    def to_dict(self) -> dict[str, float | int]:
        """Plain data for metadata."""
        return {
            "total_s": round(self.total_s, 4),
            "draw_s": round(self.draw_s, 4),
            "postprocess_s": round(self.postprocess_s, 4),
            "batch_images": self.batch_images,
        }


@dataclass(frozen=True, slots=True)
class LoraInfo:
    """A LoRA that was applied: its id, weight, file name and SHA-256."""

    id: str
    weight: float
    file: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for metadata."""
        return {"id": self.id, "weight": self.weight, "file": self.file, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What one request produced, with everything its metadata needs.

    ``images`` are in ``request.seeds()`` order. ``model`` describes the model
    as loaded (id, kind, source, revision or file hash), ``loras`` every LoRA
    applied (the model's own first), ``versions`` the library versions.
    ``pixel_spec`` is the pixel toolkit's spec every image was made with (as
    plain data), its ``auto:N`` palette locked to the exact colours the
    request's images share.
    """

    request: GenerationRequest
    images: list[GeneratedImage]
    timings: Timings
    drawing_size: tuple[int, int]
    factor: int
    scheduler: str
    device: str
    dtype: str
    model: dict[str, Any]
    loras: list[LoraInfo]
    versions: dict[str, str]
    pixel_spec: dict[str, Any]
