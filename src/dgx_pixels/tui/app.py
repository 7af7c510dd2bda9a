"""The DGX-Pixels studio app: wires the screens together and holds the app-wide state.

State several screens read is reactive on the app: ``status`` (the worker,
a :class:`~dgx_pixels.tui.link.WorkerStatus`), ``jobs`` (every job the
worker reported, as :class:`~dgx_pixels.tui.jobbook.JobView` by id) and
``settings``. One long-lived thread worker (:meth:`DgxPixelsApp.follow_worker`)
finds or starts the worker, pings it and follows its event stream, posting
messages back; it never touches a widget. Screens are modes, switched with the
keys of :mod:`dgx_pixels.tui.keys` or the command palette.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import ClassVar, cast

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, TextArea
from textual.worker import get_current_worker

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import EventStream
from dgx_pixels.tui import keys
from dgx_pixels.tui.jobbook import JobView, apply_event, from_record
from dgx_pixels.tui.link import LinkState, WorkerLink, WorkerStatus
from dgx_pixels.tui.messages import (
    AnimateRequested,
    JobEventReceived,
    JobsListed,
    WorkerStatusChanged,
)
from dgx_pixels.tui.screens.compare import CompareScreen
from dgx_pixels.tui.screens.gallery import GalleryScreen
from dgx_pixels.tui.screens.generate import GenerateScreen
from dgx_pixels.tui.screens.help import HelpScreen
from dgx_pixels.tui.screens.models import ModelsScreen
from dgx_pixels.tui.screens.monitor import MonitorScreen
from dgx_pixels.tui.screens.queue import QueueScreen
from dgx_pixels.tui.screens.settings import SettingsScreen
from dgx_pixels.tui.settings import Settings

__all__ = ["DgxPixelsApp", "TuiOptions", "all_binding_scopes"]

#: How often the event thread pings the worker, and lists jobs to catch what events missed.
PING_EVERY_S = 1.0
LIST_EVERY_S = 5.0
JOB_PAGE = 200
EVENT_LOG = 2000
MISSES_FOR_GONE = 2

_SCREEN_CLASSES: dict[str, type[Screen[None]]] = {
    "generate": GenerateScreen,
    "gallery": GalleryScreen,
    "compare": CompareScreen,
    "models": ModelsScreen,
    "queue": QueueScreen,
    "monitor": MonitorScreen,
    "settings": SettingsScreen,
    "help": HelpScreen,
}


@dataclass(frozen=True)
class TuiOptions:
    """How the app was started: the worker, the data dir, the renderer, the settings file."""

    link: WorkerLink
    settings: Settings = field(default_factory=Settings)
    settings_path: Path | None = None
    renderer: str = "halfblock"
    data_dir: Path | None = None
    blink: bool = True


Command = tuple[str, Callable[[], object], str]


class TuiCommands(Provider):
    """The command palette: every screen, plus the current screen's own commands."""

    def _commands(self) -> list[Command]:
        app = cast(DgxPixelsApp, self.app)
        items: list[Command] = [
            (f"Screen: {e.title}", partial(app.show_screen, e.mode), f"{e.key}: {e.summary}")
            for e in keys.SCREENS
        ]
        own = getattr(self.screen, "commands", None)
        if callable(own):
            items += own()
        items.append(("Quit", app.exit, "leave the app (ctrl+q)"))
        return items

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class DgxPixelsApp(App[None]):
    """The terminal UI."""

    TITLE = "DGX-Pixels"
    CSS_PATH = "app.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        mode: cls for mode, cls in _SCREEN_CLASSES.items()
    }
    COMMANDS = App.COMMANDS | {TuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *keys.screen_bindings(),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("ctrl+p", "command_palette", "Commands", id="app.commands"),
        Binding("escape", "leave_field", "Leave the text field", show=False, id="app.leave"),
    ]

    status: reactive[WorkerStatus] = reactive(WorkerStatus(LinkState.CONNECTING, ""))
    jobs: reactive[dict[int, JobView]] = reactive(dict, always_update=True)
    settings: reactive[Settings] = reactive(Settings)

    def __init__(self, options: TuiOptions) -> None:
        super().__init__()
        self.options = options
        self.link = options.link
        self.renderer = options.renderer
        self._stop = threading.Event()
        #: The latest worker events, newest last (the Monitor's history and log).
        self.events: collections.deque[tuple[float, p.Event]] = collections.deque(maxlen=EVENT_LOG)
        #: The last export's target and project folder (the export dialog starts with them).
        self.last_export: tuple[str, str] = ("bevy", "")
        self.set_reactive(DgxPixelsApp.settings, options.settings)
        self.set_reactive(
            DgxPixelsApp.status, WorkerStatus(LinkState.CONNECTING, self.link.address)
        )

    # ------------------------------------------------------------------ wiring

    def on_mount(self) -> None:
        if self.settings.keymap:
            self.set_keymap(dict(self.settings.keymap))
        self.switch_mode("generate")
        self.follow_worker()

    def on_unmount(self) -> None:
        self._stop.set()

    def action_show_screen(self, mode: str) -> None:
        """Switch to the screen ``mode``."""
        self.show_screen(mode)

    def show_screen(self, mode: str) -> None:
        """Switch to the screen ``mode`` (a no-op when it is showing)."""
        if self.current_mode != mode:
            self.switch_mode(mode)

    async def on_animate_requested(self, message: AnimateRequested) -> None:
        """Gallery's ``a``: Generate makes the animation, in its strip, with its progress."""
        from dgx_pixels.tui.outputs import Output
        from dgx_pixels.tui.widgets.animation import AnimationChoice

        assert isinstance(message.output, Output)
        assert isinstance(message.choice, AnimationChoice)
        if self.current_mode != "generate":
            await self.switch_mode("generate")
        screen = self.screen
        assert isinstance(screen, GenerateScreen)
        screen.animate_output(message.output, message.choice)

    def action_number_screen(self, mode: str) -> None:
        """A number key: switch screens unless a text field has the key."""
        self.show_screen(mode)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "number_screen":
            return not isinstance(self.focused, (Input, TextArea))
        return True

    def action_leave_field(self) -> None:
        """Escape: leave the text field, so number keys switch screens again."""
        if isinstance(self.focused, (Input, TextArea)):
            self.screen.set_focus(None)

    def keep_settings(self, settings: Settings) -> Path | None:
        """Make ``settings`` the app's and write them to the settings file; that file.

        ``None`` when the app has no settings file (they last this session).
        Raises :class:`OSError` when the file cannot be written (nothing changes then).
        """
        from dgx_pixels.tui.settings import save_settings

        path = self.options.settings_path
        if path is not None:
            save_settings(settings, path)
        self.settings = settings
        return path

    @property
    def noise(self) -> bool:
        """The worker's model has random weights."""
        return self.status.noise

    # ---------------------------------------------------------------- messages

    def on_worker_status_changed(self, message: WorkerStatusChanged) -> None:
        if message.status != self.status:
            self.status = message.status

    def on_jobs_listed(self, message: JobsListed) -> None:
        jobs = dict(self.jobs)
        for record in message.records:
            jobs[record.id] = from_record(record, jobs.get(record.id))
        self.jobs = jobs

    def on_job_event_received(self, message: JobEventReceived) -> None:
        event = message.event
        self.events.append((time.time(), event))
        job_id = getattr(event, "job", None)
        if not isinstance(job_id, int):
            return
        jobs = dict(self.jobs)
        view = jobs.get(job_id)
        if view is None:
            if not isinstance(event, p.Accepted):
                return  # the next listing brings it
            view = JobView(job_id, p.JobState.QUEUED.value, event.prompt, "", {}, event.priority)
        jobs[job_id] = apply_event(view, event)
        self.jobs = jobs

    # ----------------------------------------------------------- event thread

    @work(thread=True, exclusive=True, group="worker-events", exit_on_error=False)
    def follow_worker(self) -> None:
        """Find or start the worker, then ping it and follow its events until the app ends."""
        worker = get_current_worker()
        post = self.post_message
        status = self.link.ping()
        if not status.serving and self.link.may_spawn:
            post(
                WorkerStatusChanged(
                    WorkerStatus(LinkState.STARTING, self.link.address, model=self.link.model or "")
                )
            )
            status = self.link.start()
        post(WorkerStatusChanged(status))
        follower = _Follower(self.link, post)
        next_ping = time.monotonic() + PING_EVERY_S
        misses = 0
        while not (worker.is_cancelled or self._stop.is_set()):
            if time.monotonic() >= next_ping and status.state != LinkState.FAILED:
                pinged = self.link.ping()
                misses = 0 if pinged.serving else misses + 1
                # one unanswered ping is a busy worker (a long GIL hold), two are a gone one
                if pinged.serving or misses >= MISSES_FOR_GONE or not status.serving:
                    status = pinged
                    post(WorkerStatusChanged(status))
                next_ping = time.monotonic() + PING_EVERY_S
            follower.step(status)
        follower.close()


