"""Palette swatches: one coloured block per colour of the chosen palette."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from dgx_pixels.errors import InputError

__all__ = ["Swatches"]


class Swatches(Static):
    """The colours of a palette name (none, a built-in, ``auto:N``, a file)."""

    DEFAULT_CSS = "Swatches { height: auto; width: 1fr; }"

    def show(self, palette: str | None) -> None:
        """Show the colours of ``palette``."""
        if not palette:
            self.update(Text("colours kept as drawn", style="italic"))
            return
        if palette.startswith("auto:"):
            self.update(Text(f"{palette[5:]} colours picked from the drawing", style="italic"))
            return
        from dgx_pixels.pixel.palette import resolve_palette

        try:
            codes = resolve_palette(palette).hex_codes()
        except InputError as exc:
            self.update(Text(exc.message, style="bold red"))
            return
        text = Text(no_wrap=False)
        for code in codes:
            text.append("██", style=code)
        self.update(text)
