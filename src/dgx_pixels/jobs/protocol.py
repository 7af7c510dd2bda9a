"""The wire protocol between clients and a worker: every message, in one place.

Transport: ZeroMQ. A worker binds a ROUTER socket for requests (clients use
DEALER) and a PUB socket for events. Each request gets exactly one reply
frame; events are published as two frames, ``[topic, payload]``, with topics
``job.<id>`` and ``worker``. Payloads are msgpack maps that always carry the
protocol version ``v`` and the message ``type``::

    {"v": 1, "type": "submit", "rid": 7, "request": {...}, "priority": 0}

Requests carry a client-chosen request id ``rid`` that the reply echoes.
Anything malformed, oversized, of another version or of an unknown type is
answered with an ``error`` reply; a worker never crashes or blocks on input.

The message classes are frozen dataclasses. msgspec decodes a frame and
checks every field against the class's annotations (strictly: ``1.5`` is no
``int``, ``true`` is no ``int``), then ``__post_init__`` checks ranges; see
``docs/protocol.md`` for why msgspec validates dataclasses rather than
replacing them with ``msgspec.Struct``.

>>> msg = Ping(rid=1)
>>> decode(encode(msg)) == msg
True
>>> decode(b"\\x01")
Traceback (most recent call last):
...
dgx_pixels.errors.ProtocolError: a message must be a msgpack map, got int
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

import msgspec

from dgx_pixels.errors import (
    DeviceError,
    DgxPixelsError,
    GenerationError,
    ImageReadError,
    InputError,
    Interrupted,
    JobError,
    ModelError,
    ModelNotFoundError,
    NoGridError,
    OutputExistsError,
    PaletteError,
    ProtocolError,
    RequestError,
    StoreError,
    WorkerUnavailableError,
)
from dgx_pixels.jobs.limits import LIMITS
from dgx_pixels.request import GenerationRequest

__all__ = [
    "DEFAULT_ADDRESS",
    "ERROR_CODES",
    "EVENT_TYPES",
    "LIMITS",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "REPLY_TYPES",
    "REQUEST_TYPES",
    "TASKS",
    "WORKER_ENV",
    "Accepted",
    "Cancel",
    "Cancelled",
    "Done",
    "ErrorKind",
    "ErrorReply",
    "Event",
    "Failed",
    "JobList",
    "JobRecord",
    "JobReply",
    "JobState",
    "ListJobs",
    "Loaded",
    "Loading",
    "Message",
    "ModelList",
    "Models",
    "Ping",
    "Pong",
    "Progress",
    "Reply",
    "Reprioritise",
    "Request",
    "Retry",
    "Started",
    "Status",
    "Submit",
    "Subscribed",
    "WorkerEvent",
    "WorkerState",
    "decode",
    "encode",
    "encoded_size",
    "error_class",
    "error_code",
    "error_codes_table",
    "generation_request",
    "job_topic",
    "markdown_table",
]

PROTOCOL_VERSION = 1

#: Replies and events larger than this are refused by clients (``Limits.reply_bytes``).
MAX_MESSAGE_BYTES = LIMITS.reply_bytes

#: Where a worker listens by default and clients look first: loopback only.
DEFAULT_ADDRESS = "tcp://127.0.0.1:5557"

#: Environment variable naming the worker address for clients.
WORKER_ENV = "DGX_PIXELS_WORKER"

MAX_PRIORITY = LIMITS.priority
MAX_PAGE = LIMITS.page_jobs
MAX_ID = 2**63 - 1  # SQLite's largest integer

#: What a job does (``submit.task``): ``generate`` draws sprites (batched);
#: ``animate``, ``tiles`` and ``tileset`` make one asset of a generated set;
#: ``train`` trains a style LoRA. See docs/jobs.md, "Tasks".
TASKS = ("generate", "animate", "tiles", "tileset", "train")


class JobState(enum.StrEnum):
    """The life of a job: ``queued -> running -> done | failed | cancelled``.

    A running job whose worker dies goes back to ``queued`` (up to a retry limit).
    """

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """True for states a job never leaves."""
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class WorkerState(enum.StrEnum):
    """``loading`` (the model) -> ``ready`` <-> ``busy`` -> ``draining`` -> ``stopped``."""

    LOADING = "loading"
    READY = "ready"
    BUSY = "busy"
    DRAINING = "draining"
    STOPPED = "stopped"


class ErrorKind(enum.StrEnum):
    """What an ``error`` reply is about."""

    MALFORMED = "malformed"  # not msgpack, not a map, a field of the wrong type
    TOO_LARGE = "too_large"
    VERSION = "version"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"  # a field value out of range
    REQUEST = "request"  # the GenerationRequest is invalid
    MODEL = "model"  # a model the worker cannot serve (no longer sent: such a job fails)
    NOT_FOUND = "not_found"
    STATE = "state"  # e.g. the worker is draining
    INTERNAL = "internal"


#: The wire code of each way a job can fail, in one place: a failed job's
#: ``error_kind`` and a ``failed`` event's ``kind`` are one of these, and a
#: client raises the class (so a job failed on a worker exits as it would here).
ERROR_CODES: Mapping[str, type[DgxPixelsError]] = types.MappingProxyType(
    {
        "input": InputError,
        "image": ImageReadError,
        "palette": PaletteError,
        "request": RequestError,
        "output_exists": OutputExistsError,
        "no_grid": NoGridError,
        "model": ModelError,
        "model_not_found": ModelNotFoundError,
        "generation": GenerationError,
        "device": DeviceError,  # out of memory, a CUDA error: transient, retried
        "interrupted": Interrupted,
        "job": JobError,
        "store": StoreError,  # the job store failed (a full disk...)
        "worker_unavailable": WorkerUnavailableError,
        "protocol": ProtocolError,
        "worker_died": JobError,  # the worker stopped during each of the job's attempts
        "write": DgxPixelsError,  # the outputs could not be written (a full disk...)
        "internal": GenerationError,  # anything else: a driver error, a bug
    }
)
_CODE_OF: dict[type[DgxPixelsError], str] = {
    cls: code for code, cls in reversed(list(ERROR_CODES.items()))
}  # the first code of a class wins


def error_code(exc: BaseException) -> str:
    """The :data:`ERROR_CODES` code of ``exc`` (its closest listed class).

    >>> error_code(ModelNotFoundError("x")), error_code(OSError("full")), error_code(KeyError())
    ('model_not_found', 'write', 'internal')
    """
    if isinstance(exc, DgxPixelsError):
        for cls in type(exc).__mro__:
            if cls in _CODE_OF:
                return _CODE_OF[cls]
    return "write" if isinstance(exc, OSError) else "internal"


def error_class(code: str | None) -> type[DgxPixelsError]:
    """The error class to raise for a failed job's code (:class:`GenerationError` if unknown).

    Stores written before the codes hold class names (``"OutputExistsError"``):
    those are read too.
    """
    if code is not None and code in ERROR_CODES:
        return ERROR_CODES[code]
    legacy = {cls.__name__: cls for cls in ERROR_CODES.values()}
    return legacy.get(code or "", GenerationError)


def job_topic(job_id: int) -> str:
    """The event topic of one job: ``job.<id>``."""
    return f"job.{job_id}"


# --------------------------------------------------------------------------- base


@dataclass(frozen=True, slots=True)
class Message:
    """Base of all messages. Subclasses set ``TYPE`` and ``KIND``; fields are the payload."""

    TYPE: ClassVar[str] = ""
    KIND: ClassVar[Literal["request", "reply", "event", "record"]] = "record"

    def to_wire(self) -> dict[str, Any]:
        """The payload map, without ``v`` and ``type``."""
        return {f.name: _to_wire(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> typing.Self:
        """Check every field's type and build the message; unknown fields are an error."""
        hints = _hints(cls)
        unknown = sorted(str(k) for k in data if k not in hints)
        if unknown:
            raise ProtocolError(
                f"{cls.TYPE or cls.__name__}: unknown field(s): {', '.join(unknown)}",
                kind=ErrorKind.MALFORMED,
            )
        try:
            return msgspec.convert(data, cls, strict=True)
        except msgspec.ValidationError as exc:
            raise ProtocolError(
                f"{cls.TYPE or cls.__name__}: {exc}", kind=ErrorKind.MALFORMED
            ) from None


