"""Fixtures: one real worker process (random:sdxl-tiny) for the whole session, and apps on it."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker
from dgx_pixels.tui import DgxPixelsApp, Settings, TuiOptions, WorkerLink

MODEL = "random:sdxl-tiny"
#: A loopback port where nothing listens (the worker-less snapshots use it).
NOBODY = "tcp://127.0.0.1:9"
#: A small, fast request for the form: 16x16, 3 steps.
FAST = {"size": "16", "count": "1", "steps": "3", "seed": "7"}


@pytest.fixture(scope="session")
def tiny_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpawnedWorker]:
    """A worker process on random:sdxl-tiny, shared by every test of the session."""
    data = tmp_path_factory.mktemp("tui-worker") / "data"
    spawned = spawn_worker(
        model=MODEL,
        data_dir=data,
        bind="tcp://127.0.0.1:*",
        args=["--no-metrics"],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        spawned.wait_ready()
        yield spawned
    finally:
        spawned.process.kill()
        spawned.process.wait()


def make_app(
    address: str,
    tmp_path: Path,
    *,
    data_dir: Path | None = None,
    settings: Settings | None = None,
    may_spawn: bool = False,
    settings_path: Path | None = None,
    **link: Any,
) -> DgxPixelsApp:
    """An app on ``address`` with its settings file in ``tmp_path``; half blocks, no blink."""
    link.setdefault("ping_timeout", 0.5)
    return DgxPixelsApp(
        TuiOptions(
            link=WorkerLink(address, data_dir=data_dir, may_spawn=may_spawn, **link),
            settings=settings or Settings(),
            settings_path=settings_path or tmp_path / "config" / "tui.toml",
            renderer="halfblock",
            data_dir=data_dir,
            blink=False,
        )
    )


async def wait_for(
    pilot: Pilot[Any],
    ready: Callable[[], bool],
    *,
    timeout: float = 60.0,
    what: str | Callable[[], str] = "",
) -> None:
    """Let the app run until ``ready()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out waiting for {said or ready}")
        await pilot.pause(0.05)


def fill(app: DgxPixelsApp, **values: str) -> None:
    """Set Generate's form fields by id."""
    from textual.widgets import Input

    for name, value in values.items():
        app.screen.query_one(f"#{name}", Input).value = value


Hook = Callable[[Any], Awaitable[None] | None]


@pytest.fixture
def anyio_backend() -> str:
    """The app tests are asyncio coroutines (anyio's pytest plugin runs them)."""
    return "asyncio"
