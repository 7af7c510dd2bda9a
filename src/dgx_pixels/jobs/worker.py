"""The worker: one process that owns the models and serves every client.

``Worker(config, backend).serve()`` runs until asked to stop:

1. lock the data directory (one worker per job store) and re-queue the jobs a
   dead worker left running (:meth:`JobStore.recover`);
2. bind the ROUTER (requests) and PUB (events) sockets, with CURVE when the
   address is not loopback (refusing to start without keys);
3. start the :class:`~dgx_pixels.jobs.runner.Runner` thread, which loads the
   first model (state ``loading``) and then runs batches (``ready`` / ``busy``),
   loading other models on demand into a :class:`~dgx_pixels.jobs.pool.ModelPool`
   (warm within ``memory_gib``, least recently used out first);
4. answer requests and forward the runner's events until :meth:`request_stop`
   (SIGTERM, Ctrl-C): state ``draining``, the current batch finishes (or, after
   ``drain_timeout_s`` or a second signal, is interrupted and re-queued), then
   ``stopped``.

The main thread only answers requests, so a worker stays responsive while a
batch runs; it never blocks on a client (ROUTER drops replies to peers that
are gone, PUB drops events for slow subscribers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from dgx_pixels import __version__
from dgx_pixels.errors import (
    DgxPixelsError,
    InputError,
    JobError,
    ModelError,
    ProtocolError,
    StoreError,
)
from dgx_pixels.image_files import write_atomic
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs import tasks
from dgx_pixels.jobs.backend import Backend
from dgx_pixels.jobs.limits import LIMITS, Limits
from dgx_pixels.jobs.pool import ModelPool
from dgx_pixels.jobs.roots import Roots
from dgx_pixels.jobs.runner import Runner
from dgx_pixels.jobs.security import endpoint_host, ip_of, is_loopback, load_server_keys
from dgx_pixels.jobs.store import DEFAULT_MAX_ATTEMPTS, JobStore
from dgx_pixels.observability.metrics import WorkerMetrics
from dgx_pixels.paths import DataDir
from dgx_pixels.request import DEFAULT_MODEL

__all__ = [
    "DEFAULT_METRICS_PORT",
    "Worker",
    "WorkerConfig",
    "events_address",
    "read_worker_info",
]

log = logging.getLogger(__name__)

#: The local port of the worker's Prometheus endpoint.
DEFAULT_METRICS_PORT = 9477

_INPROC_EVENTS = "inproc://dgx-pixels-events"
_MAX_REQUESTS_PER_TURN = 200


def events_address(bind: str) -> str:
    """The default event address for request address ``bind``: the next port.

    >>> events_address("tcp://127.0.0.1:5557"), events_address("tcp://127.0.0.1:*")
    ('tcp://127.0.0.1:5558', 'tcp://127.0.0.1:*')
    """
    if bind.startswith("ipc://"):
        return bind + ".events"
    endpoint_host(bind)  # checks the form
    head, _, port = bind.rpartition(":")
    return f"{head}:{port if port == '*' else int(port) + 1}"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How a worker runs; checked when made."""

    data: DataDir
    model: str = DEFAULT_MODEL
    bind: str = p.DEFAULT_ADDRESS
    events_bind: str | None = None
    batch_size: int = 4
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    metrics_port: int | None = DEFAULT_METRICS_PORT
    drain_timeout_s: float = 60.0
    preview_every: int = 5
    limits: Limits = LIMITS
    roots: tuple[Path, ...] = ()  # folders besides the data dir that requests may use
    memory_gib: float | None = None  # for warm models together; None: the backend's default

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 64:
            raise InputError(f"batch size must be between 1 and 64, got {self.batch_size}")
        if not 1 <= self.max_attempts <= 100:
            raise InputError(f"max attempts must be between 1 and 100, got {self.max_attempts}")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise InputError(f"metrics port must be between 0 and 65535, got {self.metrics_port}")
        if self.drain_timeout_s < 0:
            raise InputError(f"drain timeout must be at least 0, got {self.drain_timeout_s}")
        if not self.model.strip():
            raise InputError("model must not be empty")
        if self.memory_gib is not None and not 0 < self.memory_gib <= 1_000_000:
            raise InputError(f"memory budget must be above 0 GiB, got {self.memory_gib}")
        is_loopback(self.bind)  # raises InputError for a malformed address
        is_loopback(self.events)
        for root in self.roots:
            if not Path(root).expanduser().is_dir():
                raise InputError(f"--root {root}: not a folder", path=str(root))

    @property
    def events(self) -> str:
        """The PUB socket's address."""
        return self.events_bind or events_address(self.bind)

    @property
    def needs_auth(self) -> bool:
        """Whether either socket is reachable from other machines."""
        return not (is_loopback(self.bind) and is_loopback(self.events))


