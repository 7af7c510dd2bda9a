"""Fixtures: one real worker (random:sdxl-tiny) for the session, and our server on a fresh root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker
from dgx_pixels.mcp import ServerConfig, WorkerLink, build_server

MODEL = "random:sdxl-tiny"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpawnedWorker]:
    """A real worker process on a free loopback port, loaded and ready."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        spawned = spawn_worker(
            model=MODEL,
            data_dir=tmp_path_factory.mktemp("worker-data"),
            bind="tcp://127.0.0.1:*",
            args=["--no-metrics"],
        )
    try:
        spawned.wait_ready()
        yield spawned
    finally:
        spawned.process.kill()
        spawned.process.wait()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "game"
    folder.mkdir()
    return folder


@pytest.fixture
def server(root: Path, worker: SpawnedWorker) -> Iterator[tuple[Any, WorkerLink]]:
    """Our server on ``root``, talking to the session's worker (never starting another)."""
    built = build_server(ServerConfig(root=root, worker=worker.address, spawn=False))
    yield built
    built[1].close()
