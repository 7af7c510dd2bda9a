"""Queue and Settings against a real worker and real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.request import GenerationRequest
from dgx_pixels.tui.settings import load_settings

from .conftest import MODEL, NOBODY, make_app, wait_for

pytestmark = pytest.mark.anyio


async def test_cancel_a_running_job_from_the_queue(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    long = GenerationRequest("a long slime", size=(16, 16), steps=200, model=MODEL, seed=3)
    with Client(tiny_worker.address) as client:
        job = client.submit(long)
    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(
            pilot,
            lambda: (v := app.jobs.get(job.id)) is not None and v.state == "running" and v.step > 0,
            what="the job running",
        )
        await pilot.press("f5")
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(job.id)))
        await pilot.press("c")
        await wait_for(pilot, lambda: app.jobs[job.id].state == "cancelled", what="cancelled")
        assert table.get_row(str(job.id))[1] == "cancelled"
        # retry queues the same request again, as a new job
        await pilot.press("r")
        await wait_for(pilot, lambda: max(app.jobs) > job.id, what="the retry")
        retried = app.jobs[max(app.jobs)]
        assert retried.request["prompt"] == "a long slime"
        assert retried.request["seed"] == 3
        with Client(tiny_worker.address) as client:
            client.cancel(retried.id)


async def test_settings_survive_a_restart_and_bad_values_are_named(tmp_path: Path) -> None:
    app = make_app(NOBODY, tmp_path)
    path = app.options.settings_path
    assert path is not None
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f7")
        steps = app.screen.query_one("#set-steps", Input)
        steps.value = "999"
        await pilot.press("ctrl+s")
        message = str(app.screen.query_one("#settings-message").render())
        assert "steps must be between 1 and 200, got 999" in message
        assert not path.exists()  # nothing bad is saved
        steps.value = "9"
        app.screen.query_one("#set-palette", Input).value = "pico-8"
        await pilot.press("ctrl+s")
        assert "saved to" in str(app.screen.query_one("#settings-message").render())
    assert load_settings(path).steps == 9

    again = make_app(NOBODY, tmp_path, settings=load_settings(path))
    async with again.run_test(size=(80, 24)):
        assert again.screen.query_one("#steps", Input).value == "9"
        assert again.screen.query_one("#palette").value == "pico-8"  # type: ignore[attr-defined]
