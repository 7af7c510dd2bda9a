"""Gallery on real outputs: thumbnails, filter and tags, the full request, trash and undo,
re-process locally, export into a game project, open the folder without a desktop."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.segment import Segment
from rich.style import Style
from textual.widgets import Input, Select

from dgx_pixels.image_files import read_image
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker
from dgx_pixels.pixel.palette import resolve_palette
from dgx_pixels.request import GenerationRequest
from dgx_pixels.tui.gallery import TagBook, parse_tags
from dgx_pixels.tui.pixels import halfblock_rows, thumbnail
from dgx_pixels.tui.widgets.export import ExportDialog
from dgx_pixels.tui.widgets.thumbs import ThumbGrid

from .conftest import MODEL, make_app, wait_for

pytestmark = pytest.mark.anyio


def cells(segments: Iterable[Segment]) -> list[tuple[str, Style | None]]:
    """One (character, style) per terminal cell."""
    return [(ch, s.style) for s in segments for ch in s.text]


def test_thumbnails_scale_by_whole_factors_nearest_only() -> None:
    rng = np.random.default_rng(0)
    sprite = Image.fromarray(rng.integers(0, 256, (32, 48, 4), dtype=np.uint8), "RGBA")
    small = np.asarray(thumbnail(sprite, (16, 16)))  # 48x32 -> every 3rd pixel: 16x11
    assert small.shape == (11, 16, 4)
    assert (small == np.asarray(sprite)[1::3, 1::3]).all()
    big = np.asarray(thumbnail(sprite.crop((0, 0, 8, 8)), (16, 16)))  # 8x8 -> 2x: 16x16
    assert (big == np.asarray(sprite)[:8, :8].repeat(2, 0).repeat(2, 1)).all()


def test_tags_are_checked_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    book = TagBook(tmp_path)
    sprite = tmp_path / "outputs" / "a.png"
    assert book.set(sprite, "Hero, v2 hero") == ("hero", "v2")
    assert json.loads((tmp_path / "tags.json").read_text()) == {"outputs/a.png": ["hero", "v2"]}
    assert book.load() == {"outputs/a.png": ("hero", "v2")}
    with pytest.raises(Exception, match="at most 16 tags"):
        parse_tags(" ".join(f"t{i}" for i in range(17)))
    book.set(sprite, "")
    assert book.load() == {}


async def test_gallery_grid_filters_tags_deletes_undoes_and_reprocesses(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    request = GenerationRequest("a gallery bat", size=(16, 16), count=2, steps=2, model=MODEL)
    with Client(tiny_worker.address) as client:
        done = client.run(request)
    sprites = [Path(o["sprite"]) for o in done.outputs]
    root = tiny_worker.data.root
    app = make_app(tiny_worker.address, tmp_path, data_dir=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        screen = app.screen
        grid = screen.query_one(ThumbGrid)
        await wait_for(pilot, lambda: grid.count > 0, what="the outputs listed")
        screen.query_one("#gal-filter", Input).value = "gallery bat"
        await wait_for(pilot, lambda: grid.count == 2, what="two thumbnails")
        await pilot.press("enter")  # back to the grid
        assert app.focused is grid
        text = str(screen.query_one("#gal-request-text").render())
        assert '"prompt": "a gallery bat"' in text
        first = screen.selected()
        assert first is not None
        assert first.sprite in sprites
        assert first.noise
        # The first thumbnail is the sprite's own pixels, 2x in the 32x32 box of a tall
        # terminal, cell by cell; its caption below says NOISE.
        assert grid.box == (32, 32)
        expected = halfblock_rows(thumbnail(read_image(first.sprite, mode="RGBA"), grid.box))
        for y, row in enumerate(expected):
            assert cells(grid.render_line(y))[:32] == cells(row)
        assert "NOISE" in "".join(s.text for s in grid.render_line(16))
        await pilot.press("right")
        second = screen.selected()
        assert second is not None
        assert second.sprite != first.sprite
        await pilot.press("left")
        assert screen.selected() == first
        row, column = divmod(1, grid.columns)  # where the second thumbnail is drawn
        at = (column * (grid.box[0] + 1) + 2, row * (grid.box[1] // 2 + 1) + 1)
        await pilot.click("#gal-grid", offset=at)
        assert screen.selected() == second
        await pilot.press("home")
        assert screen.selected() == first

        await pilot.press("t", *"hero", "enter")  # tags, saved in the data dir
        assert TagBook(root).load()[TagBook(root).key(first.sprite)] == ("hero",)
        screen.query_one("#gal-filter", Input).value = "tag:hero"
        await wait_for(pilot, lambda: grid.count == 1, what="the tagged one")
        assert screen.selected().sprite == first.sprite  # type: ignore[union-attr]
        screen.query_one("#gal-filter", Input).value = "gallery bat"
        await wait_for(pilot, lambda: grid.count == 2, what="both again")
        grid.focus()
        grid.cursor = [i.sprite for i in screen._shown].index(first.sprite)

        await pilot.press("x")
        assert not first.sprite.exists()
        assert grid.count == 1
        assert list((root / "trash").rglob(first.sprite.name))
        await pilot.press("u")
        assert first.sprite.exists()
        assert first.sprite.with_suffix(".json").exists()
        await wait_for(pilot, lambda: grid.count == 2, what="back")

        grid.cursor = [i.sprite for i in screen._shown].index(first.sprite)
        screen.query_one("#gal-palette", Select).value = "pico-8"
        grid.focus()
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


async def test_gallery_exports_into_a_project_and_names_the_folder_without_a_desktop(
    tiny_worker: SpawnedWorker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    request = GenerationRequest("an exported gem", size=(16, 16), count=1, steps=2, model=MODEL)
    with Client(tiny_worker.address) as client:
        done = client.run(request)
    sprite = Path(done.outputs[0]["sprite"])
    project = tmp_path / "game"
    project.mkdir()
    app = make_app(tiny_worker.address, tmp_path, data_dir=tiny_worker.data.root)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        screen = app.screen
        screen.query_one("#gal-filter", Input).value = "an exported gem"
        grid = screen.query_one(ThumbGrid)
        await wait_for(pilot, lambda: grid.count == 1, what="the gem")
        grid.focus()
        await pilot.press("o")
        message = str(screen.query_one("#gal-message").render())
        assert message == f"no desktop here to open it; the folder is {sprite.parent}"

        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#export-target", Select).value = "godot"
        dialog.query_one("#export-project", Input).value = str(project)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: dialog.result is not None,
            timeout=20,
            what=lambda: str(dialog.query_one("#export-result").render()),
        )
        written = [w.path for w in dialog.result.files]  # type: ignore[union-attr]
        report = str(dialog.query_one("#export-result").render())
        await pilot.press("escape")
        assert app.screen is screen
        assert app.last_export == ("godot", str(project))
    assert all(project in p.parents for p in written)
    tres = [p for p in written if p.suffix == ".tres"]
    assert tres
    assert tres[0].read_text().startswith("[gd_resource")
    assert str(project) in report


async def test_gallery_a_animates_the_selected_sprite_in_generates_strip(
    tiny_worker: SpawnedWorker, tmp_path: Path
) -> None:
    """``a`` in Gallery opens Generate's list; the walk is drawn on the worker and plays in
    Generate's strip, with the Gallery sprite as the character."""
    from textual.widgets import OptionList

    from dgx_pixels.assets import read_manifest
    from dgx_pixels.tui.screens.generate import GenerateScreen
    from dgx_pixels.tui.widgets.animation import AnimatePicker, AnimationTile

    request = GenerationRequest("a gallery ghost", size=(16, 16), count=1, steps=2, model=MODEL)
    with Client(tiny_worker.address) as client:
        done = client.run(request)
    sprite = Path(done.outputs[0]["sprite"])
    app = make_app(tiny_worker.address, tmp_path, data_dir=tiny_worker.data.root)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.status.serving, what="the worker")
        app.screen.query_one("#steps", Input).value = "2"  # Generate's steps make the frames
        await pilot.press("f2")
        screen = app.screen
        screen.query_one("#gal-filter", Input).value = "a gallery ghost"
        grid = screen.query_one(ThumbGrid)
        await wait_for(pilot, lambda: grid.count == 1, what="the ghost")
        grid.focus()
        await pilot.press("a")
        picker = app.screen
        assert isinstance(picker, AnimatePicker)
        picker.query_one("#anim-frames", Input).value = "2"
        options = picker.query_one(OptionList)
        options.highlighted = [o.id for o in options.options].index("walk")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, GenerateScreen), what="Generate")
        generate = app.screen
        await wait_for(pilot, lambda: bool(generate.query(AnimationTile)), what="the animation")
        animation = generate.query(AnimationTile).first()
        manifest = read_manifest(animation.folder)
        assert len(animation.frames) == len(manifest.frames) == 2
        assert manifest.request["from"] == sprite.name
