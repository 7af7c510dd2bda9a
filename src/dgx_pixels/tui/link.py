"""The TUI's line to a worker: find it, or start one; its state as a small value.

:class:`WorkerLink` is used from Textual thread workers only (every call may
wait on the network or on a starting process), never from the event loop.
It answers with :class:`WorkerStatus` values the app shows as they are:
``connecting``, ``starting`` (a worker process is being launched),
``loading`` / ``ready`` / ``busy`` / ``draining`` (what the worker says), or
``gone`` (nothing answers) and ``failed`` (the worker could not be started).

>>> WorkerStatus("ready", "tcp://127.0.0.1:5557", model="random:sdxl-tiny").noise
True
>>> WorkerStatus("gone", "tcp://127.0.0.1:5557").serving
False
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from dgx_pixels.errors import DgxPixelsError, WorkerUnavailableError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker
from dgx_pixels.request import DEFAULT_MODEL

__all__ = ["LinkState", "WorkerLink", "WorkerStatus", "is_noise_model"]


class LinkState:
    """The states of :class:`WorkerStatus` beyond the worker's own."""

    CONNECTING = "connecting"
    STARTING = "starting"
    GONE = "gone"
    FAILED = "failed"


def is_noise_model(model_id: str) -> bool:
    """True for random-weight models, whose output is noise and must say so."""
    return model_id.startswith("random:")


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """What the app knows about its worker right now."""

    state: str
    address: str
    model: str = ""
    pid: int | None = None
    queued: int = 0
    running: int = 0
    detail: str = ""
    spawned: bool = False
    version: str = ""
    warm: tuple[str, ...] = ()  # the models the worker has loaded, most recently used first
    loading: str = ""  # the model it is loading now, if any

    @property
    def noise(self) -> bool:
        """The worker's model has random weights: its output is noise."""
        return is_noise_model(self.model)

    @property
    def serving(self) -> bool:
        """A worker answers (it may still be loading its model)."""
        return self.state in {s.value for s in p.WorkerState} - {p.WorkerState.STOPPED}

    def line(self) -> str:
        """One line for the status bar."""
        match self.state:
            case LinkState.CONNECTING:
                return f"connecting to {self.address}"
            case LinkState.STARTING:
                return f"starting a worker for {self.model} at {self.address}"
            case LinkState.GONE:
                return f"no worker answers at {self.address}" + (
                    f" ({self.detail})" if self.detail else ""
                )
            case LinkState.FAILED:
                return f"the worker could not start: {self.detail}"
        noise = " (random weights: output is noise)" if self.noise else ""
        others = len(set(self.warm) - {self.model})
        more = f" (+{others} warm)" if others else ""
        loading = f" | loading {self.loading}" if self.loading else ""
        return (
            f"worker {self.state}: {self.model}{noise}{more}{loading} | {self.queued} queued, "
            f"{self.running} running | {self.address}"
        )


@dataclass
class WorkerLink:
    """Finds the worker at ``address``, or starts one there with ``model`` and ``data_dir``."""

    address: str
    model: str | None = None
    data_dir: Path | None = None
    may_spawn: bool = True
    ping_timeout: float = 1.0
    #: How long a request (submit, cancel, list) may wait: a busy worker answers slowly.
    request_timeout: float = 15.0
    spawn_args: tuple[str, ...] = ("--metrics-port", "0", "--drain-timeout", "5")
    spawned: SpawnedWorker | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def client(self, timeout: float | None = None) -> Client:
        """A new blocking client of the worker (one per thread)."""
        chosen = self.request_timeout if timeout is None else timeout
        return Client(self.address, timeout=chosen, data_dir=self.data_dir)

    def ping(self) -> WorkerStatus:
        """The worker's status now (``gone`` when nothing answers in ``ping_timeout``)."""
        try:
            with self.client(self.ping_timeout) as client:
                pong = client.ping()
        except WorkerUnavailableError:
            return WorkerStatus(
                LinkState.GONE, self.address, model=self.model or "", spawned=self._own()
            )
        return WorkerStatus(
            pong.state,
            self.address,
            model=pong.model,
            pid=pong.pid,
            queued=pong.queued,
            running=pong.running,
            spawned=self._own(pong.pid),
            version=pong.version,
            warm=tuple(pong.warm),
            loading=pong.loading or "",
        )

    def start(self) -> WorkerStatus:
        """Start a worker (when allowed and none answers); its status, or ``failed``."""
        with self._lock:
            status = self.ping()
            if status.serving or not self.may_spawn or self.spawned is not None:
                return status
            model = self.model or DEFAULT_MODEL
            try:
                self.spawned = spawn_worker(
                    model=model, data_dir=self.data_dir, bind=self.address, args=self.spawn_args
                )
            except DgxPixelsError as exc:
                return WorkerStatus(LinkState.FAILED, self.address, model=model, detail=exc.message)
            return self.ping()

    def stop(self) -> None:
        """Stop the worker this link started (if any); a worker found running is left alone."""
        with self._lock:
            if self.spawned is not None:
                self.spawned.stop(timeout=15.0)
                self.spawned = None

    def _own(self, pid: int | None = None) -> bool:
        return self.spawned is not None and (pid is None or self.spawned.pid == pid)
