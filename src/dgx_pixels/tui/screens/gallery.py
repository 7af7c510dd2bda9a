"""Gallery: every output in the data dir, filtered; the selected one at true pixels, its request.

Keys: ``x`` moves the output's files to the trash (``u`` puts them back),
``p`` re-processes it locally with the chosen palette, ``o`` opens its folder
(with the desktop's opener when there is one; over SSH the folder is shown).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Select, Static

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.tui.gallery import GalleryItem, Trash, matches, scan
from dgx_pixels.tui.outputs import Output, reprocess
from dgx_pixels.tui.screens._base import PixelsScreen
from dgx_pixels.tui.widgets.sprite import SpriteView

__all__ = ["GalleryScreen"]


class GalleryScreen(PixelsScreen):
    """Outputs: a filter, the list, the selected sprite and its full request."""

    MODE = "gallery"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,delete", "delete", "Delete (to trash)", id="gallery.delete"),
        Binding("u", "undo", "Undo delete", id="gallery.undo"),
        Binding("p", "reprocess", "Re-process: palette", id="gallery.reprocess"),
        Binding("o", "open_folder", "Open folder", id="gallery.open"),
        Binding("ctrl+r", "rescan", "Rescan", id="gallery.rescan"),
    ]
    DEFAULT_CSS = """
    GalleryScreen #gal-top { height: 1; padding: 0 1; }
    GalleryScreen #gal-filter { width: 1fr; }
    GalleryScreen #gal-palette { width: 24; }
    GalleryScreen #gal-body { height: 1fr; }
    GalleryScreen #gal-list { width: 1fr; height: 1fr; }
    GalleryScreen #gal-side { width: 1fr; height: 1fr; }
    GalleryScreen #gal-request { height: 1fr; }
    GalleryScreen #gal-message { height: 1; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: list[GalleryItem] = []
        self._shown: list[GalleryItem] = []
        self._trash: Trash | None = None
        #: The first scan has been shown (snapshots wait for it).
        self.settled = False

    def compose_body(self) -> ComposeResult:
        from dgx_pixels.pixel.palette import builtin_names

        with Horizontal(id="gal-top"):
            yield Input(
                id="gal-filter", placeholder="filter: words, model:ID, date:2026-12", compact=True
            )
            yield Select(
                [(n, n) for n in builtin_names()],
                id="gal-palette",
                prompt="palette for p",
                compact=True,
            )
        with Horizontal(id="gal-body"):
            yield DataTable(id="gal-list", cursor_type="row")
            with Vertical(id="gal-side"):
                yield SpriteView(None, renderer=self.studio.renderer, id="gal-sprite")
                with VerticalScroll(id="gal-request"):
                    yield Static("", id="gal-request-text")
        yield Static("", id="gal-message")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        table.add_columns("created", "model", "prompt")
        self.action_rescan()

    def on_screen_resume(self) -> None:
        self.action_rescan()

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            ("Gallery: rescan outputs", self.action_rescan, "read the data dir again"),
            ("Gallery: undo the last delete", self.action_undo, "u"),
        ]

    @property
    def root(self) -> Path:
        from dgx_pixels.paths import DataDir

        return DataDir.resolve(self.studio.options.data_dir).root

    def say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#gal-message", Static).update(
            Text(text, style="bold red" if error else "", no_wrap=True, overflow="ellipsis")
        )

    # ------------------------------------------------------------------- list

    def action_rescan(self) -> None:
        self._scan(self.root / "outputs")

    @work(thread=True, exclusive=True, group="gallery-scan")
    def _scan(self, outputs: Path) -> None:
        items = scan(outputs)
        self.app.call_from_thread(self._show_items, items)

    def _show_items(self, items: list[GalleryItem]) -> None:
        self._items = items
        self._filter()
        self.settled = True

    @on(Input.Changed, "#gal-filter")
    def _filter_changed(self) -> None:
        self._filter()

    @on(Input.Submitted, "#gal-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    def _filter(self) -> None:
        query = self.query_one("#gal-filter", Input).value
        self._shown = [item for item in self._items if matches(item, query)]
        table = self.query_one(DataTable)
        table.clear()
        for index, item in enumerate(self._shown):
            model = ("NOISE " if item.noise else "") + item.model
            table.add_row(item.created[:16].replace("T", " "), model, item.prompt, key=str(index))
        self.say(f"{len(self._shown)} of {len(self._items)} outputs")
        self._select(0 if self._shown else None)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._select(event.cursor_row)

    def selected(self) -> GalleryItem | None:
        """The output under the cursor."""
        table = self.query_one(DataTable)
        row = table.cursor_row
        return self._shown[row] if 0 <= row < len(self._shown) else None

    def _select(self, row: int | None) -> None:
        sprite = self.query_one("#gal-sprite", SpriteView)
        text = self.query_one("#gal-request-text", Static)
        if row is None or not 0 <= row < len(self._shown):
            sprite.show(None, caption="no outputs here yet" if not self._items else "")
            text.update("")
            return
        item = self._shown[row]
        try:
            image = Output.from_sprite(item.sprite).image()
            caption = f"{image.width}x{image.height} {item.sprite.name}"
        except DgxPixelsError as exc:
            image, caption = None, exc.message
        sprite.show(image, caption=caption, noise=item.noise)
        text.update(Text(json.dumps(item.request, indent=1, sort_keys=True)))

    # ---------------------------------------------------------------- actions

    def action_delete(self) -> None:
        item = self.selected()
        if item is None:
            return
        if self._trash is None:
            self._trash = Trash(self.root)
        try:
            folder = self._trash.delete(item.files())
        except OSError as exc:
            self.say(f"not deleted: {exc}", error=True)
            return
        self._items = [i for i in self._items if i.sprite != item.sprite]
        self._filter()
        self.say(f"moved to {folder} (u undoes)")

    def action_undo(self) -> None:
        if self._trash is None or not self._trash.can_undo:
            self.say("nothing to undo")
            return
        try:
            restored = self._trash.undo()
        except (DgxPixelsError, OSError) as exc:
            self.say(str(exc), error=True)
            return
        self.say(f"restored {restored[0].name}")
        self.action_rescan()

    def action_reprocess(self) -> None:
        item = self.selected()
        palette = self.query_one("#gal-palette", Select).value
        if item is None:
            return
        if not isinstance(palette, str):
            self.say("choose a palette (top right) first, then press p", error=True)
            return
        self._reprocess(Output.from_sprite(item.sprite), palette)

    @work(thread=True, group="gallery-reprocess")
    def _reprocess(self, output: Output, palette: str) -> None:
        try:
            path = reprocess(output, palette)
        except DgxPixelsError as exc:
            self.app.call_from_thread(self.say, exc.message, error=True)
            return
        self.app.call_from_thread(self.say, f"re-processed with {palette}: {path.name}")
        self.app.call_from_thread(self.action_rescan)

    def action_open_folder(self) -> None:
        item = self.selected()
        if item is None:
            return
        folder = item.sprite.parent
        opener = shutil.which("xdg-open") or shutil.which("open")
        if opener is None:
            self.say(f"no desktop opener here; the folder is {folder}")
            return
        subprocess.Popen(
            [opener, str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.say(f"opened {folder}")
