"""The job store's schema version: stores made by every past version open and work.

The old CREATE TABLE statements are copied verbatim from the git history of
src/dgx_pixels/jobs/store.py (34dee1d: the first store; e8f7eb9: ``force``
added, still unversioned). Each old store is made by plain sqlite3, with a job
written the way that version wrote it, then opened by today's JobStore.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from dgx_pixels.errors import StoreError
from dgx_pixels.jobs.store import MIGRATIONS, SCHEMA_VERSION, JobStore
from dgx_pixels.request import GenerationRequest

# 34dee1d and ffba6e8: no force column, no user_version.
SCHEMA_34DEE1D = """
CREATE TABLE IF NOT EXISTS jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    state            TEXT    NOT NULL CHECK (state IN
                        ('queued', 'running', 'done', 'failed', 'cancelled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    prompt           TEXT    NOT NULL,
    model            TEXT    NOT NULL,
    request          TEXT    NOT NULL,
    created          REAL    NOT NULL,
    started          REAL,
    finished         REAL,
    outputs          TEXT    NOT NULL DEFAULT '[]',
    error_kind       TEXT,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, priority DESC, id);
"""

# e8f7eb9: force added, still no user_version.
SCHEMA_E8F7EB9 = """
CREATE TABLE IF NOT EXISTS jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    state            TEXT    NOT NULL CHECK (state IN
                        ('queued', 'running', 'done', 'failed', 'cancelled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    prompt           TEXT    NOT NULL,
    model            TEXT    NOT NULL,
    request          TEXT    NOT NULL,
    created          REAL    NOT NULL,
    started          REAL,
    finished         REAL,
    outputs          TEXT    NOT NULL DEFAULT '[]',
    error_kind       TEXT,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    force            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (state, priority DESC, id);
"""

PAST_SCHEMAS = {
    "34dee1d (no force)": SCHEMA_34DEE1D,
    "e8f7eb9 (force, unversioned)": SCHEMA_E8F7EB9,
}


def old_store(path: Path, schema: str) -> None:
    """A store as an old version left it: its schema, one queued and one done job."""
    request = json.dumps(GenerationRequest(prompt="an old slime", seed=4).to_dict())
    db = sqlite3.connect(path)
    db.executescript(schema)
    with db:
        db.execute(
            "INSERT INTO jobs (state, prompt, model, request, created) "
            "VALUES ('queued', ?, ?, ?, ?)",
            ("an old slime", "pixel-art-xl", request, time.time()),
        )
        db.execute(
            "INSERT INTO jobs (state, attempts, prompt, model, request, created, outputs) "
            "VALUES ('done', 1, ?, ?, ?, ?, ?)",
            ("an old slime", "pixel-art-xl", request, time.time(), '[{"sprite": "s.png"}]'),
        )
    db.close()


@pytest.mark.parametrize("schema", PAST_SCHEMAS.values(), ids=PAST_SCHEMAS.keys())
def test_a_store_from_each_past_schema_opens_and_works(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "jobs.sqlite3"
    old_store(path, schema)
    with JobStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        queued, done = store.get(1), store.get(2)
        assert (queued.state, queued.force, queued.prompt) == ("queued", False, "an old slime")
        assert (queued.task, done.task) == ("generate", "generate")  # before tasks: generate
        assert done.outputs == [{"sprite": "s.png"}]
        new = store.submit(GenerationRequest(prompt="a new slime", seed=5), force=True)
        assert store.get(new.id).force
        [claimed] = store.claim_batch(lambda r: r.size, max_size=1)
        assert claimed.id == 1
        assert store.finish(1, [{"sprite": "t.png"}]).state == "done"
    with JobStore(path) as again:  # a second open migrates nothing and keeps everything
        assert again.schema_version == SCHEMA_VERSION
        assert again.counts()["done"] == 2


def test_each_migration_step_from_every_version(tmp_path: Path) -> None:
    """A store left at any version n (by running MIGRATIONS[:n]) reaches the current one."""
    for n in range(len(MIGRATIONS) + 1):
        path = tmp_path / f"v{n}.sqlite3"
        db = sqlite3.connect(path)
        for migration in MIGRATIONS[:n]:
            for statement in migration:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {n}")
        db.commit()
        db.close()
        with JobStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION
            job = store.submit(GenerationRequest(prompt="x", seed=1), force=True)
            assert store.get(job.id).force
            assert store.get(job.id).task == "generate"
    assert len(MIGRATIONS) == SCHEMA_VERSION


def test_a_job_of_another_task_runs_alone(tmp_path: Path) -> None:
    """Set and train jobs never join a batch, and generate jobs never join theirs."""
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        params = GenerationRequest(prompt="a knight", seed=1).to_dict()
        store.submit(GenerationRequest(prompt="a", seed=1))
        store.submit_task("animate", params, prompt="a knight", model="m")
        store.submit_task("animate", params, prompt="a knight", model="m")
        store.submit(GenerationRequest(prompt="b", seed=2))
        batches = []
        while batch := store.claim_batch(lambda r: r.size, max_size=4):
            batches.append([(j.id, j.task) for j in batch])
        assert batches == [
            [(1, "generate"), (4, "generate")],
            [(2, "animate")],
            [(3, "animate")],
        ]


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this dgx-pixels knows"):
        JobStore(path)


def test_a_failing_query_is_a_store_error_not_a_raw_sqlite_error(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    store.submit(GenerationRequest(prompt="x", seed=1))
    other = sqlite3.connect(path)
    other.execute("DROP TABLE jobs")  # the file changed under the open store
    other.close()
    for call in (
        lambda: store.get(1),
        lambda: store.counts(),
        lambda: store.page(),
        lambda: store.submit(GenerationRequest(prompt="y", seed=2)),
        lambda: store.recover(),
    ):
        with pytest.raises(StoreError, match=f"the job store {path} failed: no such table"):
            call()
    store.close()
