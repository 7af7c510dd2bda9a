"""Gallery: every output in the data dir as true-pixel thumbnails; the selected one, its request.

The grid has the arrow keys (``/`` jumps to the filter, Enter there back to
the grid). Filter words: prompt words, ``model:ID``, ``date:2026-12``,
``tag:NAME``. Keys on the selected output: ``t`` edits its tags (Enter
saves them in ``<data dir>/tags.json``), ``x`` moves its files to the trash
(``u`` puts them back), ``p`` re-processes it locally with the chosen
palette, ``e`` exports it into a game project (the shared export dialog),
``o`` opens its folder with the desktop's opener where there is a desktop,
and otherwise names the folder; ``a`` animates it (the list Generate's ``a``
opens: an action the worker draws, or an effect), in Generate's strip, which
the app switches to.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from PIL import Image
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Select, Static

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.tui.gallery import GalleryItem, TagBook, Trash, matches, scan
from dgx_pixels.tui.messages import AnimateRequested
from dgx_pixels.tui.outputs import Output, reprocess
from dgx_pixels.tui.screens._base import PixelsScreen
from dgx_pixels.tui.widgets.animation import AnimatePicker, AnimationChoice
from dgx_pixels.tui.widgets.export import ExportDialog
from dgx_pixels.tui.widgets.sprite import SpriteView
from dgx_pixels.tui.widgets.thumbs import Thumb, ThumbGrid

__all__ = ["GalleryScreen", "desktop_opener"]

#: Thumbnails the grid holds at once (a filter narrows the rest down).
MAX_GRID = 500


def desktop_opener() -> str | None:
    """The program that opens a folder on this desktop; None without one (over SSH)."""
    if sys.platform == "darwin":
        return shutil.which("open")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    return shutil.which("xdg-open")


class GalleryScreen(PixelsScreen):
    """Outputs: a filter, the thumbnail grid, the selected sprite, its tags and request."""

    MODE = "gallery"
    WIDGETS_WITH_KEYS: ClassVar[tuple[type[ThumbGrid], ...]] = (ThumbGrid,)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x,delete", "delete", "Delete (to trash)", id="gallery.delete"),
        Binding("u", "undo", "Undo delete", id="gallery.undo"),
        Binding("p", "reprocess", "Re-process: palette", id="gallery.reprocess"),
        Binding("e", "export", "Export", id="gallery.export"),
        Binding("a", "animate", "Animate (in Generate)", id="gallery.animate"),
        Binding("t", "edit_tags", "Tags", id="gallery.tags"),
        Binding("slash", "find", "Filter", id="gallery.filter"),
        Binding("o", "open_folder", "Open folder", id="gallery.open"),
        Binding("ctrl+r", "rescan", "Rescan", id="gallery.rescan"),
    ]
    DEFAULT_CSS = """
    GalleryScreen #gal-top { height: 1; padding: 0 1; }
    GalleryScreen #gal-filter { width: 1fr; }
    GalleryScreen #gal-palette { width: 24; }
    GalleryScreen #gal-body { height: 1fr; }
    GalleryScreen #gal-grid { width: 1fr; height: 1fr; }
    GalleryScreen #gal-side { width: 1fr; height: 1fr; }
    GalleryScreen #gal-tags { height: 1; }
    GalleryScreen #gal-request { height: 1fr; }
    GalleryScreen #gal-message { height: 1; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: list[GalleryItem] = []
        self._shown: list[GalleryItem] = []
        self._images: dict[Path, Image.Image | None] = {}
        self._trash: Trash | None = None
        #: The first scan has been shown (snapshots wait for it).
        self.settled = False

    def compose_body(self) -> ComposeResult:
        from dgx_pixels.pixel.palette import builtin_names

        with Horizontal(id="gal-top"):
            yield Input(
                id="gal-filter",
                placeholder="filter (/): words, model:ID, date:2026-12, tag:NAME",
                compact=True,
            )
            yield Select(
                [(n, n) for n in builtin_names()],
                id="gal-palette",
                prompt="palette for p",
                compact=True,
            )
        side = 32 if self.app.size.height >= 40 else 16
        with Horizontal(id="gal-body"):
            yield ThumbGrid(box=(side, side), id="gal-grid")
            with Vertical(id="gal-side"):
                yield SpriteView(None, renderer=self.studio.renderer, id="gal-sprite")
                yield Input(id="gal-tags", placeholder="tags (t): hero, v2", compact=True)
                with VerticalScroll(id="gal-request"):
                    yield Static("", id="gal-request-text")
        yield Static("", id="gal-message")

    def on_mount(self) -> None:
        super().on_mount()
        self.grid.focus()
        self.action_rescan()

    def on_screen_resume(self) -> None:
        self.action_rescan()

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            ("Gallery: rescan outputs", self.action_rescan, "read the data dir again"),
            ("Gallery: undo the last delete", self.action_undo, "u"),
            ("Gallery: export the selected output", self.action_export, "e"),
        ]

    @property
    def root(self) -> Path:
        from dgx_pixels.paths import DataDir

        return DataDir.resolve(self.studio.options.data_dir).root

    @property
    def grid(self) -> ThumbGrid:
        """The thumbnail grid."""
        return self.query_one("#gal-grid", ThumbGrid)

    def say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#gal-message", Static).update(
            Text(text, style="bold red" if error else "", no_wrap=True, overflow="ellipsis")
        )

    # ------------------------------------------------------------------- list

    def action_rescan(self) -> None:
        self._scan(self.root)

    @work(thread=True, exclusive=True, group="gallery-scan")
    def _scan(self, root: Path) -> None:
        items = scan(root / "outputs", tags=TagBook(root))
        images: dict[Path, Image.Image | None] = {}
        for item in items[:MAX_GRID]:
            images[item.sprite] = self._images.get(item.sprite) or _read(item.sprite)
        self.app.call_from_thread(self._show_items, items, images)

    def _show_items(self, items: list[GalleryItem], images: dict[Path, Image.Image | None]) -> None:
        self._items = items
        self._images.update(images)
        self._filter()
        self.settled = True

    @on(Input.Changed, "#gal-filter")
    def _filter_changed(self) -> None:
        self._filter()

    @on(Input.Submitted, "#gal-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.grid.focus()

    def action_find(self) -> None:
        self.query_one("#gal-filter", Input).focus()

    def _filter(self, *, keep: int | None = None) -> None:
        query = self.query_one("#gal-filter", Input).value
        self._shown = [item for item in self._items if matches(item, query)][:MAX_GRID]
        for item in self._shown:
            if item.sprite not in self._images:
                self._images[item.sprite] = _read(item.sprite)
        thumbs = [
            Thumb(self._images.get(item.sprite), item.prompt or item.sprite.stem, item.noise)
            for item in self._shown
        ]
        cursor = self.grid.cursor if keep is None else keep
        self.grid.show(thumbs, cursor=cursor)
        total = sum(matches(item, query) for item in self._items)
        more = f" (the first {MAX_GRID}; filter to narrow)" if total > len(self._shown) else ""
        self.say(f"{total} of {len(self._items)} outputs{more}")
        if not self._shown:
            self._select(None)

    @on(ThumbGrid.Moved)
    def _moved(self, event: ThumbGrid.Moved) -> None:
        self._select(event.index)

    def selected(self) -> GalleryItem | None:
        """The output under the cursor."""
        index = self.grid.cursor
        return self._shown[index] if 0 <= index < len(self._shown) else None

    def _select(self, index: int | None) -> None:
        sprite = self.query_one("#gal-sprite", SpriteView)
        text = self.query_one("#gal-request-text", Static)
        tags = self.query_one("#gal-tags", Input)
        if index is None or not 0 <= index < len(self._shown):
            sprite.show(None, caption="no outputs here yet" if not self._items else "")
            text.update("")
            tags.value = ""
            return
        item = self._shown[index]
        image = self._images.get(item.sprite)
        caption = f"{image.width}x{image.height} {item.sprite.name}" if image else "unreadable"
        sprite.show(image, caption=caption, noise=item.noise)
        tags.value = ", ".join(item.tags)
        text.update(Text(json.dumps(item.request, indent=1, sort_keys=True)))

    # ---------------------------------------------------------------- actions

    def action_edit_tags(self) -> None:
        if self.selected() is not None:
            self.query_one("#gal-tags", Input).focus()

    @on(Input.Submitted, "#gal-tags")
    def _tags_done(self, event: Input.Submitted) -> None:
        event.stop()
        item = self.selected()
        if item is None:
            return
        try:
            tags = TagBook(self.root).set(item.sprite, event.value)
        except (DgxPixelsError, OSError) as exc:
            self.say(f"tags not saved: {getattr(exc, 'message', exc)}", error=True)
            return
        self.say(f"{item.sprite.name}: tags {', '.join(tags) or '(none)'}")
        self.grid.focus()
        self.action_rescan()

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
        self._filter(keep=self.grid.cursor)
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

    def action_animate(self) -> None:
        item = self.selected()
        if item is not None:
            output = Output.from_sprite(item.sprite)
            self.app.push_screen(
                AnimatePicker(), lambda choice: self._animation_chosen(output, choice)
            )

    def _animation_chosen(self, output: Output, choice: AnimationChoice | None) -> None:
        if choice is not None:
            self.post_message(AnimateRequested(output, choice))

    def action_export(self) -> None:
        item = self.selected()
        if item is not None:
            self.app.push_screen(ExportDialog([item.sprite]))

    def action_open_folder(self) -> None:
        item = self.selected()
        if item is None:
            return
        folder = item.sprite.parent
        opener = desktop_opener()
        if opener is None:
            self.say(f"no desktop here to open it; the folder is {folder}")
            return
        try:
            subprocess.Popen(
                [opener, str(folder)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            self.say(f"{opener} failed ({exc.strerror}); the folder is {folder}", error=True)
            return
        self.say(f"opened {folder}")


def _read(sprite: Path) -> Image.Image | None:
    try:
        return Output.from_sprite(sprite).image()
    except (DgxPixelsError, OSError):
        return None
