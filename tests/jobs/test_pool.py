"""One worker, several models: warm within a memory budget, loaded on demand, reprioritised.

A real worker (in-process, fake generator with model sizes) over loopback
sockets and a real SQLite file; the pool's budget arithmetic on the fake's sizes.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.errors import DeviceError, JobError, ModelError, ProtocolError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.pool import ModelPool
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL
from .fakes import FakeBackend
from .helpers import PATIENCE_S, wait_until

OTHER = "fake:other"


def req(prompt: str, model: str = MODEL, **kw: Any) -> GenerationRequest:
    kw.setdefault("steps", 2)
    return GenerationRequest(prompt=prompt, model=model, seed=1, **kw)


def run_to_end(c: Client, request: GenerationRequest) -> p.Event:
    job = c.submit(request)
    return list(c.watch(job.id))[-1]


def events_until_done(stream: Any, job_id: int) -> list[p.Event]:
    """The events of ``job_id`` from ``stream`` (every event) until its last one."""
    seen: list[p.Event] = []
    while True:
        event = stream.next(timeout=PATIENCE_S)
        assert event is not None, f"no event for job {job_id}; saw {[e.TYPE for e in seen]}"
        if getattr(event, "job", None) != job_id:
            continue
        seen.append(event)
        if isinstance(event, p.Done | p.Failed | p.Cancelled):
            return seen


def test_one_worker_serves_jobs_of_two_models(start_worker) -> None:
    w = start_worker()
    with w.client() as c:
        first = run_to_end(c, req("a slime"))
        second = run_to_end(c, req("a bat", model=OTHER))
        assert isinstance(first, p.Done)
        assert isinstance(second, p.Done)
        pong = c.ping()
        models = c.models()
    assert w.backend.loads == [MODEL, OTHER]  # the first at start, the other on demand
    assert pong.model == MODEL  # the default, as before
    assert pong.warm == [OTHER, MODEL]  # most recently used first
    assert pong.loading is None
    assert (models.models, models.default) == ([OTHER, MODEL], MODEL)
    assert models.budget_gib == w.backend.budget


def test_a_batch_holds_one_model(start_worker) -> None:
    w = start_worker()
    gate = w.backend.gate("blocker")
    with w.client() as c:
        c.submit(req("blocker", size=(8, 8)))
        wait_until(lambda: w.backend.batches == [["blocker"]], "the blocker to run")
        jobs = [c.submit(req("a")), c.submit(req("b", model=OTHER)), c.submit(req("c"))]
        gate.set()
        for job in jobs:
            assert isinstance(list(c.watch(job.id))[-1], p.Done)
    # same size and steps: a and c batch together; b, of another model, runs apart
    assert w.backend.batches[1:] == [["a", "c"], ["b"]]


def test_the_least_recently_used_model_is_unloaded_first(start_worker) -> None:
    backend = FakeBackend(sizes={MODEL: 1.0, OTHER: 1.0, "fake:third": 1.0})
    w = start_worker(backend, memory_gib=2.5)
    with w.client() as c:
        for model in (OTHER, MODEL, "fake:third"):  # MODEL used after OTHER: OTHER goes
            assert isinstance(run_to_end(c, req(f"for {model}", model=model)), p.Done)
        assert c.ping().warm == ["fake:third", MODEL]
        assert isinstance(run_to_end(c, req("again", model=OTHER)), p.Done)
        assert c.ping().warm == [OTHER, "fake:third"]
    assert backend.loads == [MODEL, OTHER, "fake:third", OTHER]
    assert backend.unloaded == [OTHER, MODEL]
    get = w.worker.metrics.registry.get_sample_value
    assert get("dgx_pixels_model_evictions_total") == 2
    assert get("dgx_pixels_models_warm") == 2
    assert get("dgx_pixels_model_load_seconds_count") == 4


def test_a_model_over_the_budget_alone_is_loaded_alone(start_worker, caplog) -> None:
    backend = FakeBackend(sizes={MODEL: 1.0, OTHER: 1.0, "fake:huge": 9.0})
    w = start_worker(backend, memory_gib=4.0)
    with w.client() as c:
        assert isinstance(run_to_end(c, req("a bat", model=OTHER)), p.Done)
        assert isinstance(run_to_end(c, req("a dragon", model="fake:huge")), p.Done)
        assert c.ping().warm == ["fake:huge"]
        assert isinstance(run_to_end(c, req("a slime")), p.Done)
        assert c.ping().warm == [MODEL]
    assert backend.unloaded == [MODEL, OTHER, "fake:huge"]
    assert "over the memory budget of 4.0 GiB on its own" in caplog.text


def hold_the_next_load(w: Any, c: Client) -> None:
    """Make the next model load wait until the test sets ``w.backend.loading``; first wait
    for the worker's own model, whose load would otherwise be the one held (a worker
    answers before its first model is loaded)."""
    wait_until(lambda: c.ping().state == "ready", "the worker's first model")
    w.backend.loading.clear()


def test_a_cold_model_shows_as_loading_then_loaded(start_worker) -> None:
    w = start_worker()
    with w.client() as c, c.events() as stream:
        hold_the_next_load(w, c)
        job = c.submit(req("a bat", model=OTHER))
        wait_until(lambda: c.ping().loading == OTHER, "the worker to say it is loading")
        assert c.status(job.id).state == "running"  # claimed: the load is its first phase
        assert c.models().loading == OTHER
        w.backend.loading.set()
        events = events_until_done(stream, job.id)
        again = c.submit(req("a second bat", model=OTHER))
        warm_events = events_until_done(stream, again.id)
    kinds = [e.TYPE for e in events if not isinstance(e, p.Progress)]
    assert kinds == ["accepted", "loading", "loaded", "started", "done"]
    loading, loaded = events[1], events[2]
    assert isinstance(loading, p.Loading)
    assert isinstance(loaded, p.Loaded)
    assert (loading.model, loaded.model) == (OTHER, OTHER)
    assert loaded.seconds > 0
    # warm now: no load, no loading event
    assert [e.TYPE for e in warm_events if not isinstance(e, p.Progress)] == [
        "accepted",
        "started",
        "done",
    ]


def test_a_model_that_cannot_load_fails_its_job_not_the_worker(start_worker) -> None:
    w = start_worker()
    with w.client() as c:
        failed = run_to_end(c, req("a ghost", model="missing:ghost"))
        assert isinstance(failed, p.Failed)
        assert failed.kind == "model_not_found"
        assert "model 'missing:ghost' is not cached" in failed.message
        assert isinstance(run_to_end(c, req("a slime")), p.Done)
        wait_until(lambda: c.ping().state == "ready", "the worker ready for more")


def test_reprioritise_reorders_the_queue(start_worker) -> None:
    w = start_worker()
    gate = w.backend.gate("blocker")
    with w.client() as c:
        c.submit(req("blocker"))
        wait_until(lambda: w.backend.batches == [["blocker"]], "the blocker to run")
        # different sizes: each job is a batch of its own, run in queue order
        first, second, third = (c.submit(req(n, size=(8 + 8 * i, 8))) for i, n in enumerate("abc"))
        raised = c.reprioritise(third.id, 10)
        lowered = c.reprioritise(first.id, -10)
        assert (raised.priority, raised.state, lowered.priority) == (10, "queued", -10)
        listed = {j.id: j.priority for j in c.jobs(["queued"]).jobs}
        assert listed == {first.id: -10, second.id: 0, third.id: 10}
        gate.set()
        for job in (first, second, third):
            assert isinstance(list(c.watch(job.id))[-1], p.Done)
        with pytest.raises(JobError, match=f"job {third.id} is done; only a queued job"):
            c.reprioritise(third.id, 1)
        with pytest.raises(JobError, match="no job 404"):
            c.reprioritise(404, 1)
        with pytest.raises(ProtocolError, match="priority must be between -1000 and 1000"):
            c.reprioritise(first.id, 1001)
    assert w.backend.batches[1:] == [["c"], ["b"], ["a"]]


def test_reprioritise_from_the_command_line(start_worker) -> None:
    w = start_worker()
    gate = w.backend.gate("blocker")
    with w.client() as c:
        c.submit(req("blocker"))
        wait_until(lambda: w.backend.batches == [["blocker"]], "the blocker to run")
        job = c.submit(req("later"))
        runner = CliRunner()
        moved = runner.invoke(cli, ["reprioritise", str(job.id), "7", "--worker", w.address])
        assert (moved.exit_code, moved.output) == (0, f"job {job.id} queued at priority 7\n")
        assert c.status(job.id).priority == 7
        too_high = runner.invoke(cli, ["reprioritise", str(job.id), "5000", "--worker", w.address])
        assert too_high.exit_code == 2
        assert "priority must be between -1000 and 1000, got 5000" in too_high.output
        gone = runner.invoke(cli, ["reprioritise", "999", "1", "--worker", w.address])
        assert (gone.exit_code, gone.output) == (7, "Error: no job 999\n")
        gate.set()


def test_retry_from_the_command_line(start_worker) -> None:
    w = start_worker()
    gate = w.backend.gate("blocker")
    with w.client() as c:
        c.submit(req("blocker"))
        wait_until(lambda: w.backend.batches == [["blocker"]], "the blocker to run")
        job = c.submit(req("later"), priority=3)
        c.cancel(job.id)
        runner = CliRunner()
        again = runner.invoke(cli, ["retry", str(job.id), "--worker", w.address])
        new_id = c.jobs(states=["queued"]).jobs[0].id
        said = f"job {job.id} queued again as job {new_id}\n"
        assert (again.exit_code, again.output) == (0, said)
        assert (c.status(new_id).prompt, c.status(new_id).priority) == ("later", 3)
        queued = runner.invoke(cli, ["retry", str(new_id), "--worker", w.address])
        assert queued.exit_code == 7
        assert "only a failed or cancelled job can be retried" in queued.output
        gate.set()


def test_an_unknown_model_id_is_refused_at_submit_when_the_check_knows(start_worker) -> None:
    class Checking(FakeBackend):
        def check(self, request: GenerationRequest) -> None:
            if request.model.startswith("unknown:"):
                raise ModelError(f"unknown model {request.model!r}")

    w = start_worker(Checking())
    with w.client() as c, pytest.raises(ModelError, match="unknown model 'unknown:x'"):
        c.submit(req("x", model="unknown:x"))


def test_the_pool_asks_the_backend_for_a_budget_once_and_refuses_a_bad_one() -> None:
    backend = FakeBackend(budget=3.0)
    pool = ModelPool(backend)
    assert pool.known_budget_gib is None
    assert pool.get("fake:a").load_s is not None
    assert pool.get("fake:a").load_s is None  # warm
    assert pool.known_budget_gib == 3.0
    assert pool.used_gib == 1.0
    with pytest.raises(Exception, match="memory budget must be above 0 GiB, got 0"):
        ModelPool(backend, budget_gib=0)


def test_the_engine_backend_unloads_the_older_tiny_model_for_the_other() -> None:
    from dgx_pixels.jobs.backend import RAM_SHARE, EngineBackend, _ram_bytes

    backend = EngineBackend(device="cpu")
    tiny, tiny_b = "random:sdxl-tiny", "random:sdxl-tiny-b"
    assert backend.memory_gib(tiny) == pytest.approx(0.02)  # 0.01 GiB at 16 bits; fp32 on a CPU
    assert backend.budget_gib() == pytest.approx(RAM_SHARE * _ram_bytes() / 2**30)
    pool = ModelPool(backend, budget_gib=0.03)  # room for one of them
    request = GenerationRequest("a slime", size=(16, 16), steps=2, seed=3, model=tiny)
    older = pool.get(tiny).generator
    first = older.generate([request])[0]
    other = pool.get(tiny_b).generator.generate([request.replace(model=tiny_b)])[0]
    assert pool.warm == [tiny_b]
    assert first.images[0].sprite.tobytes() != other.images[0].sprite.tobytes()  # other weights
    with pytest.raises(ModelError, match="the engine for random:sdxl-tiny was closed"):
        older.generate([request])


def test_a_load_out_of_device_memory_makes_room_and_tries_once_more(start_worker) -> None:
    class ShortOfMemory(FakeBackend):
        """The estimates are short: OTHER fits only once nothing else is loaded."""

        def load(self, model_id: str) -> Any:
            if model_id == OTHER and self.loads and not set(self.loads) <= set(self.unloaded):
                raise DeviceError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return super().load(model_id)

    backend = ShortOfMemory()
    w = start_worker(backend)
    with w.client() as c:
        assert isinstance(run_to_end(c, req("a bat", model=OTHER)), p.Done)
        assert c.ping().warm == [OTHER]
    assert (backend.loads, backend.unloaded) == ([MODEL, OTHER], [MODEL])
    assert w.worker.metrics.registry.get_sample_value("dgx_pixels_model_evictions_total") == 1


def test_a_job_cancelled_while_its_model_loads_ends_cancelled(start_worker) -> None:
    w = start_worker()
    with w.client() as c:
        hold_the_next_load(w, c)
        job = c.submit(req("a bat", model=OTHER))
        wait_until(lambda: c.ping().loading == OTHER, "the load to begin")
        assert c.cancel(job.id).state == "running"  # flagged: a load cannot be interrupted
        w.backend.loading.set()
        assert isinstance(list(c.watch(job.id))[-1], p.Cancelled)
        assert c.ping().warm == [OTHER, MODEL]  # the model stays warm for the next job
