"""Gallery on real outputs: filter, the full request, trash and undo, re-process locally."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.widgets import DataTable, Input, Select

from dgx_pixels.image_files import read_image
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.pixel.palette import resolve_palette
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL, make_app, wait_for

pytestmark = pytest.mark.anyio


async def test_gallery_filters_deletes_undoes_and_reprocesses(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    request = GenerationRequest("a gallery bat", size=(16, 16), count=2, steps=2, model=MODEL)
    with Client(tiny_worker.address) as client:
        done = client.run(request)
    sprites = [Path(o["sprite"]) for o in done.outputs]
    app = make_app(tiny_worker.address, tmp_path, data_dir=tiny_worker.data.root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        screen = app.screen
        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="the outputs listed")
        screen.query_one("#gal-filter", Input).value = "gallery bat"
        await wait_for(pilot, lambda: table.row_count == 2, what="two rows")
        text = str(screen.query_one("#gal-request-text").render())
        assert '"prompt": "a gallery bat"' in text
        first = screen.selected()
        assert first is not None
        assert first.sprite in sprites
        assert first.noise

        table.focus()
        await pilot.press("x")
        assert not first.sprite.exists()
        assert table.row_count == 1
        assert list((tiny_worker.data.root / "trash").rglob(first.sprite.name))
        await pilot.press("u")
        assert first.sprite.exists()
        assert first.sprite.with_suffix(".json").exists()
        await wait_for(pilot, lambda: table.row_count == 2, what="back")

        screen.query_one("#gal-palette", Select).value = "pico-8"
        table.focus()
        await pilot.press("p")
        again = first.sprite.with_name(first.sprite.stem + ".pico-8.png")
        await wait_for(pilot, again.exists, what="the re-processed sprite")
    pixels = np.asarray(read_image(again))
    opaque = pixels[..., 3] > 0
    pico = {
        tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))
        for c in resolve_palette("pico-8").hex_codes()
    }
    assert {tuple(int(v) for v in p[:3]) for p in pixels[opaque]} <= pico
