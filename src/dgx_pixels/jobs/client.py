"""Talking to a worker: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio).

Both have the same methods: ``ping``, ``submit``, ``submit_set`` (an
animation, tiles or a tileset: one asset), ``cancel``, ``status``,
``jobs``, ``models``, ``events``, ``watch`` and ``run`` (submit and wait). Requests go over a DEALER
socket with a timeout; no answer in time raises
:class:`~dgx_pixels.errors.WorkerUnavailableError`. An ``error`` reply raises
the matching error (:class:`~dgx_pixels.errors.RequestError` for a bad
request, :class:`~dgx_pixels.errors.JobError` for an unknown job or a model
the worker does not serve, :class:`~dgx_pixels.errors.ProtocolError` for a
protocol mismatch).

Events come from the worker's PUB socket, whose address the worker reports in
``ping``. ``watch(job)`` yields one job's events until it ends, and checks the
job's status whenever the stream is quiet, so an event missed while
subscribing never leaves a watcher waiting.

Typical use::

    with Client() as client:                       # --worker / DGX_PIXELS_WORKER / default
        job = client.submit(GenerationRequest(prompt="a knight", model=client.ping().model))
        for event in client.watch(job.id):
            print(event)
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import zmq
import zmq.asyncio

from dgx_pixels.errors import (
    DgxPixelsError,
    JobError,
    ModelError,
    ProtocolError,
    RequestError,
    WorkerUnavailableError,
)
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.roots import FROM_INPUT, dataset_to_send, file_to_send, files_to_send
from dgx_pixels.jobs.security import (
    ClientKeys,
    endpoint_host,
    ip_of,
    is_loopback,
    load_client_keys,
)
from dgx_pixels.paths import DataDir
from dgx_pixels.request import GenerationRequest

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "AsyncClient",
    "AsyncEventStream",
    "Client",
    "EventStream",
    "final_event",
    "find_worker",
    "job_error",
    "resolve_address",
]

DEFAULT_TIMEOUT_S = 5.0

#: How long ``watch`` waits for an event before it checks the job's status.
WATCH_RECHECK_S = 1.0

_TERMINAL_EVENTS = (p.Done, p.Failed, p.Cancelled)
R = TypeVar("R", bound=p.Reply)


def resolve_address(address: str | None = None) -> str:
    """The worker address in effect: ``address``, ``$DGX_PIXELS_WORKER``, or the default.

    >>> resolve_address("tcp://127.0.0.1:6000")
    'tcp://127.0.0.1:6000'
    """
    chosen = address or os.environ.get(p.WORKER_ENV, "").strip() or p.DEFAULT_ADDRESS
    is_loopback(chosen)  # raises InputError for a malformed address
    return chosen


def find_worker(address: str | None = None, *, timeout: float = 0.5) -> p.Pong | None:
    """The worker's ``pong`` when one answers at ``address`` within ``timeout``, else None.

    This is how ``generate`` decides between a running worker and the engine
    in-process. Malformed addresses and missing keys still raise.
    """
    with Client(address, timeout=timeout) as client:
        try:
            return client.ping()
        except WorkerUnavailableError:
            return None


def _client_keys(address: str, keys: ClientKeys | None, data_dir: str | Path | None) -> Any:
    if keys is not None or is_loopback(address):
        return keys
    folder = DataDir.resolve(data_dir).keys
    found = load_client_keys(folder)
    if found is None:
        raise JobError(
            f"{address} is not loopback, so the worker needs CURVE keys: copy the worker's "
            f"keys/server.key and keys/client.key_secret into {folder}",
            path=str(folder),
        )
    return found


def _events_endpoint(address: str, events: str) -> str:
    """The worker's event endpoint as seen from here (a wildcard host becomes ``address``'s)."""
    if not events.startswith("tcp://"):
        return events
    host = endpoint_host(events)
    ip = ip_of(host)
    if host == "*" or (ip is not None and ip.is_unspecified):
        port = events.rpartition(":")[2]
        return f"tcp://{_bracket(endpoint_host(address))}:{port}"
    return events


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _decode_reply(frame: bytes) -> p.Reply:
    reply = p.decode(frame, expect=p.REPLY_TYPES)
    assert isinstance(reply, p.Reply)  # expect= admits only replies
    return reply


def _expect(reply: p.Reply, want: type[R]) -> R:
    if isinstance(reply, p.ErrorReply):
        raise _error_from(reply)
    if not isinstance(reply, want):
        raise ProtocolError(f"expected a {want.TYPE!r} reply, got {reply.TYPE!r}")
    return reply


def _error_from(reply: p.ErrorReply) -> Exception:
    kind = reply.kind
    if kind == p.ErrorKind.REQUEST:
        return RequestError(reply.message)
    if kind == p.ErrorKind.MODEL:
        return ModelError(reply.message)
    if kind in (p.ErrorKind.NOT_FOUND, p.ErrorKind.STATE, p.ErrorKind.INTERNAL):
        return JobError(reply.message, kind=kind)
    return ProtocolError(reply.message, kind=kind)


def _decode_event(frames: list[bytes]) -> tuple[str, p.Event] | None:
    if len(frames) != 2:
        return None
    try:
        event = p.decode(frames[1], expect=p.EVENT_TYPES)
    except ProtocolError:
        return None  # a newer worker's event: skip rather than stop watching
    assert isinstance(event, p.Event)
    return frames[0].decode(errors="replace"), event


def _topics(jobs: Iterable[int] | None, worker: bool) -> set[str]:
    topics = {p.job_topic(j) for j in jobs} if jobs is not None else set()
    if worker:
        topics.add("worker")
    return topics


def final_event(job: p.JobRecord) -> p.Event | None:
    """The terminal event matching a finished job's record (None while it is not finished)."""
    match job.job_state:
        case p.JobState.DONE:
            seconds = (job.finished or 0.0) - (job.started or job.finished or 0.0)
            return p.Done(job=job.id, outputs=job.outputs, seconds=seconds)
        case p.JobState.FAILED:
            return p.Failed(job=job.id, kind=job.error_kind or "internal", message=job.error or "")
        case p.JobState.CANCELLED:
            return p.Cancelled(job=job.id)
    return None


