"""The limits table at the edge: floods of subscriptions, oversized fields, replies that fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgx_pixels.errors import ProtocolError, RequestError
from dgx_pixels.jobs import limits as lim
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.limits import LIMITS, Limits
from dgx_pixels.request import GenerationRequest, LoraRef

from .conftest import MODEL
from .helpers import RawSocket, pack, zmtp_subscribe

DOC = Path(__file__).parents[2] / "docs" / "jobs.md"


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _submit(raw: RawSocket, rid: int, request: dict[str, object]) -> p.Reply:
    return raw.call(pack({"v": 1, "type": "submit", "rid": rid, "request": request}))


def req(prompt: str = "a slime", **fields: object) -> dict[str, object]:
    return {"prompt": prompt, "model": MODEL, "seed": 1, "steps": 1, **fields}


def test_docs_state_the_limits_table() -> None:
    text = DOC.read_text()
    begin, end = "<!-- limits:begin -->\n", "<!-- limits:end -->"
    assert text.split(begin, 1)[1].split(end, 1)[0] == lim.markdown_table(), (
        "regenerate with: python -m dgx_pixels.jobs.limits"
    )


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="RSS from /proc")
def test_a_flood_of_huge_subscription_topics_leaves_the_worker_memory_alone(start_worker) -> None:
    # Before the limits, each 20 MB topic grew the worker by ~12x its size, for good.
    w = start_worker()
    raw = RawSocket(w.address)
    try:
        assert isinstance(raw.call(p.encode(p.Ping(rid=1))), p.Pong)
        topic = b"job." + b"9" * 20_000_000
        before = _rss_bytes()
        for _ in range(10):
            zmtp_subscribe(w.worker.events, [topic])
        assert isinstance(raw.call(p.encode(p.Ping(rid=2))), p.Pong)
        grown = _rss_bytes() - before
    finally:
        raw.close()
    assert grown < 64 * 1024 * 1024, f"the worker grew by {grown / 2**20:.0f} MiB"
    with w.client() as c:  # subscribers still get their events
        job = c.submit(GenerationRequest(**req()))  # type: ignore[arg-type]
        assert isinstance(list(c.watch(job.id))[-1], p.Done)


def test_only_topics_events_are_published_under_are_admitted(start_worker) -> None:
    import zmq

    w = start_worker()
    with w.client() as c:
        c.ping()
        job = c.submit(GenerationRequest(**req()))  # type: ignore[arg-type]
        sub = zmq.Context.instance().socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        try:
            for topic in (b"job.999999", b"bogus", b"job.01", b"x" * 40, f"job.{job.id}".encode()):
                sub.setsockopt(zmq.SUBSCRIBE, topic)
            sub.connect(w.worker.events)
            assert sub.poll(60_000)
            topic, frame = sub.recv_multipart()
            event = p.decode(frame, expect=p.EVENT_TYPES)
            # the refused topics (sent first) got no welcome: the admitted one did
            assert isinstance(event, p.Subscribed)
            assert event.subscription == f"job.{job.id}" == topic.decode()
        finally:
            sub.close(linger=0)


@pytest.mark.parametrize(
    ("fields", "limit"),
    [
        ({"prompt": "x" * (LIMITS.prompt_chars + 1)}, "prompt_chars"),
        ({"negative": "x" * (LIMITS.negative_chars + 1)}, "negative_chars"),
        ({"scheduler": "x" * (LIMITS.name_chars + 1)}, "name_chars"),
        ({"out": "x" * (LIMITS.path_chars + 1)}, "path_chars"),
        ({"loras": [{"id": f"a/b{i}", "weight": 1.0} for i in range(17)]}, "loras"),
        ({"extra": {"x": "y" * LIMITS.extra_bytes}}, "extra_bytes"),
    ],
)
def test_a_field_over_its_limit_is_refused_naming_the_limit(
    start_worker, fields: dict[str, object], limit: str
) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:
        reply = _submit(raw, 7, req(**fields))
    finally:
        raw.close()
    assert isinstance(reply, p.ErrorReply)
    assert (reply.kind, reply.rid) == ("request", 7)
    assert f"({limit})" in reply.message
    assert len(reply.message) < 300  # the bad value is not echoed whole


def test_limits_check_is_the_one_the_worker_uses() -> None:
    with pytest.raises(RequestError, match=r"over the limit of 3 \(prompt_chars\)"):
        Limits(prompt_chars=3).check_request(GenerationRequest(prompt="four"))


def test_a_record_at_every_limit_fits_one_reply() -> None:
    wide = "\U0001d4c1"  # four bytes in UTF-8: the worst case per character
    path = wide * LIMITS.path_chars
    name = wide * LIMITS.name_chars
    request = GenerationRequest(
        prompt=wide * LIMITS.prompt_chars,
        negative=wide * LIMITS.negative_chars,
        count=64,
        seed=1,
        model=name,
        scheduler=name,
        palette=name,
        out=path,
        init=path,
        mask=path,
        loras=tuple(LoraRef(f"{path[:-3]}{i:03}") for i in range(LIMITS.loras)),
        extra={"k": "v" * (LIMITS.extra_bytes - 16)},
    )
    LIMITS.check_request(request)
    data = request.to_dict()
    del data["prompt"]
    outputs = [
        {
            role: f"{path}/{wide * 60}-{i}.{role}.png"
            for role in ("sprite", "preview", "raw", "metadata")
        }
        for i in range(64)
    ]
    record = p.JobRecord(
        id=p.MAX_ID, state="failed", priority=-1000, attempts=3, prompt=request.prompt,
        model=request.model, request=data, created=1e10, started=1e10, finished=1e10,
        outputs=outputs, error_kind="generation", error=wide * 10_000, force=True,
    )  # fmt: skip
    frame = p.encode(p.JobReply(rid=p.MAX_ID, job=record))
    assert len(frame) < LIMITS.reply_bytes
    assert len(record.error or "") == LIMITS.error_chars  # cut when made


def test_job_pages_fit_the_reply_limit_and_page_through_every_job(start_worker) -> None:
    budget = 64 * 1024
    w = start_worker(limits=Limits(reply_bytes=budget))
    w.backend.hold.clear()  # keep them queued: only the records matter
    raw = RawSocket(w.address)
    try:
        ids = []
        for i in range(40):
            reply = _submit(raw, i + 1, req(f"{i} " + "p" * 1990, negative="n" * 2000))
            assert isinstance(reply, p.JobReply), reply
            ids.append(reply.job.id)
        seen: list[int] = []
        offset: int | None = 0
        pages = 0
        while offset is not None:
            raw.sock.send(p.encode(p.ListJobs(rid=100, limit=1000, offset=offset)))
            assert raw.sock.poll(60_000)
            frame = raw.sock.recv()
            assert len(frame) <= budget
            page = p.decode(frame, expect=p.REPLY_TYPES)
            assert isinstance(page, p.JobList)
            assert page.total == 40
            seen += [j.id for j in page.jobs]
            assert all("prompt" not in j.request for j in page.jobs)  # carried once
            offset, pages = page.next_offset, pages + 1
    finally:
        raw.close()
        w.backend.hold.set()
    assert sorted(seen) == sorted(ids)
    assert pages > 1


def test_a_record_too_big_for_a_reply_breaks_nothing_for_other_jobs(start_worker) -> None:
    # Only a store written before the limits can hold one: put it there directly.
    from dgx_pixels.jobs.store import JobStore

    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c:
        before = c.submit(GenerationRequest(**req("before")))  # type: ignore[arg-type]
        with JobStore(w.data.jobs_db) as store:
            huge = store.submit(GenerationRequest(**req("x" * (2 * LIMITS.reply_bytes))))  # type: ignore[arg-type]
        after = c.submit(GenerationRequest(**req("after")))  # type: ignore[arg-type]
        page = c.jobs()
        assert [j.id for j in page.jobs] == [after.id, before.id]  # the huge one left out
        assert (page.total, page.next_offset) == (3, None)
        with pytest.raises(ProtocolError, match=r"over the limit of 1048576 \(reply_bytes\)"):
            c.status(huge.id)
        assert c.status(after.id).prompt == "after"
        assert c.cancel(after.id).state == "cancelled"
    w.backend.hold.set()
