"""Animations in the results strip: pick a model-free effect, then watch its frames play.

:class:`EffectPicker` lists the effects of :data:`dgx_pixels.sprites.EFFECTS`
(Enter picks, Escape cancels). :class:`AnimationTile` plays an animation's
frames at their own durations, drawn exactly as any sprite is; ``e`` on it
exports the animation's asset folder (sheet, clips) like any output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from dgx_pixels.tui.messages import ExportRequested
from dgx_pixels.tui.widgets.sprite import SpriteView

__all__ = ["AnimationTile", "EffectPicker"]


class EffectPicker(ModalScreen[str | None]):
    """The model-free effects; dismissed with the chosen name, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="effects.cancel"),
    ]
    DEFAULT_CSS = """
    EffectPicker { align: center middle; }
    EffectPicker #effects-box {
        width: 50; height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    EffectPicker OptionList { height: auto; max-height: 12; }
    """

    def compose(self) -> ComposeResult:
        from dgx_pixels.sprites import EFFECTS

        with Vertical(id="effects-box"):
            yield Static("Animate with a model-free effect (Enter; Escape cancels)")
            yield OptionList(
                *(
                    Option(f"{name}: {e.frames} frames, {e.duration_ms} ms", id=name)
                    for name, e in EFFECTS.items()
                ),
                id="effects",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AnimationTile(Widget, can_focus=True):
    """An animation in the strip, playing; ``e`` exports its asset folder."""

    KEYS_SCOPE: ClassVar[str] = "a selected animation"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "Export it", id="animation.export"),
    ]
    DEFAULT_CSS = """
    AnimationTile { width: auto; height: auto; margin: 0 1 0 0; }
    AnimationTile:focus { background: $accent 30%; }
    """

    def __init__(
        self,
        frames: Sequence[Image.Image],
        *,
        duration_ms: int,
        folder: Path,
        caption: str,
        renderer: str,
        zoom: int,
        noise: bool,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.frames = list(frames)
        self.folder = folder
        self.frame = 0
        self._duration = max(duration_ms, 20) / 1000
        self._caption, self._renderer, self._zoom, self._noise = caption, renderer, zoom, noise
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield SpriteView(
            self.frames[0],
            zoom=self._zoom,
            renderer=self._renderer,
            caption=self._caption,
            noise=self._noise,
        )

    def on_mount(self) -> None:
        self._timer = self.set_interval(self._duration, self._next)

    def _next(self) -> None:
        self.frame = (self.frame + 1) % len(self.frames)
        self.query_one(SpriteView).show(self.frames[self.frame])

    def action_export(self) -> None:
        self.post_message(ExportRequested([self.folder]))