@dataclass(frozen=True, slots=True)
class Request(Message):
    """A client's request; ``rid`` is echoed by the reply."""

    KIND: ClassVar[Literal["request", "reply", "event", "record"]] = "request"
    rid: int

    def __post_init__(self) -> None:
        _check_range("rid", self.rid, 0, MAX_ID)


@dataclass(frozen=True, slots=True)
class Reply(Message):
    """The worker's answer to one request."""

    KIND: ClassVar[Literal["request", "reply", "event", "record"]] = "reply"
    rid: int


@dataclass(frozen=True, slots=True)
class Event(Message):
    """Published on the PUB socket under :meth:`topic`."""

    KIND: ClassVar[Literal["request", "reply", "event", "record"]] = "event"

    def topic(self) -> str:
        """The topic frame this event is published under."""
        job = getattr(self, "job", None)
        return job_topic(job) if isinstance(job, int) else "worker"


# ------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class JobRecord(Message):
    """One job as the store holds it (a field of ``job`` and ``job_list`` replies).

    ``request`` is the job's GenerationRequest in ``to_dict`` form without its
    prompt, which is the record's own ``prompt`` (a reply carries it once);
    for the other tasks, the parameters of ``task`` (docs/jobs.md, "Tasks").
    """

    id: int
    state: str
    priority: int
    attempts: int
    prompt: str
    model: str
    request: dict[str, Any]
    created: float
    started: float | None = None
    finished: float | None = None
    outputs: list[dict[str, str]] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    force: bool = False
    task: str = "generate"

    def __post_init__(self) -> None:
        _check_choice("state", self.state, [s.value for s in JobState])
        _check_choice("task", self.task, list(TASKS))
        if self.error is not None:
            object.__setattr__(self, "error", LIMITS.clip_error(self.error))

    @property
    def job_state(self) -> JobState:
        """``state`` as a :class:`JobState`."""
        return JobState(self.state)

    def summary(self, *, request: bool = False) -> dict[str, Any]:
        """The record as plain JSON for people and scripts (``jobs --json``, the MCP job
        tools): the error as ``{kind, message}``; the request only when asked, since it
        can be long."""
        data: dict[str, Any] = {
            "id": self.id,
            "task": self.task,
            "state": self.state,
            "prompt": self.prompt,
            "model": self.model,
            "priority": self.priority,
            "attempts": self.attempts,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "outputs": self.outputs,
            "error": None
            if self.error is None
            else {"kind": self.error_kind, "message": self.error},
        }
        if request:
            data["request"] = self.request
        return data