class _Follower:
    """The event thread's subscription: opened per worker process, closed when it goes."""

    def __init__(self, link: WorkerLink, post: Callable[[Message], bool]) -> None:
        self._link = link
        self._post = post
        self._stream: EventStream | None = None
        self._pid: int | None = None
        self._listed = 0.0
        # short: this thread also pings, and a worker gone must show within seconds
        self._timeout = max(1.0, 2 * link.ping_timeout)

    def step(self, status: WorkerStatus) -> None:
        if not status.serving:
            self.close()
            time.sleep(0.1)
            return
        try:
            if self._stream is None or status.pid != self._pid:
                self.close()
                with self._link.client(self._timeout) as client:
                    self._stream = client.events(None)  # every topic: all jobs and the worker
                self._pid = status.pid
                self._listed = 0.0
            if time.monotonic() - self._listed >= LIST_EVERY_S:
                with self._link.client(self._timeout) as client:
                    self._post(JobsListed(client.jobs(limit=JOB_PAGE).jobs))
                self._listed = time.monotonic()
            event = self._stream.next(timeout=0.1)
        except DgxPixelsError:
            self.close()
            time.sleep(0.1)
            return
        if event is not None:
            self._post(JobEventReceived(event))
            if isinstance(event, p.Done | p.Failed | p.Cancelled | p.Accepted):
                self._listed = 0.0  # a state change: list soon, for the full record

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def all_binding_scopes() -> Iterator[tuple[str, Iterable[BindingType]]]:
    """Every binding of the app and its screens, by where it applies (for Help and the README)."""
    yield "anywhere", DgxPixelsApp.BINDINGS
    for entry in keys.SCREENS:
        cls = _SCREEN_CLASSES[entry.mode]
        yield entry.title, cls.BINDINGS
        for widget_cls in getattr(cls, "WIDGETS_WITH_KEYS", ()):
            yield f"{entry.title}: {widget_cls.KEYS_SCOPE}", widget_cls.BINDINGS
    from dgx_pixels.tui.widgets.animation import AnimatePicker
    from dgx_pixels.tui.widgets.export import ExportDialog

    yield "the export dialog", ExportDialog.BINDINGS
    yield "the animate list", AnimatePicker.BINDINGS