def job_error(job: p.JobRecord) -> DgxPixelsError:
    """The error to raise for a job that ended failed or cancelled.

    A failure's code (:data:`~dgx_pixels.jobs.protocol.ERROR_CODES`) gives its
    class (``OutputExistsError``, ``ModelError``...), so a job run on a worker
    ends with the same exit code as the same run in-process.
    """
    if job.state == p.JobState.CANCELLED:
        return JobError(f"job {job.id} was cancelled", job=job.id)
    cls = p.error_class(job.error_kind)
    message = job.error or f"job {job.id} failed"
    return cls(f"job {job.id} failed: {message}", job=job.id)


# ----------------------------------------------------------------------- sync


class _StreamBase:
    """What :class:`EventStream` and :class:`AsyncEventStream` share: the SUB socket,
    and sorting each received message into ours, a confirmation, or not ours."""

    def __init__(self, ctx: Any, endpoint: str, topics: set[str], keys: Any) -> None:
        self._topics = topics
        self._unconfirmed = set(topics or {""})
        self._early: collections.deque[p.Event] = collections.deque()
        self._sock = ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.IPV6, 1)
        if keys is not None:
            keys.apply(self._sock)
        for topic in topics or {""}:
            self._sock.setsockopt_string(zmq.SUBSCRIBE, topic)
        self._sock.connect(endpoint)

    def _take(self, frames: list[bytes]) -> p.Event | None:
        """The event in ``frames`` if it is one of ours; confirmations are noted, not returned."""
        got = _decode_event(frames)
        if got is None:
            return None
        topic, event = got
        if isinstance(event, p.Subscribed):  # ours, or another subscriber's welcome
            self._unconfirmed.discard(event.subscription)
            return None
        if self._topics and topic not in self._topics:
            return None  # a longer topic that shares our prefix (job.1 / job.12)
        return event

    def close(self) -> None:
        """Unsubscribe."""
        self._sock.close(linger=0)


class EventStream(_StreamBase):
    """A subscription to a worker's events; iterate it, or call :meth:`next` with a timeout.

    ``topics`` empty means every event.
    """

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the worker confirms every topic of this stream (``subscribed``).

        Events published before that moment are not delivered (ZeroMQ
        subscriptions travel asynchronously), so a client that must see a
        job's events from a given point subscribes, waits here, then acts.
        Events that arrive meanwhile are kept for :meth:`next`. False when
        the confirmations did not all come within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while self._unconfirmed:
            wait = deadline - time.monotonic()
            if wait <= 0 or not self._sock.poll(int(wait * 1000) + 1):
                return False
            event = self._take(self._sock.recv_multipart())
            if event is not None:
                self._early.append(event)
        return True

    def next(self, timeout: float | None = None) -> p.Event | None:
        """The next event, or None after ``timeout`` seconds without one."""
        if self._early:
            return self._early.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._sock.poll(None if wait is None else int(wait * 1000)):
                return None
            event = self._take(self._sock.recv_multipart())
            if event is not None:
                return event

    def __iter__(self) -> Iterator[p.Event]:
        while True:
            event = self.next()
            if event is not None:
                yield event

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ClientBase:
    """What :class:`Client` and :class:`AsyncClient` share: the address, keys and socket."""

    def __init__(
        self,
        address: str | None,
        *,
        timeout: float,
        keys: ClientKeys | None,
        data_dir: str | Path | None,
        context: Any,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.address = resolve_address(address)
        self.timeout = timeout
        self._keys = _client_keys(self.address, keys, data_dir)
        self._ctx = context
        self._rids = itertools.count(1)
        self._sock: Any = None
        self._events: str | None = None

    def close(self) -> None:
        """Close the request socket."""
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def _socket(self) -> Any:
        """The request socket (a DEALER), connected on first use."""
        if self._sock is None:
            sock = self._ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.IPV6, 1)
            if self._keys is not None:
                self._keys.apply(sock)
            sock.connect(self.address)
            self._sock = sock
        return self._sock

    def _no_answer(self) -> WorkerUnavailableError:
        """Drop the request socket (so a queued request is not sent later); the error to raise."""
        self.close()
        return WorkerUnavailableError(
            f"no worker answered at {self.address} within {self.timeout:g} s; "
            "start one with: dgx-pixels worker",
            address=self.address,
        )


