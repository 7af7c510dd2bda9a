"""The worker in-process (fake generator), over real loopback sockets and a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import zmq

from dgx_pixels.errors import (
    GenerationError,
    JobError,
    ModelNotFoundError,
    OutputExistsError,
    RequestError,
    WorkerUnavailableError,
)
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import AsyncClient, Client, find_worker
from dgx_pixels.jobs.security import endpoint_host, init_keys, ip_of, load_client_keys
from dgx_pixels.jobs.spawn import spawn_worker
from dgx_pixels.jobs.store import JobStore
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL
from .fakes import FakeBackend
from .helpers import RawSocket, pack, wait_until


def req(prompt: str, **kw: object) -> GenerationRequest:
    kw.setdefault("steps", 3)
    return GenerationRequest(prompt=prompt, model=MODEL, seed=1, **kw)  # type: ignore[arg-type]


def test_a_job_runs_with_progress_previews_and_outputs(start_worker) -> None:
    w = start_worker(preview_every=5)
    w.backend.hold.clear()
    with w.client() as c:
        job = c.submit(req("a slime", steps=5, count=2))
        assert job.state == "queued"
        with c.events([job.id]) as stream:
            wait_until(w.backend.running.is_set, "the job to run")
            w.backend.hold.set()
            events = [stream.next(timeout=60)]
            while not isinstance(events[-1], p.Done):
                events.append(stream.next(timeout=60))
    events = [e for e in events if not isinstance(e, p.Started)]  # it may precede the subscription
    assert [e.TYPE for e in events] == ["progress"] * 5 + ["done"]
    progress = [e for e in events if isinstance(e, p.Progress)]
    assert [(e.step, e.total) for e in progress] == [(i, 5) for i in range(1, 6)]
    assert progress[-1].preview is not None
    assert progress[-1].preview.startswith(b"\x89PNG")
    assert all(e.preview is None for e in progress[:-1])
    done = events[-1]
    assert isinstance(done, p.Done)
    assert len(done.outputs) == 2
    folder = Path(done.outputs[0]["sprite"]).parent
    assert folder.name == f"job-{job.id}"
    assert folder.parent.parent == w.data.outputs
    assert sorted(f.name for f in folder.iterdir()) == sorted(
        Path(v).name for files in done.outputs for v in files.values()
    )
    with w.client() as c:
        record = c.status(job.id)
    assert record.state == "done"
    assert record.outputs == done.outputs
    assert record.attempts == 1


def test_cancel_a_queued_job_never_runs_it(start_worker) -> None:
    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c:
        blocker = c.submit(req("blocker"))
        wait_until(w.backend.running.is_set, "the blocker to run")
        queued = c.submit(req("queued one"))
        assert c.cancel(queued.id).state == "cancelled"
        w.backend.hold.set()
        assert isinstance(list(c.watch(blocker.id))[-1], p.Done)
        assert isinstance(list(c.watch(queued.id))[-1], p.Cancelled)
    assert w.backend.batches == [["blocker"]]


def test_cancel_a_running_job_interrupts_it(start_worker) -> None:
    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c:
        job = c.submit(req("long", steps=100))
        with c.events([job.id]) as stream:
            wait_until(w.backend.running.is_set, "the job to run")
            assert c.cancel(job.id).state == "running"  # stopping at the next step
            w.backend.hold.set()
            while not isinstance(event := stream.next(timeout=60), p.Cancelled):
                assert not isinstance(event, p.Progress), "a step ran after the cancel"
        record = c.status(job.id)
    assert record.state == "cancelled"
    assert record.outputs == []
    assert not (w.data.outputs.exists() and any(w.data.outputs.rglob("*.png")))


def test_cancelling_one_job_of_a_batch_requeues_the_others(start_worker) -> None:
    w = start_worker()
    blocker_gate, a_gate = w.backend.gate("blocker"), w.backend.gate("a")
    with w.client() as c:
        blocker = c.submit(req("blocker", size=(8, 8)))
        wait_until(lambda: w.backend.batches == [["blocker"]], "the blocker to run")
        a, b = c.submit(req("a")), c.submit(req("b"))
        blocker_gate.set()
        wait_until(lambda: w.backend.batches[-1] == ["a", "b"], "the batch of a and b")
        assert c.cancel(a.id).state == "running"
        a_gate.set()
        assert isinstance(list(c.watch(a.id))[-1], p.Cancelled)
        assert isinstance(list(c.watch(b.id))[-1], p.Done)
        assert c.status(b.id).attempts == 1  # the interrupted run did not count
        assert isinstance(list(c.watch(blocker.id))[-1], p.Done)
    assert w.backend.batches == [["blocker"], ["a", "b"], ["b"]]


def test_batching_merges_compatible_jobs_and_keeps_others_apart(start_worker) -> None:
    w = start_worker(batch_size=3)
    w.backend.hold.clear()
    with w.client() as c:
        blocker = c.submit(req("blocker", size=(8, 8)))
        wait_until(w.backend.running.is_set, "the blocker to run")
        jobs = [
            c.submit(req("a")),
            c.submit(req("b", size=(16, 16))),
            c.submit(req("c")),
            c.submit(req("d", steps=4)),
            c.submit(req("e")),
            c.submit(req("f")),
        ]
        with c.events([jobs[0].id]) as stream:
            w.backend.hold.set()
            while not isinstance(event := stream.next(timeout=60), p.Started):
                pass
        assert event.batch == [jobs[0].id, jobs[2].id, jobs[4].id]
        for job in [blocker, *jobs]:
            assert isinstance(list(c.watch(job.id))[-1], p.Done)
    assert w.backend.batches == [["blocker"], ["a", "c", "e"], ["b"], ["d"], ["f"]]


def test_priorities_order_the_queue(start_worker) -> None:
    w = start_worker(batch_size=1)
    w.backend.hold.clear()
    with w.client() as c:
        c.submit(req("blocker"))
        wait_until(w.backend.running.is_set, "the blocker to run")
        low = c.submit(req("low"), priority=-3)
        mid = c.submit(req("mid"))
        high = c.submit(req("high"), priority=7)
        mid2 = c.submit(req("mid2"))
        w.backend.hold.set()
        for job in (low, mid, high, mid2):
            list(c.watch(job.id))
    assert [b[0] for b in w.backend.batches] == ["blocker", "high", "mid", "mid2", "low"]


def test_a_failing_generation_fails_the_job_and_the_worker_goes_on(start_worker) -> None:
    w = start_worker()
    with w.client() as c:
        bad = c.submit(req("explode now"))
        [*_, last] = c.watch(bad.id)
        assert isinstance(last, p.Failed)
        assert last.kind == "generation"
        assert c.status(bad.id).error == "the fake engine was asked to fail"
        good = c.submit(req("fine"))
        assert isinstance(list(c.watch(good.id))[-1], p.Done)


def test_an_out_folder_is_replaced_only_with_force(start_worker, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    w = start_worker(roots=(out,))  # a folder of the user's, which the worker may use
    (out / "a-slime-1.png").write_bytes(b"the user's own file")
    with w.client() as c, pytest.raises(OutputExistsError, match=r"a-slime-1\.png already exists"):
        c.run(req("a slime", out=str(out)))
    assert (out / "a-slime-1.png").read_bytes() == b"the user's own file"
    with w.client() as c:
        job = c.run(req("a slime", out=str(out)), force=True)
    assert job.force
    assert job.outputs[0]["sprite"] == str(out / "a-slime-1.png")
    assert (out / "a-slime-1.png").read_bytes().startswith(b"\x89PNG")


def test_run_waits_and_raises_the_jobs_own_error(start_worker) -> None:
    w = start_worker()
    seen: list[str] = []
    with w.client() as c:
        done = c.run(req("run me", steps=2), on_event=lambda e: seen.append(e.TYPE))
        assert done.state == "done"
        assert len(done.outputs) == 1
        assert seen[-1] == "done"
        with pytest.raises(
            GenerationError, match="job 2 failed: the fake engine was asked"
        ) as info:
            c.run(req("explode"))
        assert info.value.exit_code == 6


def test_a_device_error_is_retried_up_to_max_attempts(start_worker) -> None:
    w = start_worker(max_attempts=2)
    with w.client() as c:
        job = c.submit(req("crash the gpu"))
        [*_, last] = c.watch(job.id)
        record = c.status(job.id)
    assert isinstance(last, p.Failed)
    assert (record.state, record.attempts, record.error_kind) == ("failed", 2, "device")
    assert w.backend.batches == [["crash the gpu"], ["crash the gpu"]]


def test_an_error_not_marked_transient_is_not_retried(start_worker) -> None:
    w = start_worker(max_attempts=3)
    with w.client() as c:
        job = c.submit(req("bug in a backend"))
        [*_, last] = c.watch(job.id)
        record = c.status(job.id)
        assert isinstance(list(c.watch(c.submit(req("fine")).id))[-1], p.Done)
    assert isinstance(last, p.Failed)
    assert (record.state, record.attempts, record.error_kind) == ("failed", 1, "internal")
    assert w.backend.batches[0] == ["bug in a backend"]


def test_a_failing_request_does_not_sink_its_batch_partners(start_worker) -> None:
    w = start_worker()
    blocker_gate = w.backend.gate("blocker")
    with w.client() as c:
        c.submit(req("blocker", size=(8, 8)))
        wait_until(lambda: w.backend.batches == [["blocker"]], "the blocker to run")
        bad, good = c.submit(req("explode here")), c.submit(req("fine"))
        blocker_gate.set()
        assert isinstance(list(c.watch(bad.id))[-1], p.Failed)
        assert isinstance(list(c.watch(good.id))[-1], p.Done)
    assert w.backend.batches[1:] == [["explode here", "fine"], ["explode here"], ["fine"]]


def test_bad_requests_get_clear_errors(start_worker) -> None:
    w = start_worker()
    with w.client() as c:
        with pytest.raises(RequestError, match="unknown palette 'no-such-palette'"):
            c.submit(req("x", palette="no-such-palette"))
        with pytest.raises(JobError, match="no job 404"):
            c.status(404)
        with pytest.raises(JobError, match="no job 404"):
            c.cancel(404)
    raw = RawSocket(w.address)
    try:
        reply = raw.call(pack({"v": 1, "type": "submit", "rid": 5, "request": {"prompt": " "}}))
        assert isinstance(reply, p.ErrorReply)
        assert (reply.rid, reply.kind, reply.message) == (5, "request", "prompt must not be empty")
        reply = raw.call(
            pack(
                {
                    "v": 1,
                    "type": "submit",
                    "rid": 6,
                    "request": {"prompt": "x", "model": MODEL, "extra": {"nan": float("nan")}},
                }
            )
        )
        assert isinstance(reply, p.ErrorReply)
        assert reply.kind == "request"
        assert reply.message.startswith("request fields must be plain JSON data: Out of range")
        reply = raw.call(b"a", b"b", b"c")
        assert isinstance(reply, p.ErrorReply)
        assert reply.kind == "malformed"
        assert isinstance(raw.call(p.encode(p.Ping(rid=9))), p.Pong)
    finally:
        raw.close()


def test_a_req_socket_client_works(start_worker) -> None:
    w = start_worker()
    raw = RawSocket(w.address, zmq.REQ)
    try:
        reply = raw.call(p.encode(p.Models(rid=1)))
        assert isinstance(reply, p.ModelList)
        assert reply.models == [MODEL]
    finally:
        raw.close()


def test_jobs_lists_and_filters(start_worker) -> None:
    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c:
        ids = [c.submit(req(f"j{i}", size=(8 + i, 8))).id for i in range(4)]
        wait_until(w.backend.running.is_set, "the first job to run")
        c.cancel(ids[3])
        page = c.jobs(limit=2)
        assert [j.id for j in page.jobs] == [ids[3], ids[2]]
        assert page.total == 4
        assert [j.id for j in c.jobs(["cancelled"]).jobs] == [ids[3]]
        assert {j.id for j in c.jobs(["queued", "running"]).jobs} == set(ids[:3])
        pong = c.ping()
        assert (pong.state, pong.queued, pong.running) == ("busy", 2, 1)
        w.backend.hold.set()


def test_drain_finishes_the_running_job_and_keeps_the_queue(start_worker, tmp_path) -> None:
    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c, c.events(worker=True) as worker_events:
        running = c.submit(req("running"))
        wait_until(w.backend.running.is_set, "the job to run")
        queued = c.submit(req("queued", size=(16, 16)))
        w.worker.request_stop()
        wait_until(lambda: c.ping().state == "draining", "draining")
        w.backend.hold.set()
        w.thread.join()
        states: list[str] = []
        while not states or states[-1] != "stopped":
            event = worker_events.next(timeout=60)
            assert isinstance(event, p.WorkerEvent)
            states.append(event.state)
    assert states[-2:] == ["draining", "stopped"]  # the last events reach subscribers
    assert not w.errors
    with JobStore(w.data.jobs_db) as store:
        assert store.get(running.id).state == "done"
        assert store.get(queued.id).state == "queued"
    w2 = start_worker(data_root=w.data.root)
    with w2.client() as c:
        assert isinstance(list(c.watch(queued.id))[-1], p.Done)


def test_stop_now_requeues_the_running_job_without_counting_it(start_worker) -> None:
    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c:
        job = c.submit(req("interrupted", steps=50))
        wait_until(w.backend.running.is_set, "the job to run")
    w.worker.request_stop(now=True)
    w.backend.hold.set()
    w.thread.join()
    with JobStore(w.data.jobs_db) as store:
        record = store.get(job.id)
    assert (record.state, record.attempts) == ("queued", 0)


def test_while_loading_it_answers_queues_and_can_stop(start_worker) -> None:
    backend = FakeBackend()
    backend.loading.clear()
    w = start_worker(backend)
    with w.client() as c:
        assert c.ping().state == "loading"
        job = c.submit(req("early"))
    w.stop(now=False)  # returns at once: nothing is running yet
    assert w.worker.state == "stopped"
    backend.loading.set()
    w.worker._runner_thread.join()
    assert backend.batches == []  # the late-loaded model ran nothing
    with JobStore(w.data.jobs_db) as store:
        assert store.get(job.id).state == "queued"


def test_a_model_that_cannot_load_stops_the_worker(start_worker) -> None:
    w = start_worker(model="missing:model")
    w.thread.join()
    assert len(w.errors) == 1
    assert isinstance(w.errors[0], ModelNotFoundError)


def test_one_worker_per_data_dir(start_worker) -> None:
    w = start_worker()
    with pytest.raises(JobError, match=r"another worker .* is serving"):
        start_worker(data_root=w.data.root)


def test_no_worker_is_a_clear_error() -> None:
    address = "tcp://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(
        WorkerUnavailableError, match=r"no worker answered at tcp://127\.0\.0\.1:9 "
    ):
        Client(address, timeout=0.2).ping()
    assert find_worker(address, timeout=0.2) is None


def test_ipv6_loopback(start_worker) -> None:
    w = start_worker(bind="tcp://[::1]:*")
    assert w.address.startswith("tcp://[::1]:")
    with w.client() as c:
        job = c.submit(req("over ipv6"))
        assert isinstance(list(c.watch(job.id))[-1], p.Done)


def test_find_worker(start_worker) -> None:
    w = start_worker()
    assert w.address.startswith("tcp://127.0.0.1:")  # not the dual-stack [::ffff:127.0.0.1]
    pong = find_worker(w.address)
    assert pong is not None
    assert pong.model == MODEL


def test_non_loopback_needs_keys_and_curve_works(start_worker, tmp_path: Path) -> None:
    data_root = tmp_path / "curve"
    with pytest.raises(JobError, match="--init-keys"):
        start_worker(data_root=data_root, bind="tcp://0.0.0.0:*")
    init_keys(data_root / "keys")
    w = start_worker(data_root=data_root, bind="tcp://0.0.0.0:*")
    port = w.address.rpartition(":")[2]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(WorkerUnavailableError):  # no keys: the handshake fails, nothing answers
        Client(address, timeout=0.3).ping()
    keys = load_client_keys(data_root / "keys")
    assert keys is not None
    with Client(address, keys=keys) as c:
        events_host = ip_of(endpoint_host(c.ping().events))
        assert events_host is not None
        assert events_host.is_unspecified  # bound to every interface: reached via 127.0.0.1
        job = c.submit(req("secret"))
        assert isinstance(list(c.watch(job.id))[-1], p.Done)
    with pytest.raises(JobError, match="needs CURVE keys"):
        Client(f"tcp://10.255.255.1:{port}", data_dir=tmp_path / "empty")


def test_async_client(start_worker) -> None:
    w = start_worker()

    async def main() -> list[str]:
        async with AsyncClient(w.address) as c:
            assert (await c.ping()).model == MODEL
            assert (await c.models()).models == [MODEL]
            job = await c.submit(req("async", steps=2))
            kinds = [e.TYPE async for e in c.watch(job.id)]
            assert (await c.status(job.id)).state == "done"
            assert (await c.jobs()).total == 1
            with pytest.raises(JobError, match="no job 77"):
                await c.cancel(77)
            return kinds

    assert asyncio.run(main())[-1] == "done"


def test_spawn_worker_says_why_the_worker_could_not_start(start_worker) -> None:
    w = start_worker()  # holds the data directory
    with pytest.raises(JobError, match=r"exited with code 7: Error: another worker \(pid"):
        spawn_worker(model=MODEL, data_dir=w.data.root, bind="tcp://127.0.0.1:*")


def test_a_stream_is_live_when_events_returns(start_worker) -> None:
    # The worker confirms each subscription (XPUB), and Client.events waits for
    # it: an event published right after events() returns always arrives. Many
    # times over, since a lost subscription race would show only now and then.
    w = start_worker()
    w.backend.hold.clear()
    with w.client() as c:
        c.submit(req("the job that keeps the generator busy"))
        wait_until(w.backend.running.is_set, "the first job to run")
        for _ in range(20):
            job = c.submit(req("a slime"))  # stays queued behind the busy one
            with c.events([job.id]) as stream:
                c.cancel(job.id)  # published by the worker the moment it is handled
                event = stream.next(timeout=60)
            assert isinstance(event, p.Cancelled), event
            assert event.job == job.id
        w.backend.hold.set()
