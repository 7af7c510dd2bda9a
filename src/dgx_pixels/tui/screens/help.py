"""Help: every key, read from the bindings themselves (with the settings' keymap applied)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Static

from dgx_pixels.tui.keys import binding_rows
from dgx_pixels.tui.screens._base import PixelsScreen

__all__ = ["HelpScreen"]


class HelpScreen(PixelsScreen):
    """The keys table, generated from the app's and the screens' bindings."""

    MODE = "help"
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Keys (F-keys work anywhere; number keys when no text field has focus; "
            "ctrl+p lists every command):",
            id="help-intro",
        )
        yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        super().on_mount()
        from dgx_pixels.tui.app import all_binding_scopes

        table = self.query_one(DataTable)
        table.add_columns("where", "key", "does")
        for scope, key, description, _id in binding_rows(
            all_binding_scopes(), self.studio.settings.keymap
        ):
            table.add_row(scope, key, description)
