"""Monitor on a real worker: latency history from real jobs, "no GPU" said plainly, the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Log, Sparkline

from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.tui.monitor import GpuReading, read_gpus
from dgx_pixels.tui.screens.monitor import gpu_lines
from dgx_pixels.tui.settings import Settings
from dgx_pixels.tui.widgets.results import ResultTile

from .conftest import fill, make_app, wait_for

pytestmark = pytest.mark.anyio


def test_missing_nvml_values_are_not_zero() -> None:
    text = gpu_lines([GpuReading(0, "GB10", None, None, None, 41, None)])
    assert text == "GPU 0 GB10: busy n/a, memory n/a of n/a, 41 C, n/a"


async def test_monitor_shows_history_gpu_and_log(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    settings = Settings(size="16", count=1, steps=2)
    app = make_app(tiny_worker.address, tmp_path, data_dir=tiny_worker.data.root, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        fill(app, prompt="a monitored slime")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.screen.query(ResultTile)), what="a result")
        await pilot.press("f6")
        await wait_for(pilot, lambda: app.screen.settled, what="the first reading")
        assert app.screen.query_one("#mon-latency", Sparkline).data[-1] > 0
        gpu = str(app.screen.query_one("#mon-gpu").render())
        expected = read_gpus()
        if isinstance(expected, str):
            assert gpu.startswith("no GPU")
        else:
            assert gpu.startswith("GPU 0")
        log = app.screen.query_one(Log)
        assert any("dgx_pixels.jobs" in line for line in log.lines)