# ------------------------------------------------------------------------ requests


@dataclass(frozen=True, slots=True)
class Ping(Request):
    """Is a worker there, and in what state?"""

    TYPE: ClassVar[str] = "ping"


@dataclass(frozen=True, slots=True)
class Submit(Request):
    """Queue a job: a GenerationRequest (``to_dict`` form) or another ``task``'s parameters.

    ``inputs`` carries the files the request names by file name (``init``,
    ``mask``, ``palette``; a train job's ``dataset/NAME`` files) as bytes;
    see ``dgx_pixels.jobs.roots``. Higher priority runs first.
    """

    TYPE: ClassVar[str] = "submit"
    request: dict[str, Any]
    priority: int = 0
    force: bool = False  # replace existing files in the request's ``out`` folder
    inputs: dict[str, bytes] = field(default_factory=dict)
    task: str = "generate"

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _check_range("priority", self.priority, -MAX_PRIORITY, MAX_PRIORITY)
        _check_choice("task", self.task, list(TASKS))


@dataclass(frozen=True, slots=True)
class Cancel(Request):
    """Cancel a job: a queued one at once, a running one within one denoising step."""

    TYPE: ClassVar[str] = "cancel"
    job: int

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _check_range("job", self.job, 0, MAX_ID)


@dataclass(frozen=True, slots=True)
class Status(Request):
    """One job's record."""

    TYPE: ClassVar[str] = "status"
    job: int

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _check_range("job", self.job, 0, MAX_ID)


@dataclass(frozen=True, slots=True)
class ListJobs(Request):
    """A page of jobs, newest first, optionally only in the given states."""

    TYPE: ClassVar[str] = "jobs"
    states: list[str] | None = None
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _check_range("limit", self.limit, 1, MAX_PAGE)
        _check_range("offset", self.offset, 0, MAX_ID)
        for s in self.states or ():
            _check_choice("states", s, [s.value for s in JobState])


@dataclass(frozen=True, slots=True)
class Retry(Request):
    """Queue a failed or cancelled job again, as a new job of the same task, request
    and priority (the worker keeps what it was sent, so nothing travels again).

    Any other job is answered with an ``error`` of kind ``state``.
    """

    TYPE: ClassVar[str] = "retry"
    job: int

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _check_range("job", self.job, 0, MAX_ID)


