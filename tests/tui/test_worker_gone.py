"""A worker killed mid-job shows as gone; the job comes back when a worker returns."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker
from dgx_pixels.request import GenerationRequest
from dgx_pixels.tui.widgets.chrome import WorkerBar

from .conftest import MODEL, make_app, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # two worker processes of its own


def free_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


async def test_killed_worker_shows_gone_and_its_job_comes_back(tmp_path: Path) -> None:
    address, data = free_address(), tmp_path / "data"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def start() -> SpawnedWorker:
        return spawn_worker(
            model=MODEL, data_dir=data, bind=address, args=["--no-metrics"], env=env
        )

    first = start()
    app = make_app(address, tmp_path, data_dir=data)
    try:
        with Client(address) as client:
            job = client.submit(GenerationRequest("a slime", size=(16, 16), steps=12, model=MODEL))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(
                pilot,
                lambda: (v := app.jobs.get(job.id)) is not None and v.step > 0,
                what="the job running",
            )
            first.process.kill()
            first.process.wait()
            await wait_for(pilot, lambda: app.status.state == "gone", timeout=10, what="gone")
            bar = app.screen.query_one(WorkerBar)
            assert f"no worker answers at {address}" in str(bar.render())
            assert "1 job(s) wait in the queue for the next worker" in str(bar.render())

            second = start()
            try:
                await wait_for(
                    pilot,
                    lambda: app.jobs[job.id].state == "done",
                    timeout=240,
                    what=lambda: f"done: {app.jobs[job.id]} {app.status}",
                )
                assert app.jobs[job.id].attempts == 2
                assert app.status.pid == second.pid
            finally:
                second.process.kill()
                second.process.wait()
    finally:
        first.process.kill()
        first.process.wait()
