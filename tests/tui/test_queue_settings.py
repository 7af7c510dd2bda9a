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


async def test_reprioritise_a_queued_job_from_the_queue(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    long = GenerationRequest("a long bat", size=(16, 16), steps=200, model=MODEL, seed=4)
    with Client(tiny_worker.address) as client:
        running = client.submit(long)
        waiting = client.submit(long.replace(prompt="a waiting bat", size=(24, 16)))
    app = make_app(tiny_worker.address, tmp_path)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(
                pilot,
                lambda: (v := app.jobs.get(running.id)) is not None and v.state == "running",
                what="the first job running",
            )
            await wait_for(pilot, lambda: waiting.id in app.jobs, what="the queued job listed")
            await pilot.press("f5")
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(str(waiting.id)))
            await pilot.press("plus")
            await wait_for(pilot, lambda: app.jobs[waiting.id].priority == 1, what="raised")
            await pilot.press("plus", "plus")
            await wait_for(pilot, lambda: app.jobs[waiting.id].priority == 3, what="raised twice")
            await pilot.press("minus")
            await wait_for(pilot, lambda: app.jobs[waiting.id].priority == 2, what="lowered")
            await wait_for(pilot, lambda: table.get_row(str(waiting.id))[5] == "2", what="shown")
            message = str(app.screen.query_one("#queue-message").render())
            assert message == f"job #{waiting.id} is now at priority 2"
            table.move_cursor(row=table.get_row_index(str(running.id)))
            await pilot.press("plus")
            message = str(app.screen.query_one("#queue-message").render())
            assert (
                message == f"job #{running.id} is running: only a queued job can be reprioritised"
            )
        with Client(tiny_worker.address) as client:
            assert (
                client.status(waiting.id).priority == 2
            )  # the worker's queue, not only the screen
    finally:
        with Client(tiny_worker.address) as client:
            client.cancel(waiting.id)
            client.cancel(running.id)


def test_a_job_waiting_for_its_model_shows_as_loading() -> None:
    from dgx_pixels.jobs import protocol as p
    from dgx_pixels.tui.jobbook import JobView, apply_event
    from dgx_pixels.tui.screens.queue import job_row

    view = JobView(5, "queued", "a bat", "random:sdxl-tiny-b", {})
    view = apply_event(view, p.Loading(job=5, model="random:sdxl-tiny-b"))
    assert job_row(view, 0.0)[1:3] == ("loading", "loading random:sdxl-tiny-b")
    view = apply_event(view, p.Loaded(job=5, model="random:sdxl-tiny-b", seconds=2.5))
    view = apply_event(view, p.Started(job=5, attempt=1, batch=[5]))
    assert (job_row(view, 0.0)[1], view.load_s) == ("running", 2.5)


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
