"""The job system: a warm worker, a durable SQLite queue, live progress over ZeroMQ.

A worker (``dgx-pixels worker``, or :func:`spawn_worker` from a front end)
owns the model and runs queued jobs (sprites in batches; an animation,
tiles, a tileset or a LoRA training alone: :data:`TASKS`); clients find it with
:func:`find_worker` and submit, watch and cancel jobs through :class:`Client`
(or :class:`AsyncClient`). Jobs, outputs, logs and keys live in one data
directory (:mod:`dgx_pixels.paths`). The wire format is defined in
:mod:`dgx_pixels.jobs.protocol` and documented in ``docs/protocol.md``.

Importing this package imports pyzmq (the ``jobs`` extra), never torch.
"""

from __future__ import annotations

from dgx_pixels.jobs.client import AsyncClient, Client, find_worker, resolve_address
from dgx_pixels.jobs.protocol import (
    DEFAULT_ADDRESS,
    PROTOCOL_VERSION,
    TASKS,
    JobRecord,
    JobState,
    WorkerState,
)
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker

__all__ = [
    "DEFAULT_ADDRESS",
    "PROTOCOL_VERSION",
    "TASKS",
    "AsyncClient",
    "Client",
    "JobRecord",
    "JobState",
    "SpawnedWorker",
    "WorkerState",
    "find_worker",
    "resolve_address",
    "spawn_worker",
]
