"""Animations in the results strip: pick an action or an effect, then watch its frames play.

:class:`AnimatePicker` lists the generated actions (``idle``, ``walk``, ...:
the worker's model draws them with the sprite as the character, in the
frames and directions typed below the list) and the model-free effects of
:data:`dgx_pixels.sprites.EFFECTS` (made here, instantly); Enter picks,
Escape cancels. :class:`AnimationTile` plays an animation's frames at their
own durations, drawn exactly as any sprite is; ``e`` on it exports the
animation's asset folder (sheet, clips) like any output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from dgx_pixels.tui.messages import ExportRequested
from dgx_pixels.tui.widgets.sprite import SpriteView

__all__ = ["AnimatePicker", "AnimationChoice", "AnimationTile"]

#: The picker's frames and directions at first: small, so a first try is quick.
DEFAULT_FRAMES = "4"
DEFAULT_DIRECTIONS = "1"


@dataclass(frozen=True, slots=True)
class AnimationChoice:
    """What the picker chose: an action the model draws, or a model-free effect.

    ``frames`` and ``directions`` are the fields' texts (a generated action's;
    an effect has its own frames); the screen checks them with the request.
    """

    name: str
    effect: bool
    frames: str = DEFAULT_FRAMES
    directions: str = DEFAULT_DIRECTIONS


class AnimatePicker(ModalScreen[AnimationChoice | None]):
    """The generated actions and the model-free effects; dismissed with the choice, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="effects.cancel"),
    ]
    DEFAULT_CSS = """
    AnimatePicker { align: center middle; }
    AnimatePicker #effects-box {
        width: 56; height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    AnimatePicker OptionList { height: auto; max-height: 14; }
    AnimatePicker .row { height: 1; }
    AnimatePicker .row Label { width: 12; }
    AnimatePicker .row Input { width: 8; }
    """

    def compose(self) -> ComposeResult:
        from dgx_pixels.sprites import ACTIONS, EFFECTS

        actions = (Option(f"{name}: drawn by the model", id=name) for name in ACTIONS)
        effects = (
            Option(f"{name}: effect, {e.frames} frames, {e.duration_ms} ms", id=name)
            for name, e in EFFECTS.items()
        )
        with Vertical(id="effects-box"):
            yield Static("Animate it (Enter; Tab: frames, directions; Escape cancels)")
            yield OptionList(*actions, *effects, id="effects")
            with Horizontal(classes="row"):
                yield Label("frames")
                yield Input(DEFAULT_FRAMES, id="anim-frames", compact=True)
                yield Label("directions")
                yield Input(DEFAULT_DIRECTIONS, id="anim-directions", compact=True)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def _choose(self, name: str | None) -> None:
        from dgx_pixels.sprites import EFFECTS

        if name is None:
            return
        self.dismiss(
            AnimationChoice(
                name,
                effect=name in EFFECTS,
                frames=self.query_one("#anim-frames", Input).value,
                directions=self.query_one("#anim-directions", Input).value,
            )
        )

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
