"""How every screen looks, at 80x24 and 160x48 (half blocks pinned, no cursor blink).

The app points at a loopback port where no worker listens, so the worker bar
shows the same "no worker answers" state every run. Update with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from dgx_pixels.tui import keys

from .conftest import NOBODY, make_app, wait_for

SIZES = [(80, 24), (160, 48)]
MODES = [entry.mode for entry in keys.SCREENS]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("mode", MODES)
def test_screen(
    mode: str,
    size: tuple[int, int],
    snap_compare: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dgx_pixels.engine._builtin import _engine

    monkeypatch.setenv("HF_HUB_CACHE", "/nonexistent/hf-cache")  # Models: the same empty cache
    # Models: the built-in model untrained, as in any install that has not trained it
    monkeypatch.delenv(_engine.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(_engine, "shipped_weights", lambda: Path("/nonexistent/weights"))
    # a fixed settings path (shown on Settings; never written: nothing is saved here)
    fixed = Path("/nonexistent/dgx-pixels-snapshots/tui.toml")
    app = make_app(NOBODY, tmp_path, data_dir=tmp_path / "data", settings_path=fixed)

    async def show(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.status.state == "gone", timeout=10, what="gone")
        app.show_screen(mode)
        await pilot.pause()
        await wait_for(pilot, lambda: getattr(app.screen, "settled", True), timeout=10)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=show)


SPRITES = ["alligator", "dcss-agnes", "dcss-wolf", "bardiche", "potion", "dcss-long-sword"]


def real_outputs(data: Path) -> None:
    """Six real CC0 sprites (tests/data) laid out as outputs with sidecars, oldest first."""
    import json
    import os

    folder = data / "outputs" / "2026-01-02"
    folder.mkdir(parents=True)
    here = Path(__file__).parent.parent / "data"
    for i, name in enumerate(SPRITES):
        sprite = folder / f"{name}-{i}.png"
        sprite.write_bytes((here / f"{name}.png").read_bytes())
        model = "random:sdxl-tiny" if name == "dcss-wolf" else "pixel-art-xl"
        request = {"prompt": name.removeprefix("dcss-").replace("-", " "), "seed": i}
        meta = {"request": {**request, "model": model}, "model": {"id": model}}
        sprite.with_suffix(".json").write_text(
            json.dumps({**meta, "created": f"2026-01-02T10:0{i}:00"})
        )
        os.utime(sprite, (1_767_000_000 + i, 1_767_000_000 + i))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_gallery_with_sprites(size: tuple[int, int], snap_compare: Any, tmp_path: Path) -> None:
    """The thumbnail grid on real sprites, the second selected (noise marked on the wolf)."""
    real_outputs(tmp_path / "data")
    fixed = Path("/nonexistent/dgx-pixels-snapshots/tui.toml")
    app = make_app(NOBODY, tmp_path, data_dir=tmp_path / "data", settings_path=fixed)

    async def show(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.status.state == "gone", timeout=10, what="gone")
        app.show_screen("gallery")
        await pilot.pause()
        await wait_for(pilot, lambda: getattr(app.screen, "settled", True), timeout=10)
        await pilot.press("right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=show)