class Worker:
    """Serves one data directory with any model it can load; see the module docstring."""

    def __init__(self, config: WorkerConfig, backend: Backend) -> None:
        self.config = config
        self.backend = backend
        self.metrics = WorkerMetrics()
        self.address = ""  # the bound endpoints, known once serving
        self.events = ""
        self.metrics_port: int | None = None
        self._state = p.WorkerState.LOADING
        self._state_lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_now = threading.Event()
        self._ready = threading.Event()
        self._runner: Runner | None = None
        self._pool: ModelPool | None = None
        self._pub: Any = None
        self._stopping_since: float | None = None
        self._roots: Roots | None = None

    # ----------------------------------------------------------------- control

    @property
    def state(self) -> p.WorkerState:
        """The worker's state now."""
        with self._state_lock:
            return self._state

    def request_stop(self, *, now: bool = False) -> None:
        """Drain and stop; ``now`` interrupts the running batch (its jobs are re-queued)."""
        self._stop.set()
        if now:
            self._stop_now.set()
            runner = self._runner
            if runner is not None:  # interrupt here, not on the loop's next turn: the batch
                runner.drain(interrupt=True)  # may finish before the loop wakes up

    def wait_bound(self, timeout: float | None = None) -> bool:
        """Wait until the sockets are bound (``address``/``events`` are set)."""
        return self._ready.wait(timeout)

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT drain; a second one stops now. Call from the main thread."""

        def handle(signum: int, frame: types.FrameType | None) -> None:
            log.info("signal %s: %s", signum, "stopping now" if self._stop.is_set() else "draining")
            self.request_stop(now=self._stop.is_set())

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    # ------------------------------------------------------------------- serve

    def serve(self) -> None:
        """Run until stopped. Raises :class:`JobError` / ``ModelError`` when it cannot serve."""
        data = self.config.data.create()
        self._roots = Roots.of(data, self.config.roots)
        with (
            _data_dir_lock(data),
            JobStore(data.jobs_db, max_attempts=self.config.max_attempts) as store,
        ):
            recovered = store.recover()
            if recovered.requeued or recovered.failed or recovered.cancelled:
                log.info(
                    "recovered jobs a stopped worker left running: requeued %s, failed %s, "
                    "cancelled %s",
                    list(recovered.requeued),
                    list(recovered.failed),
                    list(recovered.cancelled),
                )
            ctx = zmq.Context()
            try:
                self._serve(ctx, store, data)
            finally:
                ctx.destroy(linger=0)
                with contextlib.suppress(FileNotFoundError):
                    data.worker_info.unlink()

    def _serve(self, ctx: zmq.Context[Any], store: JobStore, data: DataDir) -> None:
        auth = None
        if self.config.needs_auth:
            keys = load_server_keys(data.keys)  # refuses to start without keys
            from zmq.auth.thread import ThreadAuthenticator

            auth = ThreadAuthenticator(ctx)
            auth.start()
            auth.configure_curve(domain="*", location=str(keys.authorized))
        router = ctx.socket(zmq.ROUTER)
        # XPUB: a PUB that also hears subscriptions, so each new subscriber is
        # told (a "subscribed" event on its topic) once its events can reach it.
        pub = ctx.socket(zmq.XPUB)
        pull = ctx.socket(zmq.PULL)
        for sock in (router, pub):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.IPV6, 1)  # dual stack: [::1] and 127.0.0.1 alike
            if auth is not None:
                sock.setsockopt(zmq.CURVE_SERVER, 1)
                sock.setsockopt(zmq.CURVE_SECRETKEY, keys.secret)
                sock.setsockopt(zmq.CURVE_PUBLICKEY, keys.public)
        limits = self.config.limits
        # Frames over twice the request limit close the connection unread; those
        # between get a ``too_large`` reply. A connection queues few requests unread.
        router.setsockopt(zmq.MAXMSGSIZE, 2 * limits.request_bytes)
        router.setsockopt(zmq.RCVHWM, limits.queued_requests)
        router.setsockopt(zmq.SNDHWM, 10_000)
        pub.setsockopt(zmq.SNDHWM, 100_000)
        # Subscriptions: a long topic closes its connection before it is read (libzmq
        # would keep many times its size, for good), and the worker itself admits each
        # topic it hears (XPUB_MANUAL): only the topics events are published under.
        pub.setsockopt(zmq.MAXMSGSIZE, limits.topic_bytes + _SUBSCRIBE_OVERHEAD)
        pub.setsockopt(zmq.XPUB_MANUAL, 1)
        pull.setsockopt(zmq.RCVHWM, 0)
        try:
            self.address = _bind(router, self.config.bind)
            self.events = _bind(pub, self.config.events)
            pull.bind(_INPROC_EVENTS)
            self._pub = pub
            self._start_metrics()
            self._write_info(data)
            push = ctx.socket(zmq.PUSH)
            push.setsockopt(zmq.SNDHWM, 100_000)
            push.setsockopt(zmq.LINGER, 0)
            push.connect(_INPROC_EVENTS)
            runner = self._start_runner(push, data)
            self._ready.set()
            log.info(
                "worker serving on %s (events %s); default model %s",
                self.address,
                self.events,
                self.config.model,
            )
            self._loop(router, pull, pub, store, runner)
        finally:
            router.close(linger=0)
            pull.close(linger=0)
            pub.close(linger=1000)  # a second to deliver the last events ("stopped")
            if auth is not None:
                auth.stop()

    def _start_runner(self, push: Any, data: DataDir) -> Runner:
        def publish(event: p.Event) -> None:  # runs in the runner thread: push is its own
            frame = self._event_frame(event)
            if frame is None:
                return
            try:
                push.send_multipart([event.topic().encode(), frame], flags=zmq.NOBLOCK)
            except zmq.Again:
                log.warning("event queue full; dropped %s", event.TYPE)

        def on_state(state: p.WorkerState) -> None:
            with self._state_lock:
                if self._state in (p.WorkerState.DRAINING, state):
                    return
                self._state = state
            self.metrics.set_state(state)
            publish(self._worker_event(state))

        def on_models(warm: list[str]) -> None:  # runs in the runner thread too
            publish(p.WorkerEvent(state=self.state, model=self.config.model, warm=warm))

        pool = ModelPool(
            self.backend,
            budget_gib=self.config.memory_gib,
            metrics=self.metrics,
            on_change=on_models,
        )
        self._pool = pool
        runner = Runner(
            backend=self.backend,
            pool=pool,
            model=self.config.model,
            store_path=data.jobs_db,
            outputs_root=data.outputs,
            publish=publish,
            on_state=on_state,
            metrics=self.metrics,
            batch_size=self.config.batch_size,
            max_attempts=self.config.max_attempts,
            preview_every=self.config.preview_every,
        )
        self._runner = runner
        thread = threading.Thread(target=_run_closing(runner, push), name="runner", daemon=True)
        self._runner_thread = thread
        thread.start()
        return runner

    def _loop(self, router: Any, pull: Any, pub: Any, store: JobStore, runner: Runner) -> None:
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(pull, zmq.POLLIN)
        poller.register(pub, zmq.POLLIN)
        next_counts = 0.0
        while True:
            if not self._runner_thread.is_alive():
                self._forward_events(pull)
                if runner.load_error is not None:
                    raise runner.load_error
                if runner.crash is not None:
                    raise JobError(f"the generation thread stopped: {runner.crash}")
                break  # drained
            if self._stop.is_set() and self._begin_drain(runner):
                break  # stopped while loading: nothing is running
            ready = dict(poller.poll(timeout=100))
            if router in ready:
                self._answer(router, store)
            if pull in ready:
                self._forward_events(pull)
            if pub in ready:
                self._admit_subscribers(pub, store)
            if time.monotonic() >= next_counts:
                with contextlib.suppress(StoreError):  # a failing store: keep the last counts
                    self.metrics.set_job_counts(store.counts())
                next_counts = time.monotonic() + 1.0
        self._set_state(p.WorkerState.STOPPED)

    def _begin_drain(self, runner: Runner) -> bool:
        """Enter ``draining``; interrupt when overdue. True when the worker can stop at once."""
        if self._stopping_since is None:
            self._stopping_since = time.monotonic()
            if self.state is p.WorkerState.LOADING:
                runner.drain()  # it runs nothing once the model is loaded
                return True
            self._set_state(p.WorkerState.DRAINING)
            runner.drain()
        overdue = time.monotonic() - self._stopping_since > self.config.drain_timeout_s
        if self._stop_now.is_set() or overdue:
            runner.drain(interrupt=True)
        return False

    # ---------------------------------------------------------------- requests

    def _answer(self, router: Any, store: JobStore) -> None:
        for _ in range(_MAX_REQUESTS_PER_TURN):
            try:
                frames = router.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            identity, body = frames[0], frames[1:]
            envelope: list[bytes] = []
            if len(body) == 2 and body[0] == b"":  # a REQ client's empty delimiter
                envelope, body = [b""], body[1:]
            if len(body) != 1:
                reply: p.Reply = p.ErrorReply(
                    rid=None,
                    kind=p.ErrorKind.MALFORMED,
                    message=f"a request is one frame, got {len(body)}",
                )
            else:
                reply = self.handle(body[0], store)
            frame = self._reply_frame(reply)
            with contextlib.suppress(zmq.ZMQError):  # the client is gone: nobody to tell
                router.send_multipart([identity, *envelope, frame], flags=zmq.NOBLOCK)

    def _reply_frame(self, reply: p.Reply) -> bytes:
        """``reply`` encoded; a ``too_large`` error instead when it is over the reply limit."""
        frame = p.encode(reply)
        most = self.config.limits.reply_bytes
        if len(frame) <= most:
            return frame
        log.warning("a %s reply of %d bytes was over the limit", reply.TYPE, len(frame))
        return p.encode(
            p.ErrorReply(
                rid=reply.rid,
                kind=p.ErrorKind.TOO_LARGE,
                message=f"the reply is {len(frame)} bytes, over the limit of {most} (reply_bytes)",
            )
        )

    def _event_frame(self, event: p.Event) -> bytes | None:
        """``event`` encoded, or None (logged) when it is over the reply limit."""
        frame = p.encode(event)
        if len(frame) <= self.config.limits.reply_bytes:
            return frame
        log.warning("dropped a %s event of %d bytes (over reply_bytes)", event.TYPE, len(frame))
        return None

    def handle(self, frame: bytes, store: JobStore) -> p.Reply:
        """The reply to one request frame; never raises."""
        rid: int | None = None
        try:
            msg = p.decode(
                frame, expect=p.REQUEST_TYPES, max_bytes=self.config.limits.request_bytes
            )
            assert isinstance(msg, p.Request)  # expect= admits only requests
            rid = msg.rid
            return self._dispatch(msg, store)
        except ProtocolError as exc:
            kind = str(exc.context.get("kind", p.ErrorKind.MALFORMED))
            return p.ErrorReply(rid=exc.context.get("rid", rid), kind=kind, message=exc.message)
        except InputError as exc:  # RequestError, PaletteError, ImageReadError...
            return p.ErrorReply(rid=rid, kind=p.ErrorKind.REQUEST, message=exc.message)
        except ModelError as exc:  # an unknown model id, found by the cheap check at submit
            return p.ErrorReply(rid=rid, kind=p.ErrorKind.MODEL, message=exc.message)
        except DgxPixelsError as exc:
            kind = str(exc.context.get("kind", p.ErrorKind.INTERNAL))
            return p.ErrorReply(rid=rid, kind=kind, message=exc.message)
        except Exception as exc:  # a bug: answer, log, keep serving
            log.exception("request failed")
            return p.ErrorReply(
                rid=rid, kind=p.ErrorKind.INTERNAL, message=f"{type(exc).__name__}: {exc}"
            )

    def _dispatch(self, msg: p.Request, store: JobStore) -> p.Reply:
        runner, pool = self._runner, self._pool
        assert runner is not None  # started before serving
        assert pool is not None
        match msg:
            case p.Ping():
                counts = store.counts()
                return p.Pong(
                    rid=msg.rid,
                    state=self.state,
                    model=self.config.model,
                    version=__version__,
                    pid=os.getpid(),
                    events=self.events,
                    queued=counts[p.JobState.QUEUED],
                    running=counts[p.JobState.RUNNING],
                    warm=pool.warm,
                    loading=pool.loading,
                )
            case p.Submit() if msg.task != "generate":
                assert self._roots is not None  # set before serving
                admitted = tasks.admit(
                    msg, roots=self._roots, limits=self.config.limits, check=self.backend.check
                )
                job = store.submit_task(
                    msg.task, admitted.params, prompt=admitted.prompt, model=admitted.model,
                    priority=msg.priority, force=msg.force,
                )  # fmt: skip
                self._publish(p.Accepted(job=job.id, priority=job.priority, prompt=job.prompt))
                runner.wake()
                return p.JobReply(rid=msg.rid, job=job)
            case p.Submit():
                request = p.generation_request(msg.request)
                self.config.limits.check_request(request)
                assert self._roots is not None  # set before serving
                request = self._roots.admit(request, msg.inputs, limits=self.config.limits)
                # Any model: an unknown id, a bad palette or size fails now, not in the
                # queue; a model that cannot be loaded fails its job when it is loaded.
                self.backend.check(request)
                job = store.submit(request, priority=msg.priority, force=msg.force)
                self._publish(p.Accepted(job=job.id, priority=job.priority, prompt=job.prompt))
                runner.wake()
                return p.JobReply(rid=msg.rid, job=job)
            case p.Cancel():
                before = store.get(msg.job)
                job = store.cancel(msg.job)
                if before.state == p.JobState.QUEUED and job.state == p.JobState.CANCELLED:
                    self._publish(p.Cancelled(job=job.id))
                elif job.state == p.JobState.RUNNING:
                    runner.cancel(job.id)
                return p.JobReply(rid=msg.rid, job=job)
            case p.Status():
                return p.JobReply(rid=msg.rid, job=store.get(msg.job))
            case p.Retry():
                job = store.retry(msg.job)
                self._publish(p.Accepted(job=job.id, priority=job.priority, prompt=job.prompt))
                runner.wake()
                return p.JobReply(rid=msg.rid, job=job)
            case p.Reprioritise():
                job = store.reprioritise(msg.job, msg.priority)
                self._publish(p.Accepted(job=job.id, priority=job.priority, prompt=job.prompt))
                runner.wake()
                return p.JobReply(rid=msg.rid, job=job)
            case p.ListJobs():
                jobs, total = store.page(msg.states, limit=msg.limit, offset=msg.offset)
                page, used = _fit(jobs, self.config.limits.reply_bytes - _REPLY_OVERHEAD)
                after = msg.offset + used
                return p.JobList(
                    rid=msg.rid,
                    jobs=page,
                    total=total,
                    next_offset=after if after < total else None,
                )
            case p.Models():
                return p.ModelList(
                    rid=msg.rid,
                    models=pool.warm,
                    state=self.state,
                    default=self.config.model,
                    loading=pool.loading,
                    budget_gib=pool.known_budget_gib,
                )
        raise ProtocolError(f"unhandled request {msg.TYPE!r}", kind=p.ErrorKind.UNKNOWN_TYPE)

    # ------------------------------------------------------------------ events

    def _forward_events(self, pull: Any) -> None:
        while True:
            try:
                frames = pull.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            self._pub.send_multipart(frames, flags=zmq.NOBLOCK)

    def _admit_subscribers(self, pub: Any, store: JobStore) -> None:
        """Admit each subscription to a topic events are published under, and welcome it.

        Admitted: ``""`` (every event), ``worker``, ``job.`` and ``job.<id>`` of a
        job in the store; so the topics libzmq keeps are bounded by the jobs that
        exist, whatever a client sends. Others are dropped unkept and unanswered.
        A ``subscribed`` event on the topic tells the subscriber it is live.
        """
        while True:
            try:
                frame = pub.recv(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            subscribe, topic = frame[:1] == b"\x01", frame[1:]
            if not _admitted_topic(topic, store):
                log.debug("refused a subscription to a %d-byte topic", len(topic))
                continue
            if subscribe:
                pub.setsockopt(zmq.SUBSCRIBE, topic)  # for the connection it came from
                self._publish(p.Subscribed(subscription=topic.decode()))
            else:
                pub.setsockopt(zmq.UNSUBSCRIBE, topic)

    def _publish(self, event: p.Event) -> None:
        frame = self._event_frame(event)
        if frame is None:
            return
        with contextlib.suppress(zmq.Again):
            self._pub.send_multipart([event.topic().encode(), frame], flags=zmq.NOBLOCK)

    def _set_state(self, state: p.WorkerState) -> None:
        with self._state_lock:
            self._state = state
        self.metrics.set_state(state)
        self._publish(self._worker_event(state))

    def _worker_event(self, state: p.WorkerState) -> p.WorkerEvent:
        warm = self._pool.warm if self._pool is not None else []
        return p.WorkerEvent(state=state, model=self.config.model, warm=warm)

    # ------------------------------------------------------------------ extras

    def _start_metrics(self) -> None:
        port = self.config.metrics_port
        if port is None:
            return
        try:
            self.metrics_port = self.metrics.serve(port)
        except OSError as exc:
            log.warning("metrics not served: port %s: %s", port, exc)

    def _write_info(self, data: DataDir) -> None:
        info = {
            "pid": os.getpid(),
            "address": self.address,
            "events": self.events,
            "metrics_port": self.metrics_port,
            "model": self.config.model,
            "data_dir": str(data.root),
            "started": time.time(),
        }
        write_atomic(json.dumps(info, indent=2).encode(), data.worker_info, force=True)


#: Bytes a subscription message adds to its topic (ZMTP 3.1's ``SUBSCRIBE`` command).
_SUBSCRIBE_OVERHEAD = 16

#: Bytes of a ``job_list`` reply besides its records (``v``, ``type``, ``rid``, counts).
_REPLY_OVERHEAD = 256


def _admitted_topic(topic: bytes, store: JobStore) -> bool:
    """Whether events are published under ``topic`` (see ``Worker._admit_subscribers``)."""
    if topic in (b"", b"worker", b"job."):
        return True
    digits = topic.removeprefix(b"job.")
    if digits == topic or not digits.isdigit() or digits.startswith(b"0") or len(digits) > 19:
        return False
    job_id = int(digits)
    if job_id > p.MAX_ID:
        return False
    try:
        store.get(job_id)
    except JobError:
        return False
    return True


def _fit(jobs: list[p.JobRecord], budget: int) -> tuple[list[p.JobRecord], int]:
    """The leading records of ``jobs`` that fit in ``budget`` bytes, and how many were used.

    A record over the whole budget on its own (only a store written before the
    limits can hold one) is skipped and logged, so it never blocks a page.
    """
    page: list[p.JobRecord] = []
    used, left = 0, budget
    for job in jobs:
        size = p.encoded_size(job) + 8  # the array's share
        if size > budget:
            log.warning("job %d's record is %d bytes: left out of job lists", job.id, size)
        elif size > left:
            break
        else:
            page.append(job)
            left -= size
        used += 1
    return page, used


def _bind(sock: Any, address: str) -> str:
    try:
        sock.bind(address)
    except zmq.ZMQError as exc:
        raise JobError(f"cannot bind {address}: {exc}", address=address) from None
    return _plain_endpoint(str(sock.getsockopt_string(zmq.LAST_ENDPOINT)))


def _plain_endpoint(endpoint: str) -> str:
    """A dual-stack socket reports ``tcp://[::ffff:127.0.0.1]:5557``; say ``tcp://127.0.0.1:5557``.

    >>> _plain_endpoint("tcp://[::ffff:127.0.0.1]:5557"), _plain_endpoint("tcp://[::1]:5557")
    ('tcp://127.0.0.1:5557', 'tcp://[::1]:5557')
    """
    if not endpoint.startswith("tcp://"):
        return endpoint
    ip = ip_of(endpoint_host(endpoint))
    if ip is None or ip.version == 6:
        return endpoint
    return f"tcp://{ip}:{endpoint.rpartition(':')[2]}"


def _run_closing(runner: Runner, push: Any) -> Any:
    def body() -> None:
        try:
            runner.run()
        finally:
            push.close(linger=0)

    return body


@contextlib.contextmanager
def _data_dir_lock(data: DataDir) -> Iterator[None]:
    """Hold an exclusive lock on the data directory; :class:`JobError` if another has it."""
    import fcntl

    with open(data.worker_lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            raise JobError(
                f"another worker (pid {holder}) is serving {data.root}; stop it first "
                "or use another --data-dir",
                path=str(data.root),
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def read_worker_info(data: DataDir) -> dict[str, Any] | None:
    """The running worker's ``worker.json`` (pid, endpoints, metrics port), if any."""
    try:
        info = json.loads(Path(data.worker_info).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return info if isinstance(info, dict) else None
