"""What the TUI knows about jobs: records from the worker, updated by its events.

:class:`JobView` is one job as the screens show it; :func:`apply_event` and
:func:`from_record` make new views (views are never changed in place, so the
app's reactive ``jobs`` mapping can be replaced as a whole).

>>> view = from_record(p.JobRecord(1, "queued", 0, 0, "a knight", "m", {}, 0.0))
>>> view = apply_event(view, p.Progress(job=1, step=3, total=10, elapsed_s=1.5, eta_s=3.5))
>>> view.state, view.step, view.fraction
('running', 3, 0.3)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from dgx_pixels.jobs import protocol as p

__all__ = ["JobView", "apply_event", "from_record"]


@dataclass(frozen=True, slots=True)
class JobView:
    """One job: its record's fields plus the live progress from events."""

    id: int
    state: str
    prompt: str
    model: str
    request: dict[str, Any]
    priority: int = 0
    attempts: int = 0
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    step: int = 0
    total: int = 0
    elapsed_s: float = 0.0
    eta_s: float | None = None
    preview: bytes | None = field(default=None, repr=False)
    outputs: tuple[dict[str, str], ...] = ()
    error: str = ""
    seconds: float | None = None
    loading: str = ""  # the model the running job waits for, while the worker loads it
    load_s: float | None = None  # how long its model took to load (None: it was warm)
    task: str = "generate"  # or a set's (animate: each step is a frame drawn)

    @property
    def fraction(self) -> float:
        """Steps done, 0 to 1."""
        return self.step / self.total if self.total else 0.0

    @property
    def unit(self) -> str:
        """What a step counts: a sampling step, or a frame of an animate job."""
        return "frame" if self.task == "animate" else "step"

    @property
    def terminal(self) -> bool:
        """Done, failed or cancelled."""
        return p.JobState(self.state).terminal


def from_record(record: p.JobRecord, old: JobView | None = None) -> JobView:
    """A view of ``record``, keeping ``old``'s live progress while the job still runs."""
    view = JobView(
        id=record.id,
        state=record.state,
        prompt=record.prompt,
        model=record.model,
        # A record carries its prompt once, beside the rest of the request (docs/protocol.md).
        request={**record.request, "prompt": record.prompt},
        priority=record.priority,
        attempts=record.attempts,
        created=record.created,
        started=record.started,
        finished=record.finished,
        outputs=tuple(record.outputs),
        error=record.error or "",
        task=record.task,
    )
    if old is not None and record.state == p.JobState.RUNNING:
        view = dataclasses.replace(
            view,
            step=old.step,
            total=old.total,
            elapsed_s=old.elapsed_s,
            eta_s=old.eta_s,
            preview=old.preview,
            loading=old.loading,
            load_s=old.load_s,
        )
    return view


def apply_event(view: JobView, event: p.Event) -> JobView:
    """``view`` after ``event`` (an event of this job).

    Only ``accepted`` (queued again) moves a finished job: a progress event
    that arrives after a listing showed the job done changes nothing.
    """
    replace = dataclasses.replace
    if view.terminal and not isinstance(event, p.Accepted):
        return view  # a late event of a job the listing already saw end
    match event:
        case p.Accepted(priority=priority):  # queued (again), or reprioritised
            return replace(
                view,
                state=p.JobState.QUEUED.value,
                priority=priority,
                step=0,
                total=0,
                eta_s=None,
                loading="",
            )
        case p.Loading(model=model):
            return replace(view, state=p.JobState.RUNNING.value, loading=model)
        case p.Loaded(seconds=seconds):
            return replace(view, loading="", load_s=seconds)
        case p.Started(attempt=attempt):
            return replace(
                view, state=p.JobState.RUNNING.value, attempts=attempt, step=0, loading=""
            )
        case p.Progress(step=step, total=total, elapsed_s=elapsed, eta_s=eta, preview=preview):
            return replace(
                view,
                state=p.JobState.RUNNING.value,
                step=step,
                total=total,
                elapsed_s=elapsed,
                eta_s=eta,
                preview=preview if preview is not None else view.preview,
            )
        case p.Done(outputs=outputs, seconds=seconds):
            return replace(
                view,
                state=p.JobState.DONE.value,
                outputs=tuple(outputs),
                seconds=seconds,
                eta_s=None,
            )
        case p.Failed(kind=kind, message=message):
            return replace(
                view, state=p.JobState.FAILED.value, error=f"{kind}: {message}", eta_s=None
            )
        case p.Cancelled():
            return replace(view, state=p.JobState.CANCELLED.value, eta_s=None)
    return view
