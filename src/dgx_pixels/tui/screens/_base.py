"""What every screen shares: the tabs, the worker bar, the footer, and access to the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Input

from dgx_pixels.tui.link import WorkerStatus
from dgx_pixels.tui.widgets.chrome import ScreenTabs, WorkerBar

if TYPE_CHECKING:
    from dgx_pixels.tui.app import DgxPixelsApp

__all__ = ["PixelsScreen"]


class PixelsScreen(Screen[None]):
    """A screen with the tabs above its body and the worker bar and footer below."""

    MODE: ClassVar[str] = ""

    @property
    def studio(self) -> DgxPixelsApp:
        """The app, typed."""
        from dgx_pixels.tui.app import DgxPixelsApp

        return cast(DgxPixelsApp, self.app)

    def compose(self) -> ComposeResult:
        yield ScreenTabs(self.MODE, id="tabs")
        yield from self.compose_body()
        yield WorkerBar(id="worker-bar")
        yield Footer(show_command_palette=False)  # the app's own ctrl+p binding shows

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        if not self.studio.options.blink:  # snapshots: a cursor that never blinks
            for field in self.query(Input):
                field.cursor_blink = False
        self.watch(self.app, "status", self._status_changed)

    def _status_changed(self, status: WorkerStatus) -> None:
        waiting = sum(not view.terminal for view in self.studio.jobs.values())
        self.query_one(WorkerBar).show(status, waiting=waiting)
        self.worker_status_changed(status)

    def worker_status_changed(self, status: WorkerStatus) -> None:
        """The worker's status changed (screens that care override this)."""

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        """This screen's entries in the command palette."""
        return []
