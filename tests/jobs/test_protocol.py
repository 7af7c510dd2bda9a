"""The protocol: every message round-trips; bad frames raise ProtocolError with a kind."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest

from dgx_pixels.errors import ProtocolError
from dgx_pixels.jobs import protocol as p

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"

RECORD = p.JobRecord(
    id=3,
    state="done",
    priority=1,
    attempts=1,
    prompt="a slime",
    model="m",
    request={"prompt": "a slime", "size": [16, 16]},
    created=1.5,
    started=2.0,
    finished=3.0,
    outputs=[{"sprite": "/x/a-slime-1.png"}],
)

EXAMPLES: list[p.Message] = [
    p.Ping(rid=1),
    p.Submit(rid=2, request={"prompt": "a knight"}, priority=-5),
    p.Cancel(rid=3, job=9),
    p.Status(rid=4, job=9),
    p.ListJobs(rid=5, states=["queued", "done"], limit=10, offset=20),
    p.Models(rid=6),
    p.Reprioritise(rid=7, job=9, priority=-1000),
    p.Retry(rid=8, job=9),
    p.Pong(
        rid=1,
        state="ready",
        model="m",
        version="0.1",
        pid=1,
        events="tcp://x:1",
        queued=2,
        running=1,
        warm=["m", "n"],
        loading="o",
    ),
    p.JobReply(rid=2, job=RECORD),
    p.JobList(rid=5, jobs=[RECORD, RECORD], total=7),
    p.ModelList(rid=6, models=["m"], state="busy", default="m", loading="n", budget_gib=96.0),
    p.ErrorReply(rid=None, kind="malformed", message="bad"),
    p.Accepted(job=1, priority=0, prompt="x"),
    p.Loading(job=1, model="n"),
    p.Loaded(job=1, model="n", seconds=12.5),
    p.Started(job=1, attempt=2, batch=[1, 2]),
    p.Progress(job=1, step=3, total=30, elapsed_s=1.0, eta_s=9.0, preview=b"\x89PNG"),
    p.Done(job=1, outputs=[{"sprite": "a.png"}], seconds=1.5),
    p.Failed(job=1, kind="GenerationError", message="boom"),
    p.Cancelled(job=1),
    p.Subscribed(subscription="job.1"),
    p.WorkerEvent(state="draining", model="m", warm=["m"]),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.TYPE)
def test_every_message_round_trips(message: p.Message) -> None:
    frame = p.encode(message)
    assert msgpack.unpackb(frame)["v"] == p.PROTOCOL_VERSION
    assert p.decode(frame) == message


def test_every_type_has_an_example() -> None:
    types = {m.TYPE for m in EXAMPLES}
    assert types == set(p.REQUEST_TYPES) | set(p.REPLY_TYPES) | set(p.EVENT_TYPES)


def test_event_topics() -> None:
    assert p.Progress(job=12, step=1, total=2, elapsed_s=0.1).topic() == "job.12"
    assert p.WorkerEvent(state="ready", model="m").topic() == "worker"
    assert p.Subscribed(subscription="job.7").topic() == "job.7"
    assert p.Subscribed(subscription="").topic() == ""


def _kind(frame: bytes, **kwargs: object) -> str:
    with pytest.raises(ProtocolError) as info:
        p.decode(frame, **kwargs)  # type: ignore[arg-type]
    return str(info.value.context["kind"])


def pack(data: object) -> bytes:
    return msgpack.packb(data, use_bin_type=True)


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (b"", "malformed"),
        (b"\xc1", "malformed"),  # never-used msgpack byte
        (pack([1, 2]), "malformed"),
        (pack({"type": "ping", "rid": 1}), "version"),
        (pack({"v": 99, "type": "ping", "rid": 1}), "version"),
        (pack({"v": 1, "type": "fly", "rid": 1}), "unknown_type"),
        (pack({"v": 1, "rid": 1}), "unknown_type"),
        (pack({"v": 1, "type": "cancel", "rid": 1}), "malformed"),  # missing job
        (pack({"v": 1, "type": "cancel", "rid": 1, "job": "7"}), "malformed"),
        (pack({"v": 1, "type": "cancel", "rid": 1, "job": True}), "malformed"),
        (pack({"v": 1, "type": "ping", "rid": 1, "extra": 0}), "malformed"),
        (pack({"v": 1, "type": "ping", "rid": -1}), "invalid"),
        (pack({"v": 1, "type": "jobs", "rid": 1, "limit": 0}), "invalid"),
        (pack({"v": 1, "type": "jobs", "rid": 1, "states": ["sleeping"]}), "invalid"),
        (pack({"v": 1, "type": "submit", "rid": 1, "request": {}, "priority": 10**6}), "invalid"),
        (pack({"v": 1, "type": "ping", "rid": msgpack.ExtType(5, b"x")}), "malformed"),
        (pack({1: 2}), "malformed"),  # a non-string key
        (pack({"v": True, "type": "ping", "rid": 1}), "version"),  # true is no version
        (pack({"v": 1.0, "type": "ping", "rid": 1}), "version"),
        (pack({"v": 1, "type": "ping", "rid": 1.5}), "malformed"),
        (pack({"v": 1, "type": "status", "rid": 1, "job": 2**63}), "invalid"),
        (pack({"v": 1, "type": "cancel", "rid": 1, "job": 2**64 - 1}), "invalid"),
        (pack({"v": 1, "type": "status", "rid": 1, "job": 1.5}), "malformed"),
        (pack({"v": 1, "type": "jobs", "rid": 1, "offset": 2**63}), "invalid"),
        (pack({"v": 1, "type": "jobs", "rid": 1, "limit": 1.0}), "malformed"),
        (pack({"v": 1, "type": "submit", "rid": 1, "request": {}, "force": 1}), "malformed"),
    ],
)
def test_bad_frames_are_protocol_errors(frame: bytes, kind: str) -> None:
    assert _kind(frame) == kind


def test_deep_nesting_is_refused() -> None:
    # msgpack.packb itself refuses such depth: build the frame by hand.
    deep = b"\x91" * 200_000 + b"\xa1x"
    assert _kind(b"\x84\xa1v\x01\xa4type\xa6submit\xa3rid\x01\xa7request" + deep) == "malformed"


def test_size_limit_and_request_id_kept() -> None:
    big = p.encode(p.Submit(rid=4, request={"prompt": "x" * (p.MAX_MESSAGE_BYTES + 1)}))
    assert _kind(big) == "too_large"
    with pytest.raises(ProtocolError) as info:
        p.decode(pack({"v": 1, "type": "cancel", "rid": 42, "job": "x"}))
    assert info.value.context["rid"] == 42


def test_expect_limits_the_types() -> None:
    assert _kind(p.encode(p.Cancelled(job=1)), expect=p.REQUEST_TYPES) == "unknown_type"


def test_docs_tables_are_the_generated_ones() -> None:
    text = DOC.read_text()
    for name, table in (("messages", p.markdown_table()), ("codes", p.error_codes_table())):
        begin, end = f"<!-- {name}:begin -->\n", f"<!-- {name}:end -->"
        assert text.split(begin, 1)[1].split(end, 1)[0] == table, (
            "regenerate with: python -m dgx_pixels.jobs.protocol"
        )


def test_failures_cross_the_wire_as_declared_codes() -> None:
    from dgx_pixels.errors import GenerationError, JobError, OutputExistsError

    assert p.error_code(OutputExistsError("x")) == "output_exists"
    assert p.error_class("output_exists") is OutputExistsError
    assert p.error_class("OutputExistsError") is OutputExistsError  # a store from before
    assert p.error_class("worker_died") is JobError
    assert p.error_class("WorkerDied") is GenerationError  # no such class: never getattr
    assert p.error_class("__class__") is GenerationError
    assert set(p.error_code(c("x")) for c in p.ERROR_CODES.values()) <= set(p.ERROR_CODES)


def test_a_submit_names_a_known_task() -> None:
    msg = p.decode(pack({"v": 1, "type": "submit", "rid": 1, "request": {}, "task": "animate"}))
    assert isinstance(msg, p.Submit)
    assert msg.task == "animate"
    assert p.decode(pack({"v": 1, "type": "submit", "rid": 1, "request": {}})).task == "generate"
    bad = pack({"v": 1, "type": "submit", "rid": 1, "request": {}, "task": "paint"})
    assert _kind(bad) == "invalid"
    assert _kind(pack({"v": 1, "type": "submit", "rid": 1, "request": {}, "task": 3})) == (
        "malformed"
    )
