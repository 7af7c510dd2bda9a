"""The performance benchmark: our engine against plain diffusers, in one run.

Each case draws square images of one side at one step count, with or without
classifier-free guidance, at one batch size. The baseline is diffusers'
``StableDiffusionXLPipeline`` with its default settings (the model's own
scheduler, no memory options, no compilation) built on the *same* modules,
so both time the same weights on the same device, prompt and seeds. Ours is
``Engine.generate`` end to end: progress callback, pixel post-processing and
all.
"""

from __future__ import annotations

import importlib
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from dgx_pixels.engine._backend import Backend
from dgx_pixels.engine._engine import Engine
from dgx_pixels.errors import RequestError
from dgx_pixels.request import GenerationRequest

__all__ = ["BenchCase", "BenchResult", "CaseResult", "Measurement", "default_cases", "run_bench"]

_PROMPT = "a knight with a sword, side view, pixel art"


@dataclass(frozen=True, slots=True)
class BenchCase:
    """Draw ``batch`` images of ``side x side`` in ``steps`` steps at ``guidance``."""

    name: str
    side: int
    steps: int
    guidance: float
    batch: int

    @property
    def cfg(self) -> bool:
        """Whether classifier-free guidance runs (a second UNet pass per step)."""
        return self.guidance > 1.0


@dataclass(frozen=True, slots=True)
class Measurement:
    """Latency over the repeats, throughput and peak accelerator memory."""

    latency_s: float  # median
    latency_min_s: float
    images_per_min: float
    peak_memory_bytes: int | None


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case: ours, the baseline, and baseline latency / ours (above 1: we are faster)."""

    case: BenchCase
    ours: Measurement
    baseline: Measurement
    speedup: float


@dataclass(frozen=True, slots=True)
class BenchResult:
    """A whole benchmark run with what it ran on."""

    model: str
    device: str
    dtype: str
    versions: dict[str, str]
    repeats: int
    warmup: int
    cases: list[CaseResult]
    process_peak_rss_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return asdict(self)


def default_cases(native_side: int, *, steps: int = 30) -> list[BenchCase]:
    """The issue's cases, scaled to the model: native size with CFG at batch 1 and 4,
    4 steps without CFG, and half the native side."""
    half = native_side // 2
    return [
        BenchCase(f"{native_side}px {steps} steps cfg b1", native_side, steps, 6.0, 1),
        BenchCase(f"{native_side}px {steps} steps cfg b4", native_side, steps, 6.0, 4),
        BenchCase(f"{native_side}px 4 steps no-cfg b1", native_side, 4, 1.0, 1),
        BenchCase(f"{half}px {steps} steps cfg b1", half, steps, 6.0, 1),
    ]


def run_bench(
    engine: Backend,
    cases: list[BenchCase],
    *,
    repeats: int = 3,
    warmup: int = 1,
    on_case: Callable[[CaseResult], None] | None = None,
) -> BenchResult:
    """Time every case on ``engine`` and on the baseline pipeline, alternating per case."""
    from dgx_pixels.engine._engine import _versions

    if not isinstance(engine, Engine):  # another backend: no diffusers pipeline to race
        raise RequestError(
            f"bench races an SDXL engine against plain diffusers; {engine.model_id} has no "
            "such baseline (for the built-in model: benchmarks/builtin_sampling.py)",
            option="model",
        )
    baseline = _baseline_pipeline(engine)
    results = []
    for case in cases:
        ours, base = _measure_pair(
            _ours(engine, case), _base(baseline, case), case, repeats, warmup, engine.device
        )
        result = CaseResult(case, ours, base, base.latency_s / ours.latency_s)
        results.append(result)
        if on_case is not None:
            on_case(result)
    return BenchResult(
        model=engine.model_id,
        device=engine.device_description,
        dtype=engine.dtype,
        versions=_versions(),
        repeats=repeats,
        warmup=warmup,
        cases=results,
        process_peak_rss_bytes=_peak_rss(),
    )


def _ours(engine: Engine, case: BenchCase) -> Callable[[], None]:
    sprite = min(32, case.side // 2)
    request = GenerationRequest(
        _PROMPT,
        size=(sprite, sprite),
        count=case.batch,
        seed=0,
        model=engine.model_id,
        steps=case.steps,
        guidance=case.guidance,
        scheduler="euler",
        drawing_size=(case.side, case.side),
    )

    def run() -> None:
        engine.generate([request], on_step=lambda info: None)

    return run


def _base(pipe: Any, case: BenchCase) -> Callable[[], None]:
    import torch

    negative = GenerationRequest(_PROMPT).negative_prompt

    def run() -> None:
        generators = [torch.Generator("cpu").manual_seed(i) for i in range(case.batch)]
        pipe(
            prompt=[_PROMPT] * case.batch,
            negative_prompt=[negative] * case.batch,
            height=case.side,
            width=case.side,
            num_inference_steps=case.steps,
            guidance_scale=case.guidance,
            generator=generators,
        )

    return run


def _baseline_pipeline(engine: Engine) -> Any:
    """Plain ``StableDiffusionXLPipeline`` with default settings on the engine's modules."""
    diffusers: Any = importlib.import_module("diffusers")
    components = dict(engine.pipeline.components)
    components["scheduler"] = diffusers.EulerDiscreteScheduler.from_config(
        engine.base_scheduler_config
    )
    pipe = diffusers.StableDiffusionXLPipeline(**components)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _measure_pair(
    ours: Callable[[], None],
    base: Callable[[], None],
    case: BenchCase,
    repeats: int,
    warmup: int,
    device: str,
) -> tuple[Measurement, Measurement]:
    """Time ``ours`` and ``base`` alternately, so drifting load hits both alike."""
    import torch

    cuda = device.startswith("cuda")
    times: dict[str, list[float]] = {"ours": [], "base": []}
    peaks: dict[str, int | None] = {"ours": None, "base": None}
    for i in range(warmup + repeats):
        for name, fn in (("ours", ours), ("base", base)):
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            fn()
            if cuda:
                torch.cuda.synchronize()
                peak = int(torch.cuda.max_memory_allocated())
                peaks[name] = max(peaks[name] or 0, peak)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)

    def summary(name: str) -> Measurement:
        median = statistics.median(times[name])
        return Measurement(median, min(times[name]), 60.0 * case.batch / median, peaks[name])

    return summary("ours"), summary("base")


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
