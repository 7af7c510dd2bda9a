"""A job's failure fails the job, never the worker: saving errors, a full disk, a failing store.

A real in-process worker (fake generator) on loopback and a real SQLite file;
the faults are injected where they happen: at the byte-writing call of
``image_files`` (the disk fills after N files), in the backend's save, in the
store's write, and on a real, small tmpfs where the machine lets us mount one.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dgx_pixels.image_files as image_files
from dgx_pixels.errors import StoreError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.store import JobStore
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL
from .helpers import wait_until


def req(prompt: str, **kw: object) -> GenerationRequest:
    kw.setdefault("steps", 2)
    return GenerationRequest(prompt=prompt, model=MODEL, seed=1, **kw)  # type: ignore[arg-type]


def files_in(folder: Path) -> list[str]:
    return sorted(f.name for f in folder.rglob("*") if f.is_file()) if folder.exists() else []


def test_any_error_while_saving_fails_the_job_and_the_worker_goes_on(
    start_worker, monkeypatch
) -> None:
    w = start_worker()
    real_save = w.backend.save

    def save(result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        if result.request.prompt == "poison":  # what a NUL byte in a path raises, deep in os
            raise ValueError("embedded null byte")
        return real_save(result, out_dir, force=force)

    monkeypatch.setattr(w.backend, "save", save)
    with w.client() as c:
        bad = c.submit(req("poison"))
        [*_, last] = c.watch(bad.id)
        assert isinstance(last, p.Failed)
        record = c.status(bad.id)
        assert (record.state, record.error_kind) == ("failed", "internal")
        assert "embedded null byte" in (record.error or "")
        assert isinstance(list(c.watch(c.submit(req("fine")).id))[-1], p.Done)
    assert not w.errors


def test_a_disk_that_fills_mid_set_fails_the_job_with_no_partial_files(
    start_worker, monkeypatch
) -> None:
    calls = {"n": 0}
    real_write = image_files._write_all

    def write(f: Any, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > 5:  # the 6th of 8 files: half-way through the third image
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(f, data)

    w = start_worker()
    out = w.data.outputs / "shared"  # an out folder inside the worker's roots
    monkeypatch.setattr(image_files, "_write_all", write)
    with w.client() as c:
        job = c.submit(req("four sprites", count=4, out=str(out)))
        [*_, last] = c.watch(job.id)
        assert isinstance(last, p.Failed)
        assert "No space left on device" in last.message
        assert files_in(out) == []  # no partial set, no temporary files
        monkeypatch.setattr(image_files, "_write_all", real_write)  # space is back
        again = c.submit(req("four sprites", count=4, out=str(out)))
        assert isinstance(list(c.watch(again.id))[-1], p.Done)
    assert len(files_in(out)) == 8
    assert not w.errors


class FullStore:
    """Makes every ``JobStore.fail`` raise the error a full disk gives, while ``full`` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = threading.Event()
        self.tries = 0
        real = JobStore.fail

        def fail(store: JobStore, job_id: int, kind: str, message: str) -> p.JobRecord:
            if self.full.is_set():
                self.tries += 1
                raise StoreError(f"the job store {store.path} failed: database or disk is full")
            return real(store, job_id, kind, message)

        monkeypatch.setattr(JobStore, "fail", fail)


def test_a_failure_the_store_cannot_record_yet_is_recorded_when_space_returns(
    start_worker, monkeypatch
) -> None:
    disk = FullStore(monkeypatch)
    disk.full.set()
    w = start_worker()
    with w.client() as c:
        job = c.submit(req("explode"))  # the fake engine fails it: recording that fails too
        wait_until(lambda: disk.tries >= 2, "the runner to retry recording the failure")
        assert c.ping().state == "busy"  # the worker is up and answering
        assert c.status(job.id).state == "running"
        disk.full.clear()
        wait_until(lambda: c.status(job.id).state == "failed", "the failure to be recorded")
        assert c.status(job.id).error == "the fake engine was asked to fail"
        assert isinstance(list(c.watch(c.submit(req("fine")).id))[-1], p.Done)
    assert not w.errors


def test_a_store_still_full_at_stop_leaves_the_job_for_the_next_worker(
    start_worker, monkeypatch
) -> None:
    disk = FullStore(monkeypatch)
    disk.full.set()
    w = start_worker(max_attempts=3)
    with w.client() as c:
        job = c.submit(req("explode"))
        wait_until(lambda: disk.tries >= 1, "the runner to try recording the failure")
    w.stop(now=False)  # a drain: the runner gives up recording and the worker stops cleanly
    assert not w.errors
    assert w.worker.state == "stopped"
    with JobStore(w.data.jobs_db) as store:
        assert store.get(job.id).state == "running"
        assert store.recover().requeued == (job.id,)


# ------------------------------------------------------------- a real full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, mounted for this test (needs root and mount rights, else skipped)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    where = tmp_path / "small-disk"
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip() or made.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; return the filler file (delete it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return filler


def test_a_real_full_disk_fails_the_job_cleanly_and_the_worker_stays_up(
    start_worker, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    w = start_worker(data_root=small_disk / "data")
    w.backend.hold.clear()  # the job waits at its first step while the disk fills
    with w.client() as c:
        job = c.submit(req("a big set", count=8, size=(64, 64)))
        wait_until(w.backend.running.is_set, "the job to run")
        filler = fill(small_disk)
        w.backend.hold.set()

        def failed_or_retrying() -> bool:  # SQLite may or may not find room to record it
            retrying = any("cannot mark it failed yet" in r.getMessage() for r in caplog.records)
            return retrying or c.status(job.id).state == "failed"

        wait_until(failed_or_retrying, "the write to fail")
        assert c.ping().state in ("busy", "ready")  # the worker answers on a full disk
        filler.unlink()  # space returns
        wait_until(lambda: c.status(job.id).state == "failed", "the failure to be recorded")
        record = c.status(job.id)
        assert "No space left on device" in (record.error or "")
        folder = w.data.outputs
        assert [f for f in files_in(folder) if "a-big-set" in f] == []  # no partial set
        assert not [f for f in files_in(folder) if f.endswith(".tmp")]
        small = c.submit(req("small"))
        assert isinstance(list(c.watch(small.id))[-1], p.Done)
    assert not w.errors
