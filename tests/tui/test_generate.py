"""Generate against a real worker: Enter submits, progress shows, then the sprite."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from dgx_pixels.image_files import read_image
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.tui import DgxPixelsApp
from dgx_pixels.tui.widgets.results import ResultTile
from dgx_pixels.tui.widgets.sprite import HalfBlockPicture

from .conftest import FAST, MODEL, fill, make_app, wait_for

pytestmark = pytest.mark.anyio


async def draw(app: DgxPixelsApp, pilot: Pilot[None], prompt: str, **fields: str) -> None:
    """Fill the form (the fast settings and ``fields``), type ``prompt``, Enter, and wait
    until the worker's sprite shows in the strip."""
    fill(app, **(FAST | fields))
    await pilot.press(*prompt, "enter")
    await wait_for(
        pilot, lambda: bool(app.screen.query("ResultTile HalfBlockPicture")), what="a result"
    )


async def test_enter_submits_then_progress_then_the_sprite(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.state == "ready", what="ready")
        assert app.focused is not None
        assert app.focused.id == "prompt"
        await draw(app, pilot, "a slime")
        tile = app.screen.query(ResultTile).first()
        progress = [e for _, e in app.events if isinstance(e, p.Progress)]
        assert [e.step for e in progress] == [1, 2, 3]
        # The tile shows the sprite the worker wrote, pixel for pixel (16x16 -> 16x8 cells).
        sprite = read_image(tile.output.sprite)
        assert sprite.size == (16, 16)
        await pilot.pause()
        picture = tile.query_one(HalfBlockPicture)
        assert (picture.size.width, picture.size.height) == (16, 8)
        assert str(tile.query_one(".caption").render()).startswith("NOISE #")