@dataclass(frozen=True, slots=True)
class Reprioritise(Request):
    """Give a queued job another priority (higher runs first).

    A job that has left the queue is answered with an ``error`` of kind ``state``.
    """

    TYPE: ClassVar[str] = "reprioritise"
    job: int
    priority: int

    def __post_init__(self) -> None:
        Request.__post_init__(self)
        _check_range("job", self.job, 0, MAX_ID)
        _check_range("priority", self.priority, -MAX_PRIORITY, MAX_PRIORITY)


@dataclass(frozen=True, slots=True)
class Models(Request):
    """The models this worker has warm, and its default."""

    TYPE: ClassVar[str] = "models"


# ------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class Pong(Reply):
    """Reply to ``ping``: worker state, models, event endpoint, queue counts.

    ``model`` is the worker's default model (``--model``), ``warm`` the
    models loaded now (most recently used first), ``loading`` the one being
    loaded, if any.
    """

    TYPE: ClassVar[str] = "pong"
    state: str
    model: str
    version: str
    pid: int
    events: str
    queued: int
    running: int
    warm: list[str] = field(default_factory=list)
    loading: str | None = None


@dataclass(frozen=True, slots=True)
class JobReply(Reply):
    """Reply to ``submit``, ``cancel``, ``status``, ``reprioritise`` and ``retry``: the job's
    record (for ``retry``, the new job's)."""

    TYPE: ClassVar[str] = "job"
    job: JobRecord


@dataclass(frozen=True, slots=True)
class JobList(Reply):
    """Reply to ``jobs``: one page, the total matching the filter, the next page's offset.

    A page holds at most ``limit`` jobs and is cut short to fit one reply
    (``Limits.reply_bytes``); ``next_offset`` is nil on the last page.
    """

    TYPE: ClassVar[str] = "job_list"
    jobs: list[JobRecord]
    total: int
    next_offset: int | None = None


@dataclass(frozen=True, slots=True)
class ModelList(Reply):
    """Reply to ``models``: the warm models (most recently used first) and the default.

    A worker serves any model it can load; ``models`` are those it has loaded
    now, ``loading`` the one it is loading, ``budget_gib`` the memory they may
    take together (nil until the first load has sized it).
    """

    TYPE: ClassVar[str] = "model_list"
    models: list[str]
    state: str
    default: str = ""
    loading: str | None = None
    budget_gib: float | None = None


@dataclass(frozen=True, slots=True)
class ErrorReply(Reply):
    """The request could not be served; ``kind`` is an :class:`ErrorKind`."""

    TYPE: ClassVar[str] = "error"
    rid: int | None  # type: ignore[assignment]  # unknown when the request was unreadable
    kind: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", LIMITS.clip_error(self.message))


# -------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Accepted(Event):
    """A job was queued (again), or given another priority while queued."""

    TYPE: ClassVar[str] = "accepted"
    job: int
    priority: int
    prompt: str


@dataclass(frozen=True, slots=True)
class Started(Event):
    """A job started running, in a batch with the listed jobs."""

    TYPE: ClassVar[str] = "started"
    job: int
    attempt: int
    batch: list[int]


@dataclass(frozen=True, slots=True)
class Loading(Event):
    """The job's model is being loaded (it was not warm); the job is ``running``.

    Sent before ``started`` to each job of the batch that waits for the load.
    """

    TYPE: ClassVar[str] = "loading"
    job: int
    model: str


@dataclass(frozen=True, slots=True)
class Loaded(Event):
    """The job's model was loaded in ``seconds``; ``started`` follows."""

    TYPE: ClassVar[str] = "loaded"
    job: int
    model: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Progress(Event):
    """One step done (a denoising step; a set's frame; a training step); maybe a PNG preview.

    A generate job's preview (at most 64 px, from the latents) shows the
    batch's first image, so only the first job of a batch carries one. A set
    job's steps are the units of its asset (frame k of n, tile k of n,
    drawing k of n), each with the latest one as its preview; a train job's
    are training steps, with ``loss``, ``lr`` and ``it_s``, and its preview
    is the latest validation grid.
    """

    TYPE: ClassVar[str] = "progress"
    job: int
    step: int
    total: int
    elapsed_s: float
    eta_s: float | None = None
    preview: bytes | None = None
    loss: float | None = None
    lr: float | None = None
    it_s: float | None = None


