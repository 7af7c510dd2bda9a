"""Property: any request with one wrong-typed field is answered `malformed` or `request`.

Never accepted, never `internal`, over a real socket to a real worker. What
"wrong-typed" means is decided here, from the annotations, by a checker of
this test's own (not by the msgspec the worker uses).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dgx_pixels.jobs import protocol as p
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL
from .helpers import RawSocket, pack

REQUEST = GenerationRequest(prompt="a slime", model=MODEL, seed=1, steps=1).to_dict()

VALID: dict[str, dict[str, Any]] = {
    "ping": {"rid": 1},
    "submit": {"rid": 1, "request": REQUEST, "priority": 0, "force": False},
    "cancel": {"rid": 1, "job": 1},
    "status": {"rid": 1, "job": 1},
    "jobs": {"rid": 1, "states": ["queued"], "limit": 5, "offset": 0},
    "models": {"rid": 1},
    "reprioritise": {"rid": 1, "job": 1, "priority": 5},
    "retry": {"rid": 1, "job": 1},
}

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.binary(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def fits(value: Any, tp: Any) -> bool:
    """Whether ``value`` (as msgpack decodes it) is of the annotated type ``tp``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return True
    if origin in (Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if tp is type(None):
        return value is None
    if tp is float:
        return type(value) in (int, float)
    if tp in (int, str, bool, bytes):
        return type(value) is tp
    if origin is list or (origin is tuple and args[-1:] == (Ellipsis,)):
        return isinstance(value, list) and all(fits(v, args[0]) for v in value)
    if origin is tuple:
        return isinstance(value, list) and len(value) == len(args) and all(map(fits, value, args))
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        return isinstance(value, dict) and all(type(k) is str for k in value)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return isinstance(value, dict) and all(
            k in hints and fits(v, hints[k]) for k, v in value.items()
        )
    raise AssertionError(f"no rule for {tp!r}")


REQUEST_HINTS = typing.get_type_hints(GenerationRequest)


def _cases() -> list[tuple[str, str, Any]]:
    """(message type, field, its annotation); ``request.X`` for GenerationRequest fields."""
    cases: list[tuple[str, str, Any]] = []
    for name, cls in p.REQUEST_TYPES.items():
        hints = typing.get_type_hints(cls)
        cases += [(name, f.name, hints[f.name]) for f in dataclasses.fields(cls)]
        cases.append((name, "v", int))
    cases += [("submit", f"request.{f}", tp) for f, tp in REQUEST_HINTS.items()]
    return cases


@st.composite
def mistyped(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid request with one field of the wrong type, and the error kind it must get."""
    name, field, tp = draw(st.sampled_from(_cases()))
    value = draw(values.filter(lambda v: not fits(v, tp)))
    message = {"v": 1, "type": name, **VALID[name]}
    if field.startswith("request."):
        message["request"] = {**REQUEST, field.removeprefix("request."): value}
        return message, "request"
    message[field] = value
    return message, "version" if field == "v" else "malformed"


def test_a_wrong_typed_field_is_malformed_or_a_request_error(start_worker) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:

        @settings(
            max_examples=400,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(mistyped())
        def check(case: tuple[dict[str, Any], str]) -> None:
            message, kind = case
            reply = raw.call(pack(message))
            assert isinstance(reply, p.ErrorReply), f"accepted {message!r}"
            assert reply.kind == kind, f"{message!r}: {reply.kind}: {reply.message}"

        check()
    finally:
        raw.close()
    with w.client() as c:
        assert c.jobs().total == 0  # nothing was queued
