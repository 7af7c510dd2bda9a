"""Fixtures: a real worker (fake generator) on loopback ports, a real SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.worker import Worker, WorkerConfig
from dgx_pixels.paths import DataDir

from .fakes import FakeBackend

MODEL = "fake:tiny"


@dataclass
class RunningWorker:
    worker: Worker
    backend: FakeBackend
    thread: threading.Thread
    data: DataDir
    errors: list[BaseException]

    @property
    def address(self) -> str:
        return self.worker.address

    def client(self, **kwargs: Any) -> Client:
        return Client(self.address, **kwargs)

    def stop(self, *, now: bool = True) -> None:
        self.worker.request_stop(now=now)
        self.thread.join()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., RunningWorker]]:
    """Start in-process workers (each in a thread); all are stopped at the end."""
    started: list[RunningWorker] = []

    def start(backend: FakeBackend | None = None, **options: Any) -> RunningWorker:
        backend = backend or FakeBackend()
        options.setdefault("model", MODEL)
        options.setdefault("bind", "tcp://127.0.0.1:*")
        options.setdefault("metrics_port", None)
        data = DataDir(options.pop("data_root", tmp_path / "data"))
        worker = Worker(WorkerConfig(data=data, **options), backend)
        errors: list[BaseException] = []

        def serve() -> None:
            try:
                worker.serve()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        running = RunningWorker(worker, backend, thread, data, errors)
        started.append(running)
        while not worker.wait_bound(0.05):
            if not thread.is_alive():
                raise errors[0]
        return running

    yield start
    for w in started:
        w.backend.hold.set()
        if w.thread.is_alive():
            w.stop()