@dataclass(frozen=True, slots=True)
class Done(Event):
    """A job finished; ``outputs`` has one map of paths per image."""

    TYPE: ClassVar[str] = "done"
    job: int
    outputs: list[dict[str, str]]
    seconds: float


@dataclass(frozen=True, slots=True)
class Failed(Event):
    """A job failed for good; ``kind`` is its code in ``ERROR_CODES``."""

    TYPE: ClassVar[str] = "failed"
    job: int
    kind: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", LIMITS.clip_error(self.message))


@dataclass(frozen=True, slots=True)
class Cancelled(Event):
    """A job was cancelled."""

    TYPE: ClassVar[str] = "cancelled"
    job: int


@dataclass(frozen=True, slots=True)
class Subscribed(Event):
    """A subscriber joined ``subscription``: from now on it receives that topic's events.

    Published under the subscribed topic itself, so the new subscriber learns
    that its subscription has reached the worker (ZeroMQ subscriptions travel
    asynchronously; events published before that are not delivered to it).
    """

    TYPE: ClassVar[str] = "subscribed"
    subscription: str

    def topic(self) -> str:
        """The subscribed topic (``""`` for a subscriber to every event)."""
        return self.subscription


@dataclass(frozen=True, slots=True)
class WorkerEvent(Event):
    """The worker changed state, or its warm models changed (``warm``, most recent first)."""

    TYPE: ClassVar[str] = "worker"
    state: str
    model: str
    warm: list[str] = field(default_factory=list)


REQUEST_TYPES: dict[str, type[Request]] = {
    c.TYPE: c for c in (Ping, Submit, Cancel, Status, ListJobs, Models, Reprioritise, Retry)
}
REPLY_TYPES: dict[str, type[Reply]] = {
    c.TYPE: c for c in (Pong, JobReply, JobList, ModelList, ErrorReply)
}
EVENT_TYPES: dict[str, type[Event]] = {
    c.TYPE: c
    for c in (
        Accepted,
        Loading,
        Loaded,
        Started,
        Progress,
        Done,
        Failed,
        Cancelled,
        Subscribed,
        WorkerEvent,
    )
}
_ALL_TYPES: dict[str, type[Message]] = {**REQUEST_TYPES, **REPLY_TYPES, **EVENT_TYPES}


def generation_request(data: Mapping[str, Any]) -> GenerationRequest:
    """``submit.request`` as a :class:`GenerationRequest`, every field's type checked.

    The wire form is :meth:`GenerationRequest.to_dict`'s: ``size`` a list of
    two ints, ``loras`` a list of ``{"id": str, "weight": float}`` maps. Raises
    :class:`~dgx_pixels.errors.RequestError` naming the field.

    >>> generation_request({"prompt": "a slime", "count": 1.5})
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.RequestError: invalid request: Expected `int`, got `float` - at `$.count`
    """
    unknown = sorted(str(k) for k in data if k not in _REQUEST_FIELDS)
    if unknown:
        raise RequestError(f"unknown request field(s): {_shown(', '.join(unknown))}")
    try:
        return msgspec.convert(data, GenerationRequest, strict=True)
    except msgspec.ValidationError as exc:
        raise RequestError(f"invalid request: {exc}") from None


_REQUEST_FIELDS = frozenset(f.name for f in dataclasses.fields(GenerationRequest))


# ------------------------------------------------------------------ encode/decode


def encode(message: Message) -> bytes:
    """The msgpack frame for ``message``, with ``v`` and ``type``."""
    if not message.TYPE:
        raise TypeError(f"{type(message).__name__} is not a top-level message")
    return _ENCODER.encode({"v": PROTOCOL_VERSION, "type": message.TYPE, **message.to_wire()})


