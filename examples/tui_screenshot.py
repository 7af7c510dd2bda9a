"""Render the README's TUI screenshot from a real run: a worker, a prompt, its sprites.

Run: ``python examples/tui_screenshot.py`` (writes ``docs/images/tui-generate.svg``
and ``docs/images/tui-gallery.svg``). It starts a worker on ``random:sdxl-tiny``
(the model every machine has, no download), types a prompt into Generate and
saves the screen once the sprites are done, then a second prompt, and saves
the Gallery's thumbnail grid of all four. The sprites are random-weight noise,
and the screens say so.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from textual.widgets import Input

from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import spawn_worker
from dgx_pixels.tui import DgxPixelsApp, Settings, TuiOptions, WorkerLink
from dgx_pixels.tui.widgets.results import ResultTile
from dgx_pixels.tui.widgets.thumbs import ThumbGrid

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "tui-generate.svg"
GALLERY = OUT.with_name("tui-gallery.svg")


async def shoot(address: str, data: Path) -> None:
    settings = Settings(size="24", count=2, steps=12, palette="endesga-32")
    app = DgxPixelsApp(
        TuiOptions(
            link=WorkerLink(address, data_dir=data, may_spawn=False),
            settings=settings,
            renderer="halfblock",
            data_dir=data,
            blink=False,
        )
    )
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.status.serving:
            await pilot.pause(0.1)
        await pilot.press(*"a green slime, front view", "enter")
        while len(app.screen.query("ResultTile HalfBlockPicture")) < settings.count:
            await pilot.pause(0.2)
        await pilot.pause(0.5)
        app.screen.query(ResultTile).first().focus()
        await pilot.pause(0.2)
        app.save_screenshot(str(OUT.name), path=str(OUT.parent))
        app.screen.query_one("#prompt").focus()
        app.screen.query_one("#prompt", Input).value = ""
        await pilot.press(*"a red mushroom, side view", "enter")
        while len(app.screen.query("ResultTile HalfBlockPicture")) < 2 * settings.count:
            await pilot.pause(0.2)
        await pilot.press("f2")
        grid = app.screen.query_one(ThumbGrid)
        while grid.count < 2 * settings.count:
            await pilot.pause(0.2)
        await pilot.press("right")
        await pilot.pause(0.3)
        app.save_screenshot(str(GALLERY.name), path=str(GALLERY.parent))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        worker = spawn_worker(
            model="random:sdxl-tiny",
            data_dir=data,
            bind="tcp://127.0.0.1:*",
            args=["--no-metrics"],
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        try:
            with Client(worker.address, timeout=60) as client:
                while client.ping().state != "ready":
                    time.sleep(0.1)
            asyncio.run(shoot(worker.address, data))
        finally:
            worker.stop(timeout=10)
    print(OUT)
    print(GALLERY)


if __name__ == "__main__":
    main()