async def test_a_result_rerolls_varies_starts_img2img_and_reprocesses(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    from textual.widgets import Select

    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        await draw(app, pilot, "an acting slime")
        tile = app.screen.query(ResultTile).first()
        source = tile.output
        known = set(app.jobs)

        def new_job() -> dict:
            fresh = set(app.jobs) - known
            if not fresh:
                return {}
            known.update(fresh)
            with Client(tiny_worker.address) as client:  # keep the shared worker free
                client.cancel(max(fresh))
            return app.jobs[max(fresh)].request

        tile.focus()
        await pilot.press("r")  # its seed, locked, with the form as it is
        await wait_for(pilot, lambda: bool(new_job()), what="r")
        rerolled = app.jobs[max(known)].request
        assert rerolled["seed"] == source.request().seed
        tile.focus()
        await pilot.press("v")  # the same request, new seeds
        await wait_for(pilot, lambda: bool(new_job()), what="v")
        varied = app.jobs[max(known)].request
        assert varied["prompt"] == "an acting slime"
        assert varied["seed"] != source.request().seed
        tile.focus()
        await pilot.press("i")  # img2img from it
        await wait_for(
            pilot,
            lambda: bool(new_job()),
            what=lambda: str(app.screen.query_one("#gen-message").render()),
        )
        # The init travels as bytes; the worker keeps its copy under <data>/inputs.
        init = Path(app.jobs[max(known)].request["init"])
        assert init.read_bytes() == source.sprite.read_bytes()

        app.screen.query_one("#palette", Select).value = "pico-8"
        tile.focus()
        await pilot.press("p")  # re-processed locally, written beside it
        again = source.sprite.with_name(source.sprite.stem + ".pico-8.png")
        await wait_for(pilot, again.exists, what="the re-processed sprite")
        with Client(tiny_worker.address) as client:
            for job_id in set(app.jobs):
                if not app.jobs[job_id].terminal:
                    client.cancel(job_id)


async def test_a_result_animates_with_an_effect_and_both_export_into_a_project(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    import json

    from textual.widgets import Input, OptionList, Select

    from dgx_pixels.tui.widgets.animation import AnimatePicker, AnimationTile
    from dgx_pixels.tui.widgets.export import ExportDialog

    project = tmp_path / "game"
    project.mkdir()
    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        await draw(app, pilot, "a bobbing slime")
        screen = app.screen
        tile = screen.query(ResultTile).first()
        tile.focus()
        await pilot.press("a")
        assert isinstance(app.screen, AnimatePicker)
        picker = app.screen.query_one(OptionList)
        picker.highlighted = [o.id for o in picker.options].index("blink")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(screen.query(AnimationTile)), what="the animation")
        animation = screen.query(AnimationTile).first()
        manifest = json.loads((animation.folder / "manifest.json").read_text())
        assert manifest["kind"] == "animation"
        assert len(animation.frames) == 4
        assert animation.folder.parent == tile.output.sprite.parent
        first = animation.frame  # it plays: the frame moves on by itself
        await wait_for(pilot, lambda: animation.frame != first, timeout=5, what="the next frame")
        # e on the animation: its asset folder, into a Bevy project
        animation.focus()
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.assets == [animation.folder]
        dialog.query_one("#export-target", Select).value = "bevy"
        dialog.query_one("#export-project", Input).value = str(project)
        await pilot.press("enter")
        await wait_for(pilot, lambda: dialog.result is not None, timeout=20, what="the export")
        assert dialog.result is not None
        written = [w.path for w in dialog.result.files]
        assert any(p.name.endswith(".assets.ron") for p in written)
        await pilot.press("escape")
        # e on the sprite: the same dialog, remembering the target and the folder
        tile.focus()
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.assets == [tile.output.sprite]
        assert dialog.query_one("#export-project", Input).value == str(project)
        await pilot.press("escape")
    assert all(project in p.parents for p in written)


async def test_the_model_field_asks_the_one_worker_for_another_model(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    """Empty, the field means the worker's model; an id makes the worker load that one."""
    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        screen = app.screen
        assert screen.model_for_request() == MODEL  # type: ignore[attr-defined]
        await draw(app, pilot, "a bat", model="random:sdxl-tiny-b")
        done = next(e for _, e in app.events if isinstance(e, p.Done))
        with Client(tiny_worker.address) as client:
            assert client.status(done.job).model == "random:sdxl-tiny-b"


async def test_a_result_animates_with_a_walk_the_worker_draws_frame_by_frame(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    """``a``, walk: an animate job with the sprite as the character, its progress counted
    in frames, then its asset playing in the strip."""
    from textual.widgets import Input, OptionList, Static

    from dgx_pixels.assets import read_manifest
    from dgx_pixels.tui.widgets.animation import AnimatePicker, AnimationTile

    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        await draw(app, pilot, "a walking knight")
        screen = app.screen
        fill(app, steps="2")
        tile = screen.query(ResultTile).first()
        tile.focus()
        await pilot.press("a")
        picker = app.screen
        assert isinstance(picker, AnimatePicker)
        picker.query_one("#anim-frames", Input).value = "2"
        options = picker.query_one(OptionList)
        options.highlighted = [o.id for o in options.options].index("walk")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(screen.query(AnimationTile)), what="the animation")
        animation = screen.query(AnimationTile).first()
        manifest = read_manifest(animation.folder)
        assert manifest.kind == "animation"
        assert len(animation.frames) == len(manifest.frames) == 2
        assert animation.frames[0].size == (16, 16)
        assert manifest.request["action"] == "walk"
        assert manifest.request["from"] == tile.output.sprite.name
        # The shared worker may hold other tests' animate jobs: ours is the newest.
        job_id = max(j for j, v in app.jobs.items() if v.task == "animate")
        progress = [e for _, e in app.events if isinstance(e, p.Progress) and e.job == job_id]
        assert [(e.step, e.total) for e in progress] == [(1, 2), (2, 2)]
        assert all(e.preview for e in progress)
        assert app.jobs[job_id].unit == "frame"
        message = str(screen.query_one("#gen-message", Static).render())
        assert "walk: 2 frames" in message


async def test_a_bad_frame_count_is_refused_in_one_line_before_anything_is_sent(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    from textual.widgets import Input, OptionList, Static

    from dgx_pixels.tui.widgets.animation import AnimatePicker

    app = make_app(tiny_worker.address, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        await draw(app, pilot, "a running knight")
        screen = app.screen
        jobs_before = set(app.jobs)
        screen.query(ResultTile).first().focus()
        for typed, said in (("20", "--frames must be 2-16, got 20"),
                            ("two", "--frames must be 2-16, got 'two'")):  # fmt: skip
            await pilot.press("a")
            picker = app.screen
            assert isinstance(picker, AnimatePicker)
            picker.query_one("#anim-frames", Input).value = typed
            options = picker.query_one(OptionList)
            options.highlighted = [o.id for o in options.options].index("run")
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen
            message = str(screen.query_one("#gen-message", Static).render())
            assert message == said
        await pilot.pause(0.3)
        assert set(app.jobs) == jobs_before  # nothing was sent
