"""One contract, two backends: the fake generator and the real engine on ``random:sdxl-tiny``.

Every test here runs against both. Each job goes through a real in-process
worker on loopback and a real SQLite file; the assertions are the same for
both, so the fake the other job tests rely on is held to what the engine does:
the same states, the same events, the same retry and failure semantics.

Faults are injected where they arise. The fake raises what the engine
promises to raise. In the real engine the UNet's forward call raises the raw
PyTorch error (``torch.OutOfMemoryError``, a shape ``RuntimeError``), so the
engine's own wrapping decides whether the failure is transient.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.errors import DeviceError, GenerationError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.backend import EngineBackend, Generator
from dgx_pixels.request import GenerationRequest

from .fakes import FakeBackend, FakeGenerator
from .helpers import PATIENCE_S

TINY = "random:sdxl-tiny"
HAS_ENGINE = all(importlib.util.find_spec(m) for m in ("torch", "diffusers"))

#: The two faults, by name: the device running out of memory (transient) and
#: a failure the request causes (a shape error: it would fail again).
FAULTS = ("out of memory", "shape error")


@dataclass
class Faults:
    """The next ``times`` draws fail with ``kind``; ``draws`` counts every draw."""

    kind: str | None = None
    times: int = 0
    draws: int = 0

    def inject(self, kind: str, times: int = 1) -> None:
        assert kind in FAULTS
        self.kind, self.times = kind, times

    def next_fault(self) -> str | None:
        self.draws += 1
        if self.kind is None or self.times == 0:
            return None
        self.times -= 1
        return self.kind


# ------------------------------------------------------------------ the fake


class FaultyFakeGenerator(FakeGenerator):
    faults: Faults

    def generate(self, requests: Any, **kwargs: Any) -> Any:
        fault = self.faults.next_fault()
        if fault == "out of memory":  # what the engine raises for torch.OutOfMemoryError
            raise DeviceError("generation failed on CPU: CUDA out of memory. Tried to allocate")
        if fault == "shape error":
            raise GenerationError("generation failed on CPU: mat1 and mat2 shapes cannot be")
        return super().generate(requests, **kwargs)


@dataclass
class FaultyFakeBackend(FakeBackend):
    faults: Faults = field(default_factory=Faults)

    def load(self, model_id: str) -> FaultyFakeGenerator:
        generator = FaultyFakeGenerator(model_id, self)
        generator.faults = self.faults
        return generator


# ------------------------------------------------------------ the real engine


@pytest.fixture(scope="session")
def tiny_engine() -> Any:
    from dgx_pixels.engine import Engine

    return Engine.load(TINY, device="cpu")


@dataclass
class WarmEngineBackend:
    """:class:`EngineBackend` with the session's loaded engine, its UNet open to faults."""

    engine: Any
    faults: Faults = field(default_factory=Faults)
    real: EngineBackend = field(default_factory=lambda: EngineBackend(device="cpu"))
    hold: threading.Event = field(default_factory=threading.Event)  # conftest releases it

    def check(self, request: GenerationRequest) -> None:
        self.real.check(request)

    def load(self, model_id: str) -> Generator:
        assert model_id == self.engine.model_id
        return self.engine  # type: ignore[no-any-return]

    def save(self, result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        return self.real.save(result, out_dir, force=force)

    def memory_gib(self, model_id: str) -> float:
        return self.real.memory_gib(model_id)

    def budget_gib(self) -> float:
        return self.real.budget_gib()

    def unload(self, generator: Generator) -> None:  # the session's engine stays loaded
        pass


def faulty_unet(unet: Any, faults: Faults) -> Callable[..., Any]:
    """A UNet forward that raises PyTorch's own errors on the draws ``faults`` picks."""
    import torch

    real_forward = unet.forward
    state = {"draw_fault": None, "first_step": True}

    def forward(*args: Any, **kwargs: Any) -> Any:
        if state["first_step"]:  # one decision per draw, at its first denoising step
            state["draw_fault"] = faults.next_fault()
            state["first_step"] = False
        fault = state["draw_fault"]
        if fault is not None:
            state["first_step"] = True
            if fault == "out of memory":
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")
        return real_forward(*args, **kwargs)

    def reset() -> None:
        state["first_step"] = True

    forward.new_draw = reset  # type: ignore[attr-defined]
    return forward


# ----------------------------------------------------------------- the subject


@dataclass
class Subject:
    name: str
    backend: Any
    model: str
    faults: Faults

    def request(self, prompt: str = "a knight", **kw: Any) -> GenerationRequest:
        kw.setdefault("steps", 2)
        return GenerationRequest(prompt, size=(16, 16), seed=3, model=self.model, **kw)


@pytest.fixture(params=["fake", pytest.param("engine", marks=pytest.mark.slow)])
def subject(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Subject]:
    if request.param == "fake":
        backend = FaultyFakeBackend(step_delay=0.01)
        yield Subject("fake", backend, "fake:tiny", backend.faults)
        return
    if not HAS_ENGINE:
        pytest.skip("the real engine needs the gen extra")
    engine = request.getfixturevalue("tiny_engine")
    backend = WarmEngineBackend(engine)
    unet = engine.pipeline.unet
    forward = faulty_unet(unet, backend.faults)
    monkeypatch.setattr(unet, "forward", forward)
    real_generate = engine.generate

    def generate(*args: Any, **kwargs: Any) -> Any:  # each batch is a new draw
        forward.new_draw()  # type: ignore[attr-defined]
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(engine, "generate", generate)
    yield Subject("engine", backend, TINY, backend.faults)


def run_job(w: Any, request: GenerationRequest) -> tuple[p.JobRecord, list[p.Event]]:
    """Submit ``request`` with a live stream open; return its record and all its events."""
    with w.client(timeout=PATIENCE_S) as c, c.events() as stream:
        job = c.submit(request)
        events: list[p.Event] = []
        while True:
            event = stream.next(timeout=PATIENCE_S)
            assert event is not None, "the worker went quiet"
            if getattr(event, "job", None) != job.id:
                continue
            events.append(event)
            if isinstance(event, (p.Done, p.Failed, p.Cancelled)):
                return c.status(job.id), events


def shape(events: list[p.Event]) -> list[str]:
    """The events as a list of types, progress as ``progress:<step>/<total>``."""
    return [f"progress:{e.step}/{e.total}" if isinstance(e, p.Progress) else e.TYPE for e in events]


# ----------------------------------------------------------------- the contract


def test_a_job_goes_accepted_started_progress_done(start_worker, subject: Subject) -> None:
    w = start_worker(subject.backend, model=subject.model)
    record, events = run_job(w, subject.request(count=2))
    assert shape(events) == ["accepted", "started", "progress:1/2", "progress:2/2", "done"]
    assert (record.state, record.attempts, record.error) == ("done", 1, None)
    assert len(record.outputs) == 2
    assert all(Path(f).is_file() for out in record.outputs for f in out.values())
    assert events[-1].outputs == record.outputs  # type: ignore[attr-defined]


def test_a_transient_device_failure_is_retried(start_worker, subject: Subject) -> None:
    w = start_worker(subject.backend, model=subject.model, max_attempts=3)
    subject.faults.inject("out of memory", times=1)
    record, events = run_job(w, subject.request())
    assert shape(events) == [
        "accepted", "started", "accepted", "started", "progress:1/2", "progress:2/2", "done",
    ]  # fmt: skip
    assert (record.state, record.attempts) == ("done", 2)


def test_a_device_failing_every_time_fails_the_job_after_max_attempts(
    start_worker, subject: Subject
) -> None:
    w = start_worker(subject.backend, model=subject.model, max_attempts=2)
    subject.faults.inject("out of memory", times=99)
    record, events = run_job(w, subject.request())
    assert shape(events) == ["accepted", "started", "accepted", "started", "failed"]
    assert (record.state, record.attempts, record.error_kind) == ("failed", 2, "device")
    assert "out of memory" in (record.error or "")


def test_a_failure_the_request_causes_is_not_retried(start_worker, subject: Subject) -> None:
    w = start_worker(subject.backend, model=subject.model, max_attempts=3)
    subject.faults.inject("shape error", times=1)
    record, events = run_job(w, subject.request())
    assert shape(events) == ["accepted", "started", "failed"]
    assert (record.state, record.attempts, record.error_kind) == ("failed", 1, "generation")
    assert "shapes cannot be" in (record.error or "")
    assert subject.faults.draws == 1
    after, _ = run_job(w, subject.request("the next one"))  # the worker goes on
    assert after.state == "done"


def test_cancel_stops_a_running_job_within_a_step(start_worker, subject: Subject) -> None:
    w = start_worker(subject.backend, model=subject.model)
    with w.client(timeout=PATIENCE_S) as c, c.events() as stream:
        job = c.submit(subject.request(steps=200))
        steps: list[int] = []
        while True:
            event = stream.next(timeout=PATIENCE_S)
            assert event is not None
            if isinstance(event, p.Progress) and event.job == job.id:
                steps.append(event.step)
                if len(steps) == 1:
                    assert c.cancel(job.id).state == "running"
            if isinstance(event, p.Cancelled) and event.job == job.id:
                break
        record = c.status(job.id)
    assert (record.state, record.outputs) == ("cancelled", [])
    assert max(steps) < 200
