"""The messages of the TUI: posted up by threads and widgets, handled by the app or a screen.

Threads never touch widgets: the app's long-lived event thread posts
:class:`WorkerStatusChanged`, :class:`JobsListed` and :class:`JobEventReceived`
to the app, which turns them into its reactive state; a screen's request
threads post :class:`Submitted` / :class:`RequestFailed` to that screen.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from dgx_pixels.jobs import protocol as p
from dgx_pixels.tui.link import WorkerStatus

__all__ = [
    "AnimateRequested",
    "ExportRequested",
    "JobEventReceived",
    "JobsListed",
    "PullFinished",
    "PullProgress",
    "RequestFailed",
    "Submitted",
    "WorkerStatusChanged",
]


class WorkerStatusChanged(Message):
    """The worker's status, as the last ping (or start) found it."""

    def __init__(self, status: WorkerStatus) -> None:
        super().__init__()
        self.status = status


class JobsListed(Message):
    """A fresh page of job records (newest first)."""

    def __init__(self, records: list[p.JobRecord]) -> None:
        super().__init__()
        self.records = records


class JobEventReceived(Message):
    """One event from the worker's PUB socket."""

    def __init__(self, event: p.Event) -> None:
        super().__init__()
        self.event = event


class Submitted(Message):
    """A job was queued; ``tag`` says what it was for (``generate``, ``compare``...);
    ``source`` is what it was made from, where the screen needs it back (the output
    an animate job animates)."""

    def __init__(self, job: p.JobRecord, tag: str = "", source: object = None) -> None:
        super().__init__()
        self.job = job
        self.tag = tag
        self.source = source


class RequestFailed(Message):
    """A request to the worker (or a local action) failed; ``message`` says why in one line."""

    def __init__(self, message: str, tag: str = "") -> None:
        super().__init__()
        self.message = message
        self.tag = tag


class PullProgress(Message):
    """A download into the HF cache has ``received`` bytes so far (posted by its thread)."""

    def __init__(self, model_id: str, received: int) -> None:
        super().__init__()
        self.model_id = model_id
        self.received = received


class PullFinished(Message):
    """A download finished: ``paths`` are the local folder and files (empty: nothing to fetch)."""

    def __init__(self, model_id: str, paths: list[str]) -> None:
        super().__init__()
        self.model_id = model_id
        self.paths = paths


class AnimateRequested(Message):
    """A screen without a results strip (Gallery) asks for ``output`` to be animated as
    ``choice`` (a ``widgets.animation.AnimationChoice``); the app hands it to Generate."""

    def __init__(self, output: object, choice: object) -> None:
        super().__init__()
        self.output = output
        self.choice = choice


class ExportRequested(Message):
    """A tile asks for its files (a sprite, an asset folder) to be exported."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths
