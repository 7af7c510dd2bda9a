"""The durable job store: one SQLite file (WAL) in the data directory.

A job moves through :class:`~dgx_pixels.jobs.protocol.JobState`::

    queued --claim--> running --finish--> done
      |                 |  \\--fail-----> failed
      |                 |   \\-cancel---> cancelled
      |                 \\--requeue / recover (worker died) --> queued
      \\--cancel--> cancelled

Every transition is one transaction, so a crash at any point leaves each job
in exactly one state. ``attempts`` counts the runs that started; a job found
``running`` when a worker starts (its worker died) goes back to ``queued``
unless it has used ``max_attempts``, then it is ``failed``. A job's outputs are
recorded in the same transaction that marks it done.

The file's schema version is ``PRAGMA user_version``; opening a store runs
the :data:`MIGRATIONS` it lacks, in order, each in one transaction (a store
made before versioning is recognised by its columns). A store from a newer
dgx-pixels is refused. Every database error, at open or in any query, is a
:class:`~dgx_pixels.errors.StoreError` naming the file.

One connection per thread: :class:`JobStore` objects are cheap; open one in
each thread that needs the store.

>>> import tempfile, pathlib
>>> from dgx_pixels.request import GenerationRequest
>>> store = JobStore(pathlib.Path(tempfile.mkdtemp()) / "jobs.sqlite3")
>>> job = store.submit(GenerationRequest(prompt="a slime", seed=1))
>>> job.state, job.attempts
('queued', 0)
>>> [j.id for j in store.claim_batch(lambda r: r.size, max_size=4)]
[1]
>>> store.finish(1, [{"sprite": "a-slime-1.png"}]).state
'done'
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from dgx_pixels.errors import DgxPixelsError, JobError, RequestError, StoreError
from dgx_pixels.jobs.protocol import JobRecord, JobState, error_code
from dgx_pixels.request import GenerationRequest

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "JobStore",
    "Recovery",
    "request_of",
]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

#: Runs a job may start before a worker death marks it failed instead of queued.
DEFAULT_MAX_ATTEMPTS = 3

#: How many queued jobs a claim looks through for batch partners.
CLAIM_WINDOW = 256

#: The schema this code reads and writes, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 3

#: ``MIGRATIONS[n]`` takes a store from schema ``n`` to ``n + 1``, in one
#: transaction with the new ``user_version``. Append, never edit: a store on
#: a user's disk may be at any earlier version.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: the first job store.
    (
        """CREATE TABLE jobs (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            state            TEXT    NOT NULL CHECK (state IN
                                ('queued', 'running', 'done', 'failed', 'cancelled')),
            priority         INTEGER NOT NULL DEFAULT 0,
            attempts         INTEGER NOT NULL DEFAULT 0,
            prompt           TEXT    NOT NULL,
            model            TEXT    NOT NULL,
            request          TEXT    NOT NULL,
            created          REAL    NOT NULL,
            started          REAL,
            finished         REAL,
            outputs          TEXT    NOT NULL DEFAULT '[]',
            error_kind       TEXT,
            error            TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX jobs_queue ON jobs (state, priority DESC, id)",
    ),
    # 1 -> 2: submit --force, recorded with the job.
    ("ALTER TABLE jobs ADD COLUMN force INTEGER NOT NULL DEFAULT 0",),
    # 2 -> 3: what a job does (protocol.TASKS); every earlier job generated sprites.
    ("ALTER TABLE jobs ADD COLUMN task TEXT NOT NULL DEFAULT 'generate'",),
)

_COLUMNS = (
    "id, state, priority, attempts, prompt, model, request, created, started, finished, "
    "outputs, error_kind, error, force, task"
)


def _database_errors(method: Callable[P, T]) -> Callable[P, T]:
    """Turn any ``sqlite3.Error`` of ``method`` into :class:`StoreError` (no raw traceback)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            store = args[0]
            path = getattr(store, "path", "?")
            raise StoreError(
                f"the job store {path} failed: {exc}",
                path=str(path),
                sqlite_error=type(exc).__name__,
            ) from None

    return wrapper


@dataclass(frozen=True, slots=True)
class Recovery:
    """What :meth:`JobStore.recover` did with jobs a dead worker left running."""

    requeued: tuple[int, ...]
    failed: tuple[int, ...]
    cancelled: tuple[int, ...]


class JobStore:
    """Jobs in a SQLite file. Open one per thread; all methods are transactions."""

    def __init__(self, path: Path, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self.path = path
        self.max_attempts = max_attempts
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the job store {path}: {exc}", path=str(path)) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a committed job survives a power cut
            self._db.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"cannot open the job store {path}: {exc}", path=str(path)) from None
        except StoreError:
            self._db.close()
            raise

    def close(self) -> None:
        """Close this connection."""
        self._db.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the file (:data:`SCHEMA_VERSION` once open)."""
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    @_database_errors
    def get(self, job_id: int) -> JobRecord:
        """The job's record; :class:`JobError` if there is none."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobError(f"no job {job_id}", job=job_id, kind="not_found")
        return _record(row)

    @_database_errors
    def page(
        self, states: Iterable[JobState | str] | None = None, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[JobRecord], int]:
        """A page of jobs, newest first, and how many match ``states`` in all."""
        where = ""
        args: tuple[str, ...] = ()
        wanted = tuple(str(JobState(s)) for s in states) if states is not None else None
        if wanted is not None:
            where = f"WHERE state IN ({', '.join('?' * len(wanted))})" if wanted else "WHERE 0"
            args = wanted
        total = self._db.execute(f"SELECT count(*) FROM jobs {where}", args).fetchone()[0]
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return [_record(r) for r in rows], int(total)

    @_database_errors
    def counts(self) -> dict[str, int]:
        """How many jobs are in each state (keys: :class:`JobState` values)."""
        got = dict(self._db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        return {s.value: int(got.get(s.value, 0)) for s in JobState}

    @_database_errors
    def cancel_requested(self, job_id: int) -> bool:
        """Whether a cancel was asked for this (running) job."""
        row = self._db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,))
        found = row.fetchone()
        return bool(found and found[0])

    # ------------------------------------------------------------------ writing

    @_database_errors
    def submit(
        self, request: GenerationRequest, *, priority: int = 0, force: bool = False
    ) -> JobRecord:
        """Queue ``request``; returns the new job (``force``: may replace files in ``out``).

        Raises :class:`RequestError` when a field (``extra``) holds something JSON cannot.
        """
        return self.submit_task(
            "generate", request.to_dict(), prompt=request.prompt, model=request.model,
            priority=priority, force=force,
        )  # fmt: skip

    @_database_errors
    def submit_task(
        self,
        task: str,
        params: dict[str, Any],
        *,
        prompt: str,
        model: str,
        priority: int = 0,
        force: bool = False,
    ) -> JobRecord:
        """Queue a ``task`` job with its (checked) parameters; ``prompt`` and ``model``
        are what job lists show. Raises :class:`RequestError` for non-JSON parameters."""
        try:
            data = json.dumps(params, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise RequestError(f"request fields must be plain JSON data: {exc}") from None
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO jobs (state, priority, prompt, model, request, created, force, task) "
                "VALUES ('queued', ?, ?, ?, ?, ?, ?, ?)",
                (priority, prompt, model, data, time.time(), int(force), task),
            )
            job_id = cur.lastrowid
        assert job_id is not None  # an INSERT always sets it
        return self.get(job_id)

    @_database_errors
    def claim_batch(
        self, batch_key: Callable[[GenerationRequest], Hashable], *, max_size: int
    ) -> list[JobRecord]:
        """Atomically move the next queued job and its batch partners to ``running``.

        The highest-priority (then oldest) queued job leads; queued jobs whose
        ``batch_key`` equals the leader's join it, in queue order, up to
        ``max_size``. A job of another task than ``generate`` runs alone (a
        batch of one; ``batch_key`` never sees it). A job whose request no
        longer parses, or that ``batch_key`` rejects, is marked failed.
        Returns ``[]`` when nothing is queued.
        """
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        now = time.time()
        with self._transaction():
            rows = self._db.execute(
                "SELECT id, request, task FROM jobs WHERE state = 'queued' "
                "ORDER BY priority DESC, id ASC LIMIT ?",
                (CLAIM_WINDOW,),
            ).fetchall()
            leader_key: Hashable = None
            chosen: list[int] = []
            for job_id, text, task in rows:
                try:
                    key = (
                        batch_key(GenerationRequest.from_dict(json.loads(text)))
                        if task == "generate"
                        else ("alone", job_id)  # equal to no other job's key
                    )
                except (DgxPixelsError, ValueError) as exc:
                    self._db.execute(
                        "UPDATE jobs SET state = 'failed', finished = ?, error_kind = ?, "
                        "error = ? WHERE id = ?",
                        (now, error_code(exc), str(exc), job_id),
                    )
                    continue
                if not chosen:
                    leader_key = key
                if key == leader_key:
                    chosen.append(job_id)
                    if len(chosen) == max_size:
                        break
            self._db.executemany(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started = ?, "
                "finished = NULL WHERE id = ?",
                [(now, j) for j in chosen],
            )
        return [self.get(j) for j in chosen]

    @_database_errors
    def finish(self, job_id: int, outputs: Sequence[dict[str, str]]) -> JobRecord:
        """Mark a running job done with its outputs, in one transaction."""
        return self._end_running(
            job_id, "done", outputs=json.dumps(list(outputs)), error_kind=None, error=None
        )

    @_database_errors
    def fail(self, job_id: int, kind: str, message: str) -> JobRecord:
        """Mark a running job failed with its error code (``protocol.ERROR_CODES``) and message."""
        return self._end_running(job_id, "failed", error_kind=kind, error=message)

    @_database_errors
    def mark_cancelled(self, job_id: int) -> JobRecord:
        """Mark a running job cancelled (its interrupt took effect)."""
        return self._end_running(job_id, "cancelled")

    @_database_errors
    def cancel(self, job_id: int) -> JobRecord:
        """Cancel a job: a queued one ends ``cancelled`` now; a running one is flagged.

        The worker interrupts a flagged running job and calls
        :meth:`mark_cancelled`. A finished job is returned unchanged.
        """
        with self._transaction():
            self._db.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ? "
                "WHERE id = ? AND state = 'queued'",
                (time.time(), job_id),
            )
            self._db.execute(
                "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'",
                (job_id,),
            )
        return self.get(job_id)

    @_database_errors
    def reprioritise(self, job_id: int, priority: int) -> JobRecord:
        """Give a queued job another priority; :class:`JobError` (kind ``state``) when the
        job has left the queue, ``not_found`` when there is none."""
        with self._transaction():
            cur = self._db.execute(
                "UPDATE jobs SET priority = ? WHERE id = ? AND state = 'queued'",
                (priority, job_id),
            )
        job = self.get(job_id)
        if cur.rowcount != 1:
            raise JobError(
                f"job {job_id} is {job.state}; only a queued job can be reprioritised",
                job=job_id,
                kind="state",
            )
        return job

    @_database_errors
    def retry(self, job_id: int) -> JobRecord:
        """Queue a failed or cancelled job again as a new job: the same task, request,
        model, priority and ``force``; :class:`JobError` (kind ``state``) for any
        other job, ``not_found`` when there is none."""
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO jobs (state, priority, prompt, model, request, created, force, task) "
                "SELECT 'queued', priority, prompt, model, request, ?, force, task FROM jobs "
                "WHERE id = ? AND state IN ('failed', 'cancelled')",
                (time.time(), job_id),
            )
            new_id = cur.lastrowid if cur.rowcount == 1 else None
        if new_id is None:
            job = self.get(job_id)  # raises not_found when there is none
            raise JobError(
                f"job {job_id} is {job.state}; only a failed or cancelled job can be retried",
                job=job_id,
                kind="state",
            )
        return self.get(new_id)

    @_database_errors
    def requeue(self, job_ids: Iterable[int], *, count_attempt: bool = False) -> None:
        """Put running jobs back in the queue (a graceful stop, a batch partner cancelled).

        Unless ``count_attempt``, the interrupted run does not count as an attempt.
        """
        delta = 0 if count_attempt else 1
        with self._transaction():
            self._db.executemany(
                "UPDATE jobs SET state = 'queued', attempts = max(attempts - ?, 0), "
                "started = NULL WHERE id = ? AND state = 'running'",
                [(delta, j) for j in job_ids],
            )

    @_database_errors
    def recover(self) -> Recovery:
        """Deal with jobs left ``running`` by a worker that died; call once at start.

        A job with a pending cancel is cancelled; one that has used
        ``max_attempts`` is failed; every other one is queued again.
        """
        now = time.time()
        with self._transaction():
            rows = self._db.execute(
                "SELECT id, attempts, cancel_requested FROM jobs WHERE state = 'running'"
            ).fetchall()
            requeued, failed, cancelled = [], [], []
            for job_id, attempts, cancel in rows:
                if cancel:
                    cancelled.append(job_id)
                    self._db.execute(
                        "UPDATE jobs SET state = 'cancelled', finished = ? WHERE id = ?",
                        (now, job_id),
                    )
                elif attempts >= self.max_attempts:
                    failed.append(job_id)
                    self._db.execute(
                        "UPDATE jobs SET state = 'failed', finished = ?, error_kind = ?, "
                        "error = ? WHERE id = ?",
                        (
                            now,
                            "worker_died",
                            f"the worker stopped during each of {attempts} attempts",
                            job_id,
                        ),
                    )
                else:
                    requeued.append(job_id)
                    self._db.execute(
                        "UPDATE jobs SET state = 'queued', started = NULL WHERE id = ?", (job_id,)
                    )
        return Recovery(tuple(requeued), tuple(failed), tuple(cancelled))

    # ----------------------------------------------------------------- internals

    def _end_running(self, job_id: int, state: str, **columns: Any) -> JobRecord:
        sets = ", ".join(f"{name} = ?" for name in columns)
        with self._transaction():
            cur = self._db.execute(
                f"UPDATE jobs SET state = ?, finished = ?{', ' if sets else ''}{sets} "
                "WHERE id = ? AND state = 'running'",
                (state, time.time(), *columns.values(), job_id),
            )
            if cur.rowcount != 1:
                current = self.get(job_id).state
                raise JobError(
                    f"job {job_id} is {current}, not running; cannot mark it {state}",
                    job=job_id,
                )
        return self.get(job_id)

    def _migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`, one migration per transaction."""
        while True:
            with self._transaction():  # re-read inside: another process may have migrated
                version = self.schema_version
                if version == 0:
                    version = self._unversioned_schema()
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"the job store {self.path} has schema version {version}, newer than "
                        f"this dgx-pixels knows ({SCHEMA_VERSION}); upgrade dgx-pixels",
                        path=str(self.path),
                    )
                if version == SCHEMA_VERSION:
                    self._db.execute(f"PRAGMA user_version = {version}")
                    return
                for statement in MIGRATIONS[version]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version + 1}")
                log.info("job store %s: schema %d -> %d", self.path, version, version + 1)

    def _unversioned_schema(self) -> int:
        """The schema of a file without ``user_version``: 0 when new, else what its
        columns say (stores made before versioning: 1 without ``force``, 2 with it)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if not columns:
            return 0
        return 2 if "force" in columns else 1

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): one writer at a time."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:  # a full disk can fail the commit: leave no transaction open
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        if self._db.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


def _record(row: tuple[Any, ...]) -> JobRecord:
    (job_id, state, priority, attempts, prompt, model, request, created) = row[:8]
    started, finished, outputs, error_kind, error, force, task = row[8:]
    fields = json.loads(request)
    fields.pop("prompt", None)  # the record's ``prompt``: a reply carries it once
    return JobRecord(
        id=job_id,
        state=state,
        priority=priority,
        attempts=attempts,
        prompt=prompt,
        model=model,
        request=fields,
        created=created,
        started=started,
        finished=finished,
        outputs=json.loads(outputs),
        error_kind=error_kind,
        error=error,
        force=bool(force),
        task=task,
    )


def request_of(job: JobRecord) -> GenerationRequest:
    """The job's :class:`GenerationRequest` (as validated when it was queued)."""
    try:
        return GenerationRequest.from_dict({**job.request, "prompt": job.prompt})
    except RequestError as exc:
        raise RequestError(f"job {job.id}: {exc.message}", job=job.id) from None