def decode(
    frame: bytes,
    *,
    expect: Mapping[str, type[Message]] | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Message:
    """Parse and validate one frame; ``expect`` limits the accepted types.

    Raises :class:`~dgx_pixels.errors.ProtocolError` (its ``context["kind"]``
    is an :class:`ErrorKind`, ``context["rid"]`` the request id when readable).
    """
    if len(frame) > max_bytes:
        raise ProtocolError(
            f"message is {len(frame)} bytes, over the {max_bytes}-byte limit",
            kind=ErrorKind.TOO_LARGE,
        )
    try:
        data = _DECODER.decode(frame)
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        raise ProtocolError(
            f"not a valid msgpack message: {str(exc)[:120] or type(exc).__name__}",
            kind=ErrorKind.MALFORMED,
        ) from None
    if not isinstance(data, dict):
        raise ProtocolError(
            f"a message must be a msgpack map, got {type(data).__name__}", kind=ErrorKind.MALFORMED
        )
    if not all(isinstance(k, str) for k in data):
        raise ProtocolError("a message's keys must be strings", kind=ErrorKind.MALFORMED)
    rid = data.get("rid")
    rid = rid if type(rid) is int and 0 <= rid <= MAX_ID else None
    version = data.pop("v", None)
    if type(version) is not int or version != PROTOCOL_VERSION:  # ``true`` is no version
        raise ProtocolError(
            f"protocol version {version!r} is not supported; this side speaks {PROTOCOL_VERSION}",
            kind=ErrorKind.VERSION,
            rid=rid,
        )
    type_name = data.pop("type", None)
    table = _ALL_TYPES if expect is None else expect
    cls = table.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise ProtocolError(
            f"unknown message type {_shown(type_name)}", kind=ErrorKind.UNKNOWN_TYPE, rid=rid
        )
    try:
        return cls.from_wire(data)
    except ProtocolError as exc:
        exc.context.setdefault("rid", rid)
        raise


def encoded_size(message: Message) -> int:
    """Bytes of ``message``'s payload map (a record's share of a reply), without ``v``/``type``."""
    return len(_ENCODER.encode(message.to_wire()))


# --------------------------------------------------------------- field checking


def _refuse_ext(code: int, data: memoryview) -> Any:
    raise ValueError(f"msgpack extension type {code} is not allowed")


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(ext_hook=_refuse_ext)


def _shown(value: Any) -> str:
    """``repr(value)``, cut short: an error message never echoes a whole field."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ProtocolError(
            f"{name} must be between {low} and {high}, got {_shown(value)}", kind=ErrorKind.INVALID
        )


def _check_choice(name: str, value: str, choices: list[str]) -> None:
    if value not in choices:
        raise ProtocolError(
            f"{name} must be one of {', '.join(choices)}, got {_shown(value)}",
            kind=ErrorKind.INVALID,
        )


_HINTS: dict[type[Message], dict[str, Any]] = {}


def _hints(cls: type[Message]) -> dict[str, Any]:
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "nil"
    if isinstance(tp, type) and issubclass(tp, Message):
        return "map"
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"list[{_type_name(typing.get_args(tp)[0])}]"
    if origin is dict:
        return "map"
    return {int: "int", float: "float", str: "str", bool: "bool", bytes: "bin"}.get(tp, str(tp))


def _to_wire(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_wire()
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    return value


# ------------------------------------------------------------------ documentation


def markdown_table() -> str:
    """The message table of ``docs/protocol.md``, generated from the classes above.

    ``python -m dgx_pixels.jobs.protocol`` prints it; a test checks that the
    document holds exactly this table.
    """
    rows = ["| kind | type | fields | meaning |", "|---|---|---|---|"]
    classes: list[type[Message]] = [
        *REQUEST_TYPES.values(),
        *REPLY_TYPES.values(),
        *EVENT_TYPES.values(),
        JobRecord,
    ]
    for cls in classes:
        hints = _hints(cls)
        fields = ", ".join(
            f"`{f.name}`: {_type_name(hints[f.name])}" + ("" if _required(f) else " (optional)")
            for f in dataclasses.fields(cls)
        )
        doc = (cls.__doc__ or "").strip().splitlines()[0].replace("|", "\\|")
        name = cls.TYPE or f"({cls.__name__})"
        rows.append(f"| {cls.KIND} | `{name}` | {fields or '-'} | {doc} |")
    return "\n".join(rows) + "\n"


def error_codes_table() -> str:
    """The failure-code table of ``docs/protocol.md``, generated from :data:`ERROR_CODES`."""
    rows = ["| code | raised by clients as | exit |", "|---|---|---|"]
    rows += [
        f"| `{code}` | `{cls.__name__}` | {cls.exit_code} |" for code, cls in ERROR_CODES.items()
    ]
    return "\n".join(rows) + "\n"


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


if __name__ == "__main__":
    print(markdown_table(), end="")
    print()
    print(error_codes_table(), end="")
