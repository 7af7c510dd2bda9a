"""Compare on a real worker: same prompt and seeds, two models on one worker, votes in
SQLite, the report files."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest
from scipy.stats import binomtest
from textual.widgets import Input

from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.tui.outputs import Output
from dgx_pixels.tui.screens.compare import report_paths
from dgx_pixels.tui.settings import Settings
from dgx_pixels.tui.widgets.sprite import SpriteView

from .conftest import MODEL, make_app, wait_for

OTHER = "random:sdxl-tiny-b"  # the same shapes as MODEL, other weights

pytestmark = pytest.mark.anyio


async def test_vote_in_compare_and_read_the_report(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings(size="16", steps=2, count=1)
    app = make_app(tiny_worker.address, tmp_path, data_dir=data, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        await pilot.press("f3")
        screen = app.screen
        screen.query_one("#cmp-prompt", Input).value = "a slime"
        screen.query_one("#cmp-seed", Input).value = "21"
        screen.query_one("#cmp-variant-1", Input).value = "steps=3 guidance=2"
        screen.query_one("#cmp-variant-2", Input).value = f"model={OTHER}"
        screen.query_one("#cmp-prompt", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        header = " ".join(str(s.render()) for s in screen.query(".cmp-cell").results())
        assert f"C: model={OTHER}" in header

        def drawn() -> bool:
            cells = [c for c in screen.query(SpriteView) if (c.id or "").startswith("cmp-cell")]
            return len(cells) == 6 and all(c.image is not None for c in cells)

        await wait_for(pilot, drawn, what="the three variants drawn")
        columns = {column: app.jobs[job] for job, column in screen._jobs.items()}
        await pilot.press("a", "t", "e")  # row 1: A wins; row 2: a tie; export
        await pilot.pause()

    # One worker drew both models; each column's sprites come from its own model.
    assert (columns[0].model, columns[1].model, columns[2].model) == (MODEL, MODEL, OTHER)
    for column, view in columns.items():
        for paths in view.outputs:
            assert Output.from_paths(paths).meta()["model"]["id"] == view.model, column
    # A and C differ only in the model: same seeds, other weights, other sprites.
    a_first, c_first = (Output.from_paths(columns[i].outputs[0]).image() for i in (0, 2))
    assert a_first.size == c_first.size
    assert a_first.tobytes() != c_first.tobytes()
    with Client(tiny_worker.address) as client:
        assert {MODEL, OTHER} <= set(client.models().models)

    with sqlite3.connect(data / "compare.sqlite3") as db:
        assert sorted(db.execute("SELECT row, winner FROM votes").fetchall()) == [(0, 0), (1, -1)]
        [(seeds,)] = db.execute("SELECT seeds FROM comparisons").fetchall()
    assert json.loads(seeds) == [21, 22]
    csv_path, json_path = report_paths(data)
    with csv_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    overall = {r["variant"]: r for r in rows if r["prompt"] == "*"}
    assert set(overall) == {"A: (defaults)", "B: steps=3 guidance=2", f"C: model={OTHER}"}
    a = overall["A: (defaults)"]
    assert (a["rows"], a["wins"], a["ties"]) == ("2", "1", "1")
    ci = binomtest(1, 2).proportion_ci(method="wilson")
    assert float(a["low"]) == pytest.approx(ci.low)
    assert float(a["high"]) == pytest.approx(ci.high)
    document = json.loads(json_path.read_text())
    assert document["interval"] == "wilson"
    assert len(document["rates"]) == len(rows)
