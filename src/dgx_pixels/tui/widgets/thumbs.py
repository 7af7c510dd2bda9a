"""A grid of true-pixel thumbnails, one cursor, moved with the arrow keys.

Each thumbnail is its sprite scaled by a whole factor, nearest only
(:func:`~dgx_pixels.tui.pixels.thumbnail`), drawn as half blocks in a box of
``box`` pixels, with a one-line caption below it (``NOISE`` first for a
random-weight model's sprite). The grid draws itself line by line, so a
thousand thumbnails cost nothing until they are in view; it scrolls to keep
the cursor's row visible. Moving the cursor posts :class:`ThumbGrid.Moved`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from PIL import Image
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from dgx_pixels.tui.pixels import halfblock_rows, thumbnail

__all__ = ["Thumb", "ThumbGrid"]

_GAP = 1
_CAPTION = Style(color="grey70")
_SELECTED = Style(color="black", bgcolor="yellow", bold=True)
_NOISE = Style(color="black", bgcolor="yellow", bold=True)


@dataclass(frozen=True, slots=True)
class Thumb:
    """One grid entry: its picture (None: unreadable) and caption."""

    image: Image.Image | None
    caption: str
    noise: bool = False


class ThumbGrid(Widget, can_focus=True):
    """Thumbnails in rows as wide as the widget; the cursor's is highlighted."""

    KEYS_SCOPE: ClassVar[str] = "the thumbnails"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1, 0)", "Previous", show=False, id="thumbs.left"),
        Binding("right", "move(1, 0)", "Next", show=False, id="thumbs.right"),
        Binding("up", "move(0, -1)", "Row up", show=False, id="thumbs.up"),
        Binding("down", "move(0, 1)", "Row down", show=False, id="thumbs.down"),
        Binding("home", "jump(0)", "First", show=False, id="thumbs.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="thumbs.last"),
    ]
    DEFAULT_CSS = """
    ThumbGrid { width: 1fr; height: 1fr; }
    ThumbGrid:focus { background: $boost; }
    """

    cursor: reactive[int] = reactive(0)

    class Moved(Message):
        """The cursor is on entry ``index`` now."""

        def __init__(self, grid: ThumbGrid, index: int) -> None:
            super().__init__()
            self.grid = grid
            self.index = index

    def __init__(self, *, box: tuple[int, int] = (16, 16), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.box = box
        self._thumbs: list[Thumb] = []
        self._rows: list[list[list[Segment]]] = []
        self._top = 0  # the first grid row in view

    # ---------------------------------------------------------------- content

    def show(self, thumbs: Sequence[Thumb], *, cursor: int = 0) -> None:
        """Show ``thumbs`` with the cursor on ``cursor`` (clamped)."""
        self._thumbs = list(thumbs)
        self._rows = [
            halfblock_rows(thumbnail(t.image, self.box)) if t.image is not None else []
            for t in self._thumbs
        ]
        self._top = 0
        self.set_reactive(ThumbGrid.cursor, min(max(cursor, 0), max(len(self._thumbs) - 1, 0)))
        self._follow()
        self.refresh()
        if self._thumbs:
            self.post_message(self.Moved(self, self.cursor))

    @property
    def count(self) -> int:
        """How many thumbnails the grid holds."""
        return len(self._thumbs)

    @property
    def columns(self) -> int:
        """Thumbnails per row at the widget's width."""
        return max(1, (self.size.width + _GAP) // (self.box[0] + _GAP))

    @property
    def _cell_rows(self) -> int:
        return (self.box[1] + 1) // 2 + 1  # the picture, then its caption

    # --------------------------------------------------------------- movement

    def action_move(self, dx: int, dy: int) -> None:
        if not self._thumbs:
            return
        target = self.cursor + dx + dy * self.columns
        self.cursor = min(max(target, 0), len(self._thumbs) - 1)

    def action_jump(self, index: int) -> None:
        if self._thumbs:
            self.cursor = index % len(self._thumbs)

    def watch_cursor(self, old: int, new: int) -> None:
        self._follow()
        self.refresh()
        if old != new and self._thumbs:
            self.post_message(self.Moved(self, new))

    def _follow(self) -> None:
        """Scroll so the cursor's row is in view."""
        visible = max(1, self.size.height // self._cell_rows)
        row = self.cursor // self.columns
        if row < self._top:
            self._top = row
        elif row >= self._top + visible:
            self._top = row - visible + 1

    def on_resize(self) -> None:
        self._follow()

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the thumbnail under it."""
        column = event.x // (self.box[0] + _GAP)
        if column >= self.columns:
            return
        index = (self._top + event.y // self._cell_rows) * self.columns + column
        if 0 <= index < len(self._thumbs):
            self.cursor = index

    # ---------------------------------------------------------------- drawing

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return container.height

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        grid_row, line = divmod(y, self._cell_rows)
        first = (self._top + grid_row) * self.columns
        segments: list[Segment] = []
        for index in range(first, min(first + self.columns, len(self._thumbs))):
            if index > first:
                segments.append(Segment(" " * _GAP))
            segments.extend(self._cell_line(index, line))
        return Strip(segments).crop_extend(0, width, Style())

    def _cell_line(self, index: int, line: int) -> list[Segment]:
        w = self.box[0]
        if line == self._cell_rows - 1:  # the caption
            thumb = self._thumbs[index]
            style = _SELECTED if index == self.cursor else _CAPTION
            mark = "> " if index == self.cursor else ""
            parts = [Segment(mark, style)]
            if thumb.noise:
                parts.append(Segment("NOISE ", _NOISE))
            parts.append(Segment(thumb.caption, style))
            return list(Strip(parts).crop_extend(0, w, style))
        rows = self._rows[index]
        if line >= len(rows):
            return [Segment(" " * w)]
        return list(Strip(rows[line]).crop_extend(0, w, Style()))
