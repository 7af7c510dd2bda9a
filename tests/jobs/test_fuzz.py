"""Fuzz: thousands of malformed messages; the worker answers each and keeps serving."""

from __future__ import annotations

from typing import Any

import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dgx_pixels.jobs import protocol as p

from .helpers import RawSocket, pack

SETTINGS = settings(
    max_examples=700,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

#: Maps that look like requests: right version and a real type, wrong or odd fields.
near_valid = st.fixed_dictionaries(
    {
        "v": st.sampled_from([1, 1, 1, 0, 2, "1", None]),
        "type": st.sampled_from([*p.REQUEST_TYPES, *p.EVENT_TYPES, "pong", "", "PING"]),
    },
    optional={
        "rid": st.integers(min_value=-5, max_value=2**64 - 1) | plain,
        "job": st.integers(min_value=-5, max_value=10) | plain,
        "request": st.fixed_dictionaries(
            {"prompt": st.text(max_size=10) | plain},
            optional={"size": plain, "steps": plain, "model": st.just("fake:tiny") | plain},
        )
        | plain,
        "priority": plain,
        "states": plain,
        "limit": plain,
        "offset": plain,
        "junk": plain,
    },
)


def _probe(raw: RawSocket, *frames: bytes) -> None:
    """One odd message gets one well-formed reply; then a ping still answers."""
    reply = raw.call(*frames)
    assert isinstance(reply, p.Reply)
    pong = raw.call(p.encode(p.Ping(rid=424242)))
    assert isinstance(pong, p.Pong)
    assert pong.rid == 424242


def test_fuzzed_messages_never_break_the_worker(start_worker) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:

        @SETTINGS
        @given(st.binary(max_size=200))
        def random_bytes(frame: bytes) -> None:
            _probe(raw, frame)

        @SETTINGS
        @given(plain)
        def random_msgpack(value: Any) -> None:
            _probe(raw, pack(value))

        @SETTINGS
        @given(near_valid)
        def near_valid_maps(value: dict[str, Any]) -> None:
            _probe(raw, pack(value))

        @settings(SETTINGS, max_examples=200)
        @given(st.lists(st.binary(max_size=30), min_size=2, max_size=5))
        def multi_frame(frames: list[bytes]) -> None:
            _probe(raw, *frames)

        random_bytes()
        random_msgpack()
        near_valid_maps()
        multi_frame()
    finally:
        raw.close()
    assert w.thread.is_alive()


def test_oversized_frames_get_an_error_and_huge_ones_only_drop_that_client(start_worker) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:
        reply = raw.call(b"\x00" * (p.LIMITS.request_bytes + 1))
        assert isinstance(reply, p.ErrorReply)
        assert reply.kind == "too_large"
        huge = RawSocket(w.address)  # over the hard limit: ZeroMQ drops the connection
        huge.sock.send(b"\x00" * (3 * p.LIMITS.request_bytes), flags=zmq.NOBLOCK)
        huge.close()
        assert isinstance(raw.call(p.encode(p.Ping(rid=1))), p.Pong)
    finally:
        raw.close()
