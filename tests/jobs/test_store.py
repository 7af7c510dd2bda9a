"""The SQLite job store: a real file per test, every transition, recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgx_pixels.errors import JobError
from dgx_pixels.jobs.store import JobStore
from dgx_pixels.request import GenerationRequest


def req(prompt: str = "a slime", **kw: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, seed=1, **kw)  # type: ignore[arg-type]


def key(r: GenerationRequest) -> object:
    return (r.model, r.size, r.steps)


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3", max_attempts=2)


def test_wal_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    with JobStore(path) as s:
        job = s.submit(req(), priority=3)
        assert s._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with JobStore(path) as s:
        again = s.get(job.id)
    assert again == job
    assert again.state == "queued"
    assert again.priority == 3
    assert {**again.request, "prompt": again.prompt} == req().to_dict()  # prompt once


def test_priority_then_age_orders_the_queue(store: JobStore) -> None:
    low = store.submit(req("low"), priority=-1)
    first = store.submit(req("first"))
    second = store.submit(req("second"))
    high = store.submit(req("high"), priority=5)
    order = [store.claim_batch(key, max_size=1)[0].id for _ in range(4)]
    assert order == [high.id, first.id, second.id, low.id]
    assert store.claim_batch(key, max_size=1) == []


def test_batch_takes_compatible_jobs_only(store: JobStore) -> None:
    a = store.submit(req("a"))
    b = store.submit(req("b", size=(16, 16)))
    c = store.submit(req("c"))
    d = store.submit(req("d", steps=10))
    e = store.submit(req("e"))
    batch = store.claim_batch(key, max_size=2)
    assert [j.id for j in batch] == [a.id, c.id]
    assert all(j.state == "running" and j.attempts == 1 for j in batch)
    assert [j.id for j in store.claim_batch(key, max_size=8)] == [b.id]
    assert [j.id for j in store.claim_batch(key, max_size=8)] == [d.id]
    assert [j.id for j in store.claim_batch(key, max_size=8)] == [e.id]


def test_a_key_that_raises_fails_that_job(store: JobStore) -> None:
    bad = store.submit(req("bad"))
    good = store.submit(req("good"))

    def picky(r: GenerationRequest) -> object:
        if r.prompt == "bad":
            raise JobError("cannot batch this")
        return 0

    assert [j.id for j in store.claim_batch(picky, max_size=4)] == [good.id]
    failed = store.get(bad.id)
    assert (failed.state, failed.error_kind, failed.error) == (
        "failed",
        "job",
        "cannot batch this",
    )


def test_finish_records_outputs_once(store: JobStore) -> None:
    job = store.submit(req())
    store.claim_batch(key, max_size=1)
    done = store.finish(job.id, [{"sprite": "/o/a.png"}])
    assert done.state == "done"
    assert done.outputs == [{"sprite": "/o/a.png"}]
    assert done.finished is not None
    with pytest.raises(JobError, match="is done, not running"):
        store.finish(job.id, [{"sprite": "/o/b.png"}])


def test_cancel_queued_running_and_done(store: JobStore) -> None:
    queued = store.submit(req("q"))
    running = store.submit(req("r"), priority=1)
    store.claim_batch(key, max_size=1)
    assert store.cancel(queued.id).state == "cancelled"
    flagged = store.cancel(running.id)
    assert flagged.state == "running"
    assert store.cancel_requested(running.id)
    assert store.mark_cancelled(running.id).state == "cancelled"
    assert store.cancel(running.id).state == "cancelled"  # unchanged, no error
    with pytest.raises(JobError, match="no job 99"):
        store.cancel(99)


def test_requeue_does_not_count_the_interrupted_attempt(store: JobStore) -> None:
    job = store.submit(req())
    store.claim_batch(key, max_size=1)
    store.requeue([job.id])
    assert (store.get(job.id).state, store.get(job.id).attempts) == ("queued", 0)
    store.claim_batch(key, max_size=1)
    store.requeue([job.id], count_attempt=True)
    assert store.get(job.id).attempts == 1


def test_recover_requeues_then_fails_after_max_attempts(store: JobStore) -> None:
    job = store.submit(req())
    store.claim_batch(key, max_size=1)  # attempt 1, then the worker "dies"
    assert store.recover().requeued == (job.id,)
    assert store.get(job.id).state == "queued"
    store.claim_batch(key, max_size=1)  # attempt 2 of 2, dies again
    rec = store.recover()
    assert rec.failed == (job.id,)
    assert rec.requeued == ()
    failed = store.get(job.id)
    assert failed.state == "failed"
    assert failed.error_kind == "worker_died"


def test_recover_honours_a_pending_cancel(store: JobStore) -> None:
    job = store.submit(req())
    store.claim_batch(key, max_size=1)
    store.cancel(job.id)
    assert store.recover().cancelled == (job.id,)
    assert store.get(job.id).state == "cancelled"


def test_page_and_counts(store: JobStore) -> None:
    ids = [store.submit(req(f"j{i}")).id for i in range(5)]
    store.cancel(ids[0])
    page, total = store.page(limit=2, offset=1)
    assert [j.id for j in page] == [ids[3], ids[2]]
    assert total == 5
    page, total = store.page(["cancelled"])
    assert [j.id for j in page] == [ids[0]]
    assert total == 1
    assert store.page([])[1] == 0
    assert store.counts() == {"queued": 4, "running": 0, "done": 0, "failed": 0, "cancelled": 1}


def test_a_corrupt_file_is_a_job_error(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(JobError, match="cannot open the job store"):
        JobStore(path)
