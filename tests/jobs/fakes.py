"""A fake generator that keeps the engine's contract, for testing the job mechanics.

``FakeGenerator.generate`` calls ``on_step`` once per step and raises
``Interrupted`` within one step of ``interrupt.set()``, like the real engine.
A test can hold every batch at a step with ``FakeBackend.hold``, or the batches
holding one prompt with ``FakeBackend.gate(prompt)`` (Events the generator
waits on before each step), to act while a job is running, without sleeping
or timing anything.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from dgx_pixels.errors import (
    DeviceError,
    GenerationError,
    Interrupted,
    ModelNotFoundError,
    PaletteError,
)
from dgx_pixels.image_files import FileSet, png_bytes
from dgx_pixels.request import GenerationRequest


@dataclass(frozen=True)
class FakeStep:
    step: int
    total: int
    elapsed_s: float

    def preview(self) -> Image.Image:
        return Image.new("RGB", (128, 128), (self.step * 7 % 256, 40, 90))


@dataclass(frozen=True)
class FakeImage:
    seed: int
    sprite: Image.Image


@dataclass(frozen=True)
class FakeResult:
    request: GenerationRequest
    images: list[FakeImage]


@dataclass
class FakeGenerator:
    model_id: str
    backend: FakeBackend

    def batch_key(self, request: GenerationRequest) -> Hashable:
        return (request.model, request.size, request.steps, request.loras, request.fast)

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        on_step: Callable[[Any], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> list[FakeResult]:
        b = self.backend
        b.batches.append([r.prompt for r in requests])
        if any(r.prompt.startswith("explode") for r in requests):
            raise GenerationError("the fake engine was asked to fail")
        if any(r.prompt.startswith("crash") for r in requests):  # what the engine raises
            raise DeviceError("CUDA error: an illegal memory access was encountered")
        if any(r.prompt.startswith("bug") for r in requests):  # not an error of ours: a bug
            raise KeyError("latents")
        total = requests[0].steps
        t0 = time.monotonic()
        for step in range(1, total + 1):
            b.running.set()
            b.hold.wait()
            for r in requests:
                if r.prompt in b.gates:
                    b.gates[r.prompt].wait()
            if interrupt is not None and interrupt.is_set():
                raise Interrupted(f"interrupted at step {step} of {total}")
            if b.step_delay:
                time.sleep(b.step_delay)
            if on_step is not None:
                on_step(FakeStep(step, total, time.monotonic() - t0))
        return [
            FakeResult(
                r,
                [FakeImage(s, Image.new("RGBA", r.size, (s % 256, 0, 0, 255))) for s in r.seeds()],
            )
            for r in requests
        ]


@dataclass
class FakeBackend:
    """Loads :class:`FakeGenerator` for any model id except ``missing:*``.

    A model costs ``sizes.get(model_id, 1.0)`` GiB; the default budget is
    ``budget``; ``loads`` and ``unloaded`` list the model ids in order.
    """

    step_delay: float = 0.0
    hold: threading.Event = field(default_factory=threading.Event)
    running: threading.Event = field(default_factory=threading.Event)
    batches: list[list[str]] = field(default_factory=list)
    gates: dict[str, threading.Event] = field(default_factory=dict)
    loading: threading.Event = field(default_factory=threading.Event)  # clear: load blocks
    sizes: dict[str, float] = field(default_factory=dict)
    budget: float = 1000.0
    loads: list[str] = field(default_factory=list)
    unloaded: list[str] = field(default_factory=list)

    def gate(self, prompt: str) -> threading.Event:
        """A closed gate: a batch holding ``prompt`` waits before each step until it is set."""
        self.gates[prompt] = threading.Event()
        return self.gates[prompt]

    def __post_init__(self) -> None:
        self.hold.set()
        self.loading.set()

    def check(self, request: GenerationRequest) -> None:
        if request.palette == "no-such-palette":
            raise PaletteError(f"unknown palette {request.palette!r}")

    def load(self, model_id: str) -> FakeGenerator:
        self.loading.wait()
        if model_id.startswith("missing:"):
            raise ModelNotFoundError(f"model {model_id!r} is not cached")
        self.loads.append(model_id)
        return FakeGenerator(model_id, self)

    def memory_gib(self, model_id: str) -> float:
        return self.sizes.get(model_id, 1.0)

    def budget_gib(self) -> float:
        return self.budget

    def unload(self, generator: FakeGenerator) -> None:
        self.unloaded.append(generator.model_id)

    def save(self, result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        """Two files per image, written as one set (all or none), like ``save_result``."""
        slug = "-".join(result.request.prompt.split())[:40]
        files = []
        with FileSet(force=force) as written:
            for image in result.images:
                sprite = out_dir / f"{slug}-{image.seed}.png"
                meta = out_dir / f"{slug}-{image.seed}.json"
                written.add(png_bytes(image.sprite), sprite)
                written.add(json.dumps(result.request.to_dict()).encode(), meta)
                files.append({"sprite": str(sprite), "metadata": str(meta)})
        return files
