"""Starting a worker in the background, for front ends that need one (TUI, MCP).

:func:`spawn_worker` runs ``python -m dgx_pixels worker ...`` as a detached
process (its own session, so a Ctrl-C in the front end does not reach it),
logs its output to ``<data dir>/logs/worker.out``, and returns once the
worker has bound its sockets and answers (it may still be loading the model;
jobs submitted meanwhile wait in the queue).

Typical use::

    pong = find_worker(address)
    if pong is None:
        spawn_worker(model=model)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import JobError, WorkerUnavailableError
from dgx_pixels.paths import DataDir
from dgx_pixels.request import DEFAULT_MODEL

__all__ = ["SpawnedWorker", "spawn_worker"]


@dataclass
class SpawnedWorker:
    """A worker process started by :func:`spawn_worker`."""

    process: subprocess.Popen[bytes]
    address: str
    data: DataDir

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        """Wait until the worker has loaded its model and takes jobs (state ``ready``).

        Raises :class:`~dgx_pixels.errors.JobError` when it exits meanwhile (a model
        that cannot load) and :class:`~dgx_pixels.errors.WorkerUnavailableError`
        after ``timeout`` seconds.
        """
        from dgx_pixels.jobs.client import Client

        deadline = time.monotonic() + timeout
        with Client(self.address, timeout=timeout) as client:
            while client.ping().state != "ready":
                code = self.process.poll()
                if code is not None:
                    log = self.data.logs / "worker.out"
                    raise JobError(
                        f"the worker exited with code {code}: {_last_line(log)}", path=str(log)
                    )
                if time.monotonic() > deadline:
                    raise WorkerUnavailableError(
                        f"the worker was not ready within {timeout:g} s", address=self.address
                    )
                time.sleep(0.05)

    def stop(self, *, timeout: float = 60.0) -> int:
        """SIGTERM (drain: the running batch finishes), then SIGKILL after ``timeout``; the code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def spawn_worker(
    *,
    model: str = DEFAULT_MODEL,
    data_dir: str | os.PathLike[str] | None = None,
    bind: str | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> SpawnedWorker:
    """Start ``dgx-pixels worker --model MODEL`` and wait until it serves.

    ``args`` are further worker options (``["--batch-size", "8"]``). Raises
    :class:`~dgx_pixels.errors.JobError` with the worker's last log line when
    it exits instead (a bad model id, another worker on the data directory, a
    busy port), and :class:`~dgx_pixels.errors.WorkerUnavailableError` when it
    has not bound its sockets within ``timeout`` seconds.
    """
    data = DataDir.resolve(data_dir).create()
    command = [sys.executable, "-m", "dgx_pixels", "worker", "--model", model]
    command += ["--data-dir", str(data.root), *(["--bind", bind] if bind else []), *args]
    log_path = data.logs / "worker.out"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else dict(env),
        )
    deadline = time.monotonic() + timeout
    while True:
        address = _bound_address(data.worker_info, process.pid)
        if address is not None:
            return SpawnedWorker(process, address, data)
        code = process.poll()
        if code is not None:
            raise JobError(
                f"the worker exited with code {code}: {_last_line(log_path)}",
                path=str(log_path),
            )
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise WorkerUnavailableError(
                f"the worker did not start within {timeout:g} s; see {log_path}",
                path=str(log_path),
            )
        time.sleep(0.05)


def _bound_address(info_path: Path, pid: int) -> str | None:
    """The request address in ``worker.json`` once the worker ``pid`` wrote it."""
    try:
        info = json.loads(info_path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("pid") != pid:
        return None  # a file left by an earlier worker
    address = info.get("address")
    return address if isinstance(address, str) else None


def _last_line(path: Path) -> str:
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "(no output)"
