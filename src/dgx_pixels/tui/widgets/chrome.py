"""The frame around every screen: the screen tabs on top, the worker bar at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from dgx_pixels.tui import keys
from dgx_pixels.tui.link import LinkState, WorkerStatus

__all__ = ["ScreenTabs", "WorkerBar"]


class ScreenTabs(Static):
    """``1 Generate  2 Gallery ...`` with the current screen highlighted."""

    DEFAULT_CSS = """
    ScreenTabs { height: 1; width: 1fr; background: $panel; }
    """

    def __init__(self, current: str, **kwargs: object) -> None:
        super().__init__(self._text(current), **kwargs)  # type: ignore[arg-type]

    @staticmethod
    def _text(current: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for entry in keys.SCREENS:
            style = "bold reverse" if entry.mode == current else ""
            text.append(f" {entry.number} ", style="bold " + style)
            text.append(f"{entry.title} ", style=style)
        return text


class WorkerBar(Static):
    """One line: what the worker is doing (or that none answers)."""

    DEFAULT_CSS = """
    WorkerBar { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    WorkerBar.-bad { background: $error 40%; }
    WorkerBar.-wait { background: $warning 30%; }
    """

    def show(self, status: WorkerStatus, *, waiting: int = 0) -> None:
        """Show ``status``; ``waiting`` unfinished jobs are named when no worker serves."""
        line = status.line()
        if waiting and not status.serving:
            line += f"; {waiting} job(s) wait in the queue for the next worker"
        self.update(Text(line, no_wrap=True, overflow="ellipsis"))
        self.set_class(status.state in (LinkState.GONE, LinkState.FAILED), "-bad")
        self.set_class(
            status.state in (LinkState.CONNECTING, LinkState.STARTING, "loading", "draining"),
            "-wait",
        )
