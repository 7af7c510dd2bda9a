"""Faults, with real worker processes running the real engine on ``random:sdxl-tiny``.

Kill -9 and SIGTERM a worker in the middle of a batch of 20 jobs, start
another on the same data directory: every job ends done with exactly one set
of output files. And a cancel stops a real generation within a step.
"""

from __future__ import annotations

import importlib.util
import os
import signal
from pathlib import Path

import pytest

from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import spawn_worker
from dgx_pixels.jobs.store import JobStore
from dgx_pixels.paths import DataDir
from dgx_pixels.request import GenerationRequest

from .helpers import PATIENCE_S

if not all(importlib.util.find_spec(m) for m in ("torch", "diffusers")):  # do not import them
    pytest.skip("the real engine needs the gen extra", allow_module_level=True)

pytestmark = pytest.mark.slow

MODEL = "random:sdxl-tiny"
FILES_PER_IMAGE = 4  # sprite, preview, raw, metadata


class WorkerProcess:
    """A real ``dgx-pixels worker`` process (through spawn_worker), on free loopback ports."""

    def __init__(self, data: DataDir) -> None:
        self.data = data
        self.worker = spawn_worker(
            model=MODEL,
            data_dir=data.root,
            bind="tcp://127.0.0.1:*",
            args=["--batch-size", "4", "--no-metrics", "--device", "cpu"],
            env={**os.environ, "OMP_NUM_THREADS": "1"},  # a tiny model: threads only contend
            timeout=PATIENCE_S,
        )
        self.proc = self.worker.process
        self.address = self.worker.address

    def output(self) -> str:
        return (self.data.logs / "worker.out").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data").create()


def request(i: int, **kw: object) -> GenerationRequest:
    kw.setdefault("steps", 2)
    return GenerationRequest(
        prompt=f"sprite number {i}",
        size=(16, 16),
        seed=1000 + i,
        model=MODEL,
        **kw,  # type: ignore[arg-type]
    )


def kill_mid_batch(worker: WorkerProcess, sig: signal.Signals) -> None:
    """Send ``sig`` once one job is done and the next batch has made a step."""
    with Client(worker.address, timeout=PATIENCE_S) as c, c.events() as stream:
        done = False
        while True:
            event = stream.next(timeout=PATIENCE_S)
            assert event is not None, worker.output()
            if isinstance(event, p.Done):
                done = True
            elif done and isinstance(event, p.Progress) and event.step < event.total:
                os.kill(worker.proc.pid, sig)
                return


def wait_all_ended(address: str, ids: list[int]) -> list[p.JobRecord]:
    with Client(address, timeout=PATIENCE_S) as c:
        return [list(c.watch(i))[-1] and c.status(i) for i in ids]


def assert_exactly_one_output_set(data: DataDir, jobs: list[p.JobRecord]) -> None:
    assert [j.state for j in jobs] == ["done"] * len(jobs)
    expected: set[Path] = set()
    for job in jobs:
        assert len(job.outputs) == job.request["count"]
        files = {Path(f) for out in job.outputs for f in out.values()}
        assert len(files) == FILES_PER_IMAGE * job.request["count"]
        folder = data.outputs / Path(next(iter(files))).parent.relative_to(data.outputs)
        assert {f for f in folder.iterdir()} == files, f"job {job.id}: stray files"
        expected |= files
    written = {f for f in data.outputs.rglob("*") if f.is_file()}
    assert written == expected


def stop_mid_batch(worker: WorkerProcess, sig: signal.Signals) -> int:
    """Send ``sig`` in the middle of a batch; return the worker's exit code."""
    try:
        kill_mid_batch(worker, sig)
        return worker.proc.wait(timeout=PATIENCE_S)
    finally:
        worker.stop()


def test_sigterm_then_kill_9_mid_batch_lose_and_duplicate_nothing(data: DataDir) -> None:
    # One run of 20 jobs through three workers (each start loads torch: seconds).
    first = WorkerProcess(data)
    with Client(first.address) as c:
        ids = [c.submit(request(i)).id for i in range(20)]

    # 1. SIGTERM: the worker finishes its batch and exits 0, leaving nothing running.
    assert stop_mid_batch(first, signal.SIGTERM) == 0, first.output()
    with JobStore(data.jobs_db) as store:
        counts = store.counts()
    assert counts["running"] == 0
    assert 2 <= counts["done"] < 20

    # 2. kill -9 mid-batch: the batch is left running in the store.
    second = WorkerProcess(data)
    assert stop_mid_batch(second, signal.SIGKILL) == -signal.SIGKILL
    with JobStore(data.jobs_db) as store:
        assert store.counts()["running"] >= 1

    # 3. A third worker re-queues and finishes them: each job done, one set of files.
    third = WorkerProcess(data)
    try:
        jobs = wait_all_ended(third.address, ids)
    finally:
        third.stop()
    assert_exactly_one_output_set(data, jobs)
    assert max(j.attempts for j in jobs) == 2  # the killed batch ran twice


def test_cancel_stops_a_real_generation_within_a_step(data: DataDir) -> None:
    worker = WorkerProcess(data)
    try:
        with Client(worker.address, timeout=PATIENCE_S) as c:
            job = c.submit(request(0, steps=200))
            steps: list[int] = []
            with c.events([job.id]) as stream:
                while True:
                    event = stream.next(timeout=PATIENCE_S)
                    assert event is not None, worker.output()
                    if isinstance(event, p.Progress):
                        steps.append(event.step)
                        if len(steps) == 1:
                            assert c.cancel(job.id).state == "running"
                    if isinstance(event, p.Cancelled):
                        break
            assert c.status(job.id).state == "cancelled"
            assert max(steps) < 200
            later = c.submit(request(1, steps=2))  # the worker goes on
            assert isinstance(list(c.watch(later.id))[-1], p.Done)
    finally:
        worker.stop()
