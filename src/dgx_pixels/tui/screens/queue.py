"""Queue: every job the worker knows, with state, progress and ETA; cancel, retry,
reprioritise.

Cancel stops a queued job at once and a running one within a denoising step.
Retry has the worker queue a failed or cancelled job again, as a new job of
the same task, request and priority (sprites, sets and trainings alike).
``+`` and ``-`` raise and lower a queued job's priority by one (higher runs
first; the worker bounds it). A running job whose model the
worker is loading shows as ``loading``, with the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.jobs.limits import LIMITS
from dgx_pixels.tui.jobbook import JobView
from dgx_pixels.tui.messages import RequestFailed, Submitted
from dgx_pixels.tui.screens._base import PixelsScreen

__all__ = ["QueueScreen", "job_row"]

COLUMNS = ("job", "state", "progress", "ETA", "tries", "prio", "prompt")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"


def job_row(view: JobView, now: float) -> tuple[str, ...]:
    """The table row of one job.

    >>> job_row(JobView(3, "running", "a slime", "m", {}, step=4, total=8, eta_s=2.0), 0.0)
    ('#3', 'running', '4/8 50%', '2 s', '0', '0', 'a slime')
    >>> job_row(JobView(4, "running", "a bat", "m2", {}, loading="m2"), 0.0)[:3]
    ('#4', 'loading', 'loading m2')
    """
    state = view.state
    if view.state == "running" and view.loading:
        state, progress = "loading", f"loading {view.loading}"
    elif view.state == "running" and view.total:
        progress = f"{view.step}/{view.total} {view.fraction:.0%}"
    elif view.state == "done":
        took = view.seconds
        if took is None and view.finished is not None and view.started is not None:
            took = view.finished - view.started
        progress = f"done in {_seconds(took)}"
    elif view.state == "queued":
        progress = f"waiting {_seconds(max(0.0, now - view.created))}" if view.created else "-"
    else:
        progress = view.error[:40] if view.error else "-"
    eta = _seconds(view.eta_s) if view.state == "running" else "-"
    return (
        f"#{view.id}",
        state,
        progress,
        eta,
        str(view.attempts),
        str(view.priority),
        view.prompt,
    )


class QueueScreen(PixelsScreen):
    """All jobs, newest first."""

    MODE = "queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel_job", "Cancel job", id="queue.cancel"),
        Binding("r", "retry_job", "Retry job", id="queue.retry"),
        Binding("plus", "priority(1)", "Raise priority", id="queue.raise"),
        Binding("minus", "priority(-1)", "Lower priority", id="queue.lower"),
    ]
    DEFAULT_CSS = """
    QueueScreen #queue-jobs { height: 1fr; }
    QueueScreen #queue-message { height: auto; max-height: 2; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._asked: dict[int, int] = {}  # job id -> the priority last asked for

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="queue-jobs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="queue-message")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self.watch(self.app, "jobs", self._jobs_changed)
        table.focus()

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            ("Queue: cancel the selected job", self.action_cancel_job, "c"),
            ("Queue: retry the selected job", self.action_retry_job, "r"),
            ("Queue: raise the selected job's priority", lambda: self.action_priority(1), "+"),
            ("Queue: lower the selected job's priority", lambda: self.action_priority(-1), "-"),
        ]

    def _jobs_changed(self, jobs: dict[int, JobView]) -> None:
        table = self.query_one(DataTable)
        now = time.time()
        wanted = sorted(jobs, reverse=True)
        present = {int(str(key.value)) for key in table.rows}
        if present - set(wanted) or [k for k in wanted if k not in present]:
            selected = self.selected()
            table.clear()
            for job_id in wanted:
                table.add_row(*job_row(jobs[job_id], now), key=str(job_id))
            if selected is not None and selected.id in jobs:
                table.move_cursor(row=table.get_row_index(str(selected.id)))
            return
        for job_id in wanted:
            for column, value in zip(COLUMNS, job_row(jobs[job_id], now), strict=True):
                table.update_cell(str(job_id), column, value)

    def selected(self) -> JobView | None:
        """The job under the cursor."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.studio.jobs.get(int(str(key.value)))

    def say(self, text: str) -> None:
        self.query_one("#queue-message", Static).update(text)

    def action_cancel_job(self) -> None:
        job = self.selected()
        if job is None:
            return
        if job.terminal:
            self.say(f"job #{job.id} is {job.state}: nothing to cancel")
            return
        self.say(f"cancelling job #{job.id} ...")
        self._cancel(job.id)

    @work(thread=True, group="queue-requests")
    def _cancel(self, job_id: int) -> None:
        try:
            with self.studio.link.client() as client:
                record = client.cancel(job_id)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "cancel"))
            return
        self.post_message(Submitted(record, "cancel"))

    def action_priority(self, step: int) -> None:
        """Move the selected queued job's priority by ``step`` (from the last one asked for,
        so presses quicker than the worker's answers all count)."""
        job = self.selected()
        if job is None:
            return
        if job.state != "queued":
            self.say(f"job #{job.id} is {job.state}: only a queued job can be reprioritised")
            return
        wanted = self._asked.get(job.id, job.priority) + step
        if abs(wanted) > LIMITS.priority:
            self.say(f"job #{job.id}'s priority is at its limit ({job.priority})")
            return
        self._asked[job.id] = wanted
        self._reprioritise(job.id, wanted)

    @work(thread=True, group="queue-requests")
    def _reprioritise(self, job_id: int, priority: int) -> None:
        try:
            with self.studio.link.client() as client:
                record = client.reprioritise(job_id, priority)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "priority"))
            return
        self.post_message(Submitted(record, "priority"))

    def action_retry_job(self) -> None:
        job = self.selected()
        if job is None:
            return
        if job.state not in ("failed", "cancelled"):
            self.say(f"job #{job.id} is {job.state}: only failed or cancelled jobs are retried")
            return
        self._retry(job.id)

    @work(thread=True, group="queue-requests")
    def _retry(self, job_id: int) -> None:
        """The worker queues the job again from what it kept (any task, its inputs)."""
        try:
            with self.studio.link.client() as client:
                record = client.retry(job_id)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "retry"))
            return
        self.post_message(Submitted(record, "retry"))

    def on_submitted(self, message: Submitted) -> None:
        job = message.job
        if message.tag == "retry":
            self.say(f"queued again as job #{job.id}")
        elif message.tag == "priority":
            if self._asked.get(job.id) == job.priority:  # the last one asked for: settled
                del self._asked[job.id]
            self.say(f"job #{job.id} is now at priority {job.priority}")
        else:
            self.say(f"job #{job.id} is now {job.state}")

    def on_request_failed(self, message: RequestFailed) -> None:
        if message.tag == "priority":
            self._asked.clear()  # start again from the priorities the worker reports
        self.say(message.message)