class Client(_ClientBase):
    """A blocking client of one worker. Not thread-safe: one per thread."""

    def __init__(
        self,
        address: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        keys: ClientKeys | None = None,
        data_dir: str | Path | None = None,
    ) -> None:
        super().__init__(
            address, timeout=timeout, keys=keys, data_dir=data_dir, context=zmq.Context.instance()
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- requests

    def ping(self) -> p.Pong:
        """The worker's state, model, event address and queue counts."""
        pong = self._call(lambda rid: p.Ping(rid=rid), p.Pong)
        self._events = _events_endpoint(self.address, pong.events)
        return pong

    def submit(
        self, request: GenerationRequest, *, priority: int = 0, force: bool = False
    ) -> p.JobRecord:
        """Queue ``request``; returns the queued job.

        The request's ``init``, ``mask`` and palette file are read here and
        sent as bytes; ``out`` and local LoRA files name places on the worker,
        inside its roots (see :mod:`dgx_pixels.jobs.roots`). ``force`` lets the
        job replace existing files in the request's ``out`` folder (files in
        the worker's own output folders are always its own).
        """
        sent, inputs = files_to_send(request)
        data = sent.to_dict()
        return self._call(
            lambda rid: p.Submit(
                rid=rid, request=data, priority=priority, force=force, inputs=inputs
            ),
            p.JobReply,
        ).job

    def submit_set(
        self,
        task: str,
        request: GenerationRequest,
        options: dict[str, Any],
        *,
        priority: int = 0,
        force: bool = False,
        from_file: str | os.PathLike[str] | None = None,
    ) -> p.JobRecord:
        """Queue a generated set (``animate``, ``tiles``, ``tileset``: ``sprites.SET_OPTIONS``);
        its job ends with one output map, the asset's ``manifest`` and files.

        ``from_file``: an animation's character (``animate --from``), a local sprite sent
        as bytes; the worker takes the palette from it (the request's is not sent).
        """
        make = _set_submit(task, request, options, priority, force, from_file)
        return self._call(make, p.JobReply).job

    def submit_train(
        self,
        config: Any,
        dataset: Path,
        *,
        layout: str = "peft",
        save_precision: str = "fp16",
        priority: int = 0,
        force: bool = False,
        send: bool = True,
    ) -> p.JobRecord:
        """Queue a LoRA training on the sprites in the local folder ``dataset`` (sent as files;
        with ``send=False``, ``dataset`` names a folder on the worker, inside its roots).

        ``config`` is a ``train.TrainConfig``; the job ends with the LoRA file,
        its config sidecar and its metrics log.
        """
        make = _train_submit(config, dataset, layout, save_precision, priority, force, send)
        return self._call(make, p.JobReply).job

    def cancel(self, job_id: int) -> p.JobRecord:
        """Cancel a job; the record shows ``cancelled`` or, while it stops, ``running``."""
        return self._call(lambda rid: p.Cancel(rid=rid, job=job_id), p.JobReply).job

    def status(self, job_id: int) -> p.JobRecord:
        """One job's record."""
        return self._call(lambda rid: p.Status(rid=rid, job=job_id), p.JobReply).job

    def retry(self, job_id: int) -> p.JobRecord:
        """Queue failed or cancelled job ``job_id`` again as a new job of the same task and
        request (set and training jobs too); returns the new job. :class:`JobError` for
        any other job."""
        return self._call(lambda rid: p.Retry(rid=rid, job=job_id), p.JobReply).job

    def reprioritise(self, job_id: int, priority: int) -> p.JobRecord:
        """Give a queued job another priority (higher runs first; bounded by
        ``Limits.priority``); :class:`JobError` when it has left the queue."""
        return self._call(
            lambda rid: p.Reprioritise(rid=rid, job=job_id, priority=priority), p.JobReply
        ).job

    def jobs(
        self, states: Iterable[str] | None = None, *, limit: int = 50, offset: int = 0
    ) -> p.JobList:
        """A page of jobs, newest first (``.jobs``), and how many match (``.total``)."""
        wanted = list(states) if states is not None else None
        return self._call(
            lambda rid: p.ListJobs(rid=rid, states=wanted, limit=limit, offset=offset), p.JobList
        )

    def models(self) -> p.ModelList:
        """The models the worker has warm (it loads any other on demand), and its default."""
        return self._call(lambda rid: p.Models(rid=rid), p.ModelList)

    def run(
        self,
        request: GenerationRequest,
        *,
        priority: int = 0,
        force: bool = False,
        on_event: Callable[[p.Event], None] | None = None,
    ) -> p.JobRecord:
        """Submit ``request`` and wait for it: the done job's record (outputs in ``.outputs``).

        ``on_event`` sees each event (progress...). A failed or cancelled job
        raises :func:`job_error`'s error.
        """
        job = self.submit(request, priority=priority, force=force)
        for event in self.watch(job.id):
            if on_event is not None:
                on_event(event)
        final = self.status(job.id)
        if final.state != p.JobState.DONE:
            raise job_error(final)
        return final

    # ------------------------------------------------------------------ events

    def events(self, jobs: Iterable[int] | None = None, *, worker: bool = False) -> EventStream:
        """Subscribe to the events of ``jobs``, and with ``worker`` to the worker's state events.

        ``jobs=None`` and no ``worker``: every event. ``jobs=None, worker=True``: the
        worker's state events only.
        """
        if self._events is None:
            self.ping()
        assert self._events is not None  # set by ping
        stream = EventStream(self._ctx, self._events, _topics(jobs, worker), self._keys)
        stream.wait_ready(self.timeout)  # a worker that never confirms: best effort, as before
        return stream

    def watch(self, job_id: int, *, recheck_s: float = WATCH_RECHECK_S) -> Iterator[p.Event]:
        """Yield one job's events until it is done, failed or cancelled."""
        with self.events([job_id]) as stream:
            final = final_event(self.status(job_id))  # after subscribing: nothing slips between
            if final is not None:
                yield final
                return
            while True:
                event = stream.next(timeout=recheck_s)
                if event is None:
                    final = final_event(self.status(job_id))
                    if final is not None:
                        yield final
                        return
                    continue
                yield event
                if isinstance(event, _TERMINAL_EVENTS):
                    return

    # --------------------------------------------------------------- internals

    def _call(self, make: Any, want: type[R]) -> R:
        rid = next(self._rids)
        message: p.Request = make(rid)
        sock = self._socket()
        sock.send(p.encode(message))
        deadline = time.monotonic() + self.timeout
        while (left := deadline - time.monotonic()) > 0:
            if not sock.poll(int(left * 1000) + 1):
                break
            reply = _decode_reply(sock.recv())
            if reply.rid in (rid, None):
                return _expect(reply, want)
            # a late reply to an earlier request that timed out: skip it
        raise self._no_answer()


# ---------------------------------------------------------------------- async


class AsyncEventStream(_StreamBase):
    """An asyncio subscription; ``async for event in stream`` or ``await stream.next(t)``."""

    async def wait_ready(self, timeout: float) -> bool:
        """Wait until the worker confirms every topic (see :meth:`EventStream.wait_ready`)."""
        try:
            async with asyncio.timeout(timeout):
                while self._unconfirmed:
                    event = self._take(await self._sock.recv_multipart())
                    if event is not None:
                        self._early.append(event)
        except TimeoutError:
            return False
        return True

    async def next(self, timeout: float | None = None) -> p.Event | None:
        """The next event, or None after ``timeout`` seconds without one."""
        if self._early:
            return self._early.popleft()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._take(await self._sock.recv_multipart())
                    if event is not None:
                        return event
        except TimeoutError:
            return None

    def __aiter__(self) -> AsyncIterator[p.Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[p.Event]:
        while True:
            event = await self.next()
            if event is not None:
                yield event

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """The asyncio twin of :class:`Client`, for the TUI and the MCP server.

    One request at a time per client (requests are awaited in turn under a lock).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        keys: ClientKeys | None = None,
        data_dir: str | Path | None = None,
    ) -> None:
        super().__init__(
            address,
            timeout=timeout,
            keys=keys,
            data_dir=data_dir,
            context=zmq.asyncio.Context.instance(),
        )
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def ping(self) -> p.Pong:
        """The worker's state, model, event address and queue counts."""
        pong = await self._call(lambda rid: p.Ping(rid=rid), p.Pong)
        self._events = _events_endpoint(self.address, pong.events)
        return pong

    async def submit(
        self, request: GenerationRequest, *, priority: int = 0, force: bool = False
    ) -> p.JobRecord:
        """Queue ``request``; returns the queued job (see :meth:`Client.submit`)."""
        sent, inputs = files_to_send(request)
        data = sent.to_dict()
        return (
            await self._call(
                lambda rid: p.Submit(
                    rid=rid, request=data, priority=priority, force=force, inputs=inputs
                ),
                p.JobReply,
            )
        ).job

    async def submit_set(
        self,
        task: str,
        request: GenerationRequest,
        options: dict[str, Any],
        *,
        priority: int = 0,
        force: bool = False,
        from_file: str | os.PathLike[str] | None = None,
    ) -> p.JobRecord:
        """Queue a generated set (see :meth:`Client.submit_set`)."""
        make = _set_submit(task, request, options, priority, force, from_file)
        return (await self._call(make, p.JobReply)).job

    async def submit_train(
        self,
        config: Any,
        dataset: Path,
        *,
        layout: str = "peft",
        save_precision: str = "fp16",
        priority: int = 0,
        force: bool = False,
        send: bool = True,
    ) -> p.JobRecord:
        """Queue a LoRA training (see :meth:`Client.submit_train`)."""
        make = _train_submit(config, dataset, layout, save_precision, priority, force, send)
        return (await self._call(make, p.JobReply)).job

    async def cancel(self, job_id: int) -> p.JobRecord:
        """Cancel a job."""
        return (await self._call(lambda rid: p.Cancel(rid=rid, job=job_id), p.JobReply)).job

    async def status(self, job_id: int) -> p.JobRecord:
        """One job's record."""
        return (await self._call(lambda rid: p.Status(rid=rid, job=job_id), p.JobReply)).job

    async def retry(self, job_id: int) -> p.JobRecord:
        """Queue a failed or cancelled job again (see :meth:`Client.retry`)."""
        return (await self._call(lambda rid: p.Retry(rid=rid, job=job_id), p.JobReply)).job

    async def reprioritise(self, job_id: int, priority: int) -> p.JobRecord:
        """Give a queued job another priority."""
        return (
            await self._call(
                lambda rid: p.Reprioritise(rid=rid, job=job_id, priority=priority), p.JobReply
            )
        ).job

    async def jobs(
        self, states: Iterable[str] | None = None, *, limit: int = 50, offset: int = 0
    ) -> p.JobList:
        """A page of jobs, newest first, and how many match."""
        wanted = list(states) if states is not None else None
        return await self._call(
            lambda rid: p.ListJobs(rid=rid, states=wanted, limit=limit, offset=offset), p.JobList
        )

    async def models(self) -> p.ModelList:
        """The models the worker has warm, and its default."""
        return await self._call(lambda rid: p.Models(rid=rid), p.ModelList)

    async def run(
        self,
        request: GenerationRequest,
        *,
        priority: int = 0,
        force: bool = False,
        on_event: Callable[[p.Event], None] | None = None,
    ) -> p.JobRecord:
        """Submit ``request`` and wait for it (see :meth:`Client.run`)."""
        job = await self.submit(request, priority=priority, force=force)
        async for event in self.watch(job.id):
            if on_event is not None:
                on_event(event)
        final = await self.status(job.id)
        if final.state != p.JobState.DONE:
            raise job_error(final)
        return final

    async def events(
        self, jobs: Iterable[int] | None = None, *, worker: bool = False
    ) -> AsyncEventStream:
        """Subscribe to the events of ``jobs``, and with ``worker`` to the worker's state events.

        ``jobs=None`` and no ``worker``: every event. ``jobs=None, worker=True``: the
        worker's state events only.
        """
        if self._events is None:
            await self.ping()
        assert self._events is not None  # set by ping
        stream = AsyncEventStream(self._ctx, self._events, _topics(jobs, worker), self._keys)
        await stream.wait_ready(self.timeout)  # a worker that never confirms: best effort
        return stream

    async def watch(
        self, job_id: int, *, recheck_s: float = WATCH_RECHECK_S
    ) -> AsyncIterator[p.Event]:
        """Yield one job's events until it is done, failed or cancelled."""
        async with await self.events([job_id]) as stream:
            final = final_event(await self.status(job_id))
            if final is not None:
                yield final
                return
            while True:
                event = await stream.next(timeout=recheck_s)
                if event is None:
                    final = final_event(await self.status(job_id))
                    if final is not None:
                        yield final
                        return
                    continue
                yield event
                if isinstance(event, _TERMINAL_EVENTS):
                    return

    async def _call(self, make: Any, want: type[R]) -> R:
        async with self._lock:
            rid = next(self._rids)
            message: p.Request = make(rid)
            sock = self._socket()
            await sock.send(p.encode(message))
            try:
                async with asyncio.timeout(self.timeout):
                    while True:
                        reply = _decode_reply(await sock.recv())
                        if reply.rid in (rid, None):
                            return _expect(reply, want)
            except TimeoutError:
                raise self._no_answer() from None


def _set_submit(
    task: str,
    request: GenerationRequest,
    options: dict[str, Any],
    priority: int,
    force: bool,
    from_file: str | os.PathLike[str] | None,
) -> Callable[[int], p.Submit]:
    """The ``submit`` of a set job: the request (its files sent), the set's options, and
    an animation's ``from`` sprite (sent as input ``from``, named by its file name)."""
    sent, inputs = files_to_send(request)
    data: dict[str, Any] = {**sent.to_dict(), "options": dict(options)}
    if from_file is not None:  # the worker takes the palette from the sprite itself
        inputs = {**inputs, FROM_INPUT: file_to_send(from_file, FROM_INPUT)}
        data.update(palette=None, **{FROM_INPUT: Path(from_file).name})
    return lambda rid: p.Submit(
        rid=rid, request=data, priority=priority, force=force, inputs=inputs, task=task
    )


def _train_submit(
    config: Any,
    dataset: Path,
    layout: str,
    save_precision: str,
    priority: int,
    force: bool,
    send: bool,
) -> Callable[[int], p.Submit]:
    """The ``submit`` of a training job: the config, the LoRA's layout and precision, and
    the dataset's sprites sent as files (or, with ``send=False``, the worker's folder)."""
    inputs = dataset_to_send(dataset) if send else {}
    params: dict[str, Any] = {
        "config": config.to_dict(),
        "layout": layout,
        "save_precision": save_precision,
    }
    if not send:
        params["dataset"] = str(dataset)
    return lambda rid: p.Submit(
        rid=rid, request=params, priority=priority, force=force, inputs=inputs, task="train"
    )
