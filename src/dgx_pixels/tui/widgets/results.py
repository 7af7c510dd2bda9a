"""Tiles of the results strip: a running job with its step preview, or a finished sprite."""

from __future__ import annotations

import io
from typing import Any, ClassVar

from PIL import Image
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from dgx_pixels.tui.jobbook import JobView
from dgx_pixels.tui.messages import ExportRequested
from dgx_pixels.tui.outputs import Output
from dgx_pixels.tui.widgets.sprite import SpriteView

__all__ = ["JobTile", "ResultTile"]


def _preview_image(data: bytes | None, size: tuple[int, int]) -> Image.Image | None:
    """The worker's step preview (a small drawing), brought to the sprite's size (nearest)."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.convert("RGBA").resize(size, Image.Resampling.NEAREST)
    except (OSError, ValueError):
        return None


class JobTile(Widget):
    """A queued or running job: its progress and the worker's latest step preview."""

    DEFAULT_CSS = """
    JobTile { width: auto; height: auto; margin: 0 1 0 0; }
    """

    def __init__(self, view: JobView, *, renderer: str, zoom: int, noise: bool) -> None:
        super().__init__(id=f"job-{view.id}")
        self.job_id = view.id
        size = view.request.get("size") or [32, 32]
        self._sprite_size = (int(size[0]), int(size[1]))
        self._renderer, self._zoom, self._noise = renderer, zoom, noise
        self._view = view

    def compose(self) -> ComposeResult:
        yield SpriteView(
            _preview_image(self._view.preview, self._sprite_size),
            zoom=self._zoom,
            renderer=self._renderer,
            caption=self._caption(self._view),
            noise=self._noise,
        )

    @staticmethod
    def _caption(view: JobView) -> str:
        if view.state == "running" and view.total:
            eta = f", {view.eta_s:.0f} s left" if view.eta_s is not None else ""
            return f"#{view.id} {view.unit} {view.step}/{view.total}{eta}"
        return f"#{view.id} {view.state}"

    def update_view(self, view: JobView) -> None:
        """Show the job's new progress."""
        self._view = view
        found = self.query(SpriteView)
        if not found:
            return  # not composed yet: compose shows the latest view
        sprite = found.first()
        image = _preview_image(view.preview, self._sprite_size)
        sprite.show(image if image is not None else sprite.image, caption=self._caption(view))


class ResultTile(Widget, can_focus=True):
    """A finished sprite; its keys act on it (re-roll, variations, img2img, re-process,
    animate, export)."""

    KEYS_SCOPE: ClassVar[str] = "a selected result"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "act('reroll')", "Re-roll its seed", id="result.reroll"),
        Binding("v", "act('variations')", "Variations", id="result.variations"),
        Binding("i", "act('img2img')", "Img2img from it", id="result.img2img"),
        Binding("p", "act('reprocess')", "Re-process: palette", id="result.reprocess"),
        Binding("a", "act('animate')", "Animate: action, effect", id="result.animate"),
        Binding("e", "export", "Export it", id="result.export"),
    ]
    DEFAULT_CSS = """
    ResultTile { width: auto; height: auto; margin: 0 1 0 0; border: none; }
    ResultTile:focus { background: $accent 30%; }
    """

    class Action(Message):
        """The user asked for ``action`` on ``tile``'s output."""

        def __init__(self, tile: ResultTile, action: str) -> None:
            super().__init__()
            self.tile = tile
            self.action = action

    def __init__(
        self, output: Output, *, caption: str, renderer: str, zoom: int, noise: bool, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.output = output
        self._caption, self._renderer, self._zoom, self._noise = caption, renderer, zoom, noise

    def compose(self) -> ComposeResult:
        try:
            image: Image.Image | None = self.output.image()
            caption = self._caption
        except Exception as exc:  # a file gone or on another machine: say so, do not crash
            image, caption = None, f"{self._caption}: {exc}"
        yield SpriteView(
            image, zoom=self._zoom, renderer=self._renderer, caption=caption, noise=self._noise
        )

    def action_act(self, action: str) -> None:
        self.post_message(self.Action(self, action))

    def action_export(self) -> None:
        self.post_message(ExportRequested([self.output.sprite]))
