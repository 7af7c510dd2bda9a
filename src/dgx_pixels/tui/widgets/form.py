"""Form rows: a label and its field on one line (Generate's and Settings' forms)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

__all__ = ["labelled"]


def labelled(label: str, widget: Widget) -> ComposeResult:
    """``widget`` in a ``.row`` after a ``.label`` reading ``label`` (styled by the screen)."""
    with Horizontal(classes="row"):
        yield Label(label, classes="label")
        yield widget
