"""Settings: edit, check and save ``tui.toml`` (the bad value is named; nothing bad is saved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Input, Select, Static

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.tui.screens._base import PixelsScreen
from dgx_pixels.tui.settings import RENDERERS, Settings
from dgx_pixels.tui.widgets.form import labelled

__all__ = ["SettingsScreen", "parse_keymap"]

_TEXT_FIELDS = ("model", "size", "count", "steps", "guidance", "palette", "background", "negative")


def parse_keymap(text: str) -> dict[str, str]:
    """``"screen.help=f12, queue.cancel=x"`` -> a keymap.

    >>> parse_keymap("screen.help=f12, queue.cancel = x")
    {'screen.help': 'f12', 'queue.cancel': 'x'}
    """
    from dgx_pixels.errors import InputError

    keymap: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, key = part.partition("=")
        if not sep or not name.strip() or not key.strip():
            raise InputError(f"keymap entries look like id=key, got {part.strip()!r}")
        keymap[name.strip()] = key.strip()
    return keymap


class SettingsScreen(PixelsScreen):
    """One field per setting; ctrl+s checks and saves."""

    MODE = "settings"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save settings", id="settings.save"),
    ]
    DEFAULT_CSS = """
    SettingsScreen #settings-form { height: 1fr; padding: 0 1; }
    SettingsScreen .row { height: 1; }
    SettingsScreen .label { width: 12; color: $text-muted; }
    SettingsScreen Input, SettingsScreen Select { width: 1fr; }
    SettingsScreen #settings-message { height: auto; max-height: 3; padding: 0 1; }
    """

    def compose_body(self) -> ComposeResult:
        from dgx_pixels.engine._schedulers import SCHEDULERS

        with VerticalScroll(id="settings-form"):
            yield from labelled(
                "renderer",
                Select(
                    [(r, r) for r in RENDERERS], id="set-renderer", allow_blank=False, compact=True
                ),
            )
            for name in _TEXT_FIELDS:
                yield from labelled(name, Input(id=f"set-{name}", compact=True))
            yield from labelled(
                "scheduler",
                Select(
                    [(s, s) for s in SCHEDULERS],
                    id="set-scheduler",
                    allow_blank=False,
                    compact=True,
                ),
            )
            yield from labelled(
                "keymap", Input(id="set-keymap", placeholder="screen.help=f12, ...", compact=True)
            )
        yield Static("", id="settings-message")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_settings(self.studio.settings)
        # changed elsewhere (the Models screen sets the default model): show them
        self.watch(self.app, "settings", self.show_settings, init=False)
        path = self.studio.options.settings_path
        self.say(f"file: {path}" if path else "no settings file: changes last this session")

    def show_settings(self, settings: Settings) -> None:
        """Fill the fields from ``settings``."""
        for name in _TEXT_FIELDS:
            value = getattr(settings, name)
            self.query_one(f"#set-{name}", Input).value = (
                f"{value:g}" if isinstance(value, float) else str(value)
            )
        self.query_one("#set-renderer", Select).value = settings.renderer
        self.query_one("#set-scheduler", Select).value = settings.scheduler
        self.query_one("#set-keymap", Input).value = ", ".join(
            f"{k}={v}" for k, v in settings.keymap.items()
        )

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [("Settings: save", self.action_save, "check and write tui.toml")]

    def say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#settings-message", Static).update(
            Text(text, style="bold red" if error else "")
        )

    def read_settings(self) -> Settings:
        """The settings the fields say (raises naming the bad value)."""
        from dgx_pixels.errors import InputError

        values: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            text = self.query_one(f"#set-{name}", Input).value.strip()
            if name in ("count", "steps"):
                try:
                    values[name] = int(text)
                except ValueError:
                    raise InputError(f"{name} must be a whole number, got {text!r}") from None
            elif name == "guidance":
                try:
                    values[name] = float(text)
                except ValueError:
                    raise InputError(f"guidance must be a number, got {text!r}") from None
            else:
                values[name] = text
        for name in ("renderer", "scheduler"):
            values[name] = str(self.query_one(f"#set-{name}", Select).value)
        values["keymap"] = parse_keymap(self.query_one("#set-keymap", Input).value)
        return Settings(**values)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        try:
            settings = self.read_settings()
        except DgxPixelsError as exc:
            self.say(f"not saved: {exc.message}", error=True)
            return
        renderer_changed = settings.renderer != self.studio.settings.renderer
        try:
            path = self.studio.keep_settings(settings)
        except OSError as exc:
            where = self.studio.options.settings_path
            self.say(f"not saved: {where}: {exc.strerror or exc}", error=True)
            return
        self.studio.set_keymap(dict(settings.keymap))
        note = " (the renderer changes at the next start)" if renderer_changed else ""
        self.say(f"saved to {path}{note}" if path else f"applied for this session{note}")
