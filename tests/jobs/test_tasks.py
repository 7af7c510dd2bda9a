"""Set and train jobs through a real worker: real sockets, real SQLite, the real engine.

Each test runs a worker (in a thread) with the engine backend on
``random:sdxl-tiny`` on the CPU, at tiny sizes (16x16, 2 frames, 2 steps), so
a job takes seconds; what is checked is what a client sees: the events, the
job's record and the files on disk, read back by the asset store's reader.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.errors import RequestError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.backend import EngineBackend
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.store import JobStore
from dgx_pixels.jobs.worker import Worker, WorkerConfig
from dgx_pixels.paths import DataDir
from dgx_pixels.request import GenerationRequest

from .helpers import wait_until

TINY = "random:sdxl-tiny"
SPRITES = Path(__file__).parents[1] / "data" / "train-sprites"
pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("torch", "diffusers")),
    reason="needs the engine (torch, diffusers)",
)


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    """One torch thread: the tiny model on a few shared cores is many times faster so."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[Worker, Client]]]:
    """A worker serving ``random:sdxl-tiny`` on loopback; stopped at the end."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started: list[tuple[Worker, threading.Thread, Client]] = []

    def start(**options: Any) -> tuple[Worker, Client]:
        config = WorkerConfig(
            data=DataDir(tmp_path / "data"), model=TINY, bind="tcp://127.0.0.1:*",
            **{"metrics_port": None, **options},
        )  # fmt: skip
        w = Worker(config, EngineBackend(device="cpu", dtype="fp32"))
        errors: list[BaseException] = []

        def serve() -> None:
            try:
                w.serve()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        while not w.wait_bound(0.05):
            assert thread.is_alive(), errors
        client = Client(w.address, timeout=30)
        wait_until(lambda: client.ping().state == "ready", "the model to load", timeout=300)
        started.append((w, thread, client))
        return w, client

    def join(w: Worker) -> None:
        """Wait until ``w`` has stopped serving (its data dir is free again)."""
        for worker_, thread, _ in started:
            if worker_ is w:
                thread.join()

    start.join = join  # type: ignore[attr-defined]
    yield start
    for w, thread, client in started:
        client.close()
        w.request_stop(now=True)
        thread.join()


def tiny(prompt: str = "a knight", task: str = "animate", **kw: Any) -> GenerationRequest:
    """A tiny request of a ``task`` set, with the set's defaults (as the commands make it)."""
    from dgx_pixels.sprites import set_request

    given = {"size": (16, 16), "seed": 3, "model": TINY, "steps": 2, "scheduler": "euler", **kw}
    return set_request(task, prompt, given)


def events_of(client: Client, job_id: int) -> list[p.Event]:
    return list(client.watch(job_id))


def test_an_animate_job_reports_each_frame_and_ends_with_one_asset(worker) -> None:
    from dgx_pixels.assets import read_manifest

    _, client = worker()
    job = client.submit_set("animate", tiny(), {"action": "walk", "frames": 2, "directions": 4})
    assert (job.task, job.state) == ("animate", "queued")
    events = events_of(client, job.id)
    progress = [e for e in events if isinstance(e, p.Progress)]
    # 4 directions: down, left, up drawn (right is left mirrored): 3 canvases of 2 frames.
    assert [(e.step, e.total) for e in progress] == [(k, 6) for k in range(1, 7)]
    assert all(e.preview and e.preview.startswith(b"\x89PNG") for e in progress)
    done = events[-1]
    assert isinstance(done, p.Done)
    [outputs] = done.outputs
    manifest = read_manifest(Path(outputs["manifest"]).parent)
    assert len(manifest.frames) == 8  # 4 directions x 2 frames
    assert {t.name for t in manifest.tags} >= {"walk_down", "walk_right"}
    for name, path in outputs.items():
        assert Path(path).is_file(), name
    record = client.status(job.id)
    assert (record.state, record.task, record.outputs) == ("done", "animate", done.outputs)


def test_a_tiles_job_and_a_tileset_job_end_with_their_asset(worker) -> None:
    from dgx_pixels.assets import read_manifest

    _, client = worker()
    tiles = client.submit_set("tiles", tiny("moss", "tiles", seamless="xy"), {"count": 2})
    options = {"over": "dirt", "layout": "wang16"}
    tileset = client.submit_set("tileset", tiny("grass", "tileset"), options)
    for job, units in ((tiles, 2), (tileset, 3)):
        events = events_of(client, job.id)
        assert [e.step for e in events if isinstance(e, p.Progress)] == list(range(1, units + 1))
        assert isinstance(events[-1], p.Done), events[-1]
        read_manifest(Path(events[-1].outputs[0]["manifest"]).parent)


def test_cancelling_a_set_midway_leaves_no_files(worker) -> None:
    w, client = worker()
    job = client.submit_set("animate", tiny(), {"frames": 2, "directions": 8})
    with client.events([job.id]) as stream:
        for event in stream:
            if isinstance(event, p.Progress):  # the first canvas is drawn: cancel the rest
                client.cancel(job.id)
                break
    wait_until(lambda: client.status(job.id).state == "cancelled", "the cancel")
    outputs = w.config.data.outputs
    assert not [f for f in outputs.rglob("*") if f.is_file()]
    assert not list(outputs.rglob("manifest.json"))


def test_a_cancelled_set_is_retried_as_a_new_job_of_its_task(worker) -> None:
    """The worker queues it again from what it kept: the task, the set's options."""
    from dgx_pixels.errors import JobError

    _, client = worker()
    job = client.submit_set("tiles", tiny("moss", "tiles", seamless="xy"), {"count": 2})
    client.cancel(job.id)
    wait_until(lambda: client.status(job.id).state == "cancelled", "the cancel")
    again = client.retry(job.id)
    assert again.id != job.id
    assert (again.task, again.state, again.request) == ("tiles", "queued", job.request)
    events = events_of(client, again.id)
    assert isinstance(events[-1], p.Done), events[-1]
    assert [e.step for e in events if isinstance(e, p.Progress)] == [1, 2]
    with pytest.raises(JobError, match="only a failed or cancelled job can be retried"):
        client.retry(again.id)  # done: nothing to retry
    with pytest.raises(JobError, match="no job 404"):
        client.retry(404)


def test_bad_set_options_are_refused_at_submit_naming_the_value(worker) -> None:
    _, client = worker()
    cases = [
        ("animate", tiny(), {"frames": 20}, "--frames must be 2-16, got 20"),
        ("animate", tiny(), {"directions": 3}, "--directions must be 1, 4 or 8, got 3"),
        ("animate", tiny(size=(64, 64)), {"frames": 16}, "1024 px canvas"),
        ("animate", tiny(), {"speed": 2}, "unknown animate option(s): speed"),
        ("animate", tiny(palette=None), {}, "an animation needs one palette"),
        ("tiles", tiny(task="tiles"), {"count": 17}, "--count must be 1-16 tiles, got 17"),
        ("tiles", tiny(task="tiles", seamless="none"), {}, "need --seamless x, y or xy"),
        ("tileset", tiny(task="tileset"), {"over": "dirt", "layout": "wang48"}, "got 'wang48'"),
        ("tileset", tiny(task="tileset", size=(16, 8)), {"over": "dirt"}, "square, got 16x8"),
    ]
    for task, request, options, message in cases:
        with pytest.raises(RequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
            client.submit_set(task, request, options)
    assert client.jobs().total == 0  # nothing was queued


def tiny_training(**changes: Any) -> Any:
    from dgx_pixels.train import preset

    values: dict[str, Any] = {
        "trigger": "ourstyle", "model": TINY, "steps": 3, "rank": 2, "alpha": 2, "lr": 1e-2,
        "warmup_steps": 0, "lr_schedule": "constant", "gradient_checkpointing": False,
        "checkpoint_every": 100, "validate_every": 3, "validation_prompts": ("a bat",),
        "validation_seeds": (1,), "validation_size": 16, "validation_steps": 2,
    }  # fmt: skip
    values.update(changes)
    return preset("pixel-fast", **values)


def test_a_train_job_reports_loss_and_writes_a_lora(worker, tmp_path: Path) -> None:
    from safetensors import safe_open

    w, client = worker(metrics_port=0)
    job = client.submit_train(tiny_training(), SPRITES)
    assert (job.task, job.model, job.prompt) == ("train", TINY, "train lora ourstyle")
    events = events_of(client, job.id)
    progress = [e for e in events if isinstance(e, p.Progress)]
    # A grid of the base model before step 1, then the steps, then the grid after step 3.
    assert [(e.step, e.total, e.preview is not None) for e in progress] == [
        (0, 3, True), (1, 3, False), (2, 3, False), (3, 3, False), (3, 3, True),
    ]  # fmt: skip
    steps = progress[1:]
    assert all(e.loss is not None and e.loss > 0 and e.lr == 1e-2 for e in steps)
    assert all(e.it_s is not None and e.it_s > 0 for e in steps)
    assert progress[0].loss is None
    assert all(e.preview.startswith(b"\x89PNG") for e in (progress[0], progress[-1]))
    done = events[-1]
    assert isinstance(done, p.Done), events[-1]
    [outputs] = done.outputs
    with safe_open(outputs["lora"], "pt") as f:
        assert any("lora" in key for key in f.keys())  # noqa: SIM118 - safe_open has no __iter__
    assert Path(outputs["metrics"]).read_text().count("\n") == 3
    metrics = w.metrics.registry
    assert metrics.get_sample_value("dgx_pixels_train_step") == 3
    assert metrics.get_sample_value("dgx_pixels_train_loss") == progress[-1].loss
    ended = {"task": "train", "state": "done"}
    assert metrics.get_sample_value("dgx_pixels_jobs_ended_total", ended) == 1


def test_cancelling_a_train_job_saves_a_checkpoint(worker) -> None:
    w, client = worker()
    job = client.submit_train(tiny_training(steps=1000, validate_every=0), SPRITES)
    with client.events([job.id]) as stream:
        for event in stream:
            if isinstance(event, p.Progress) and event.step >= 2:
                client.cancel(job.id)
                break
    wait_until(lambda: client.status(job.id).state == "cancelled", "the cancel")
    assert client.status(job.id).outputs == []
    [checkpoint] = w.config.data.outputs.rglob("ourstyle.train/checkpoints/step-*")
    assert int(checkpoint.name.removeprefix("step-")) >= 2
    assert not list(w.config.data.outputs.rglob("ourstyle.safetensors"))  # no LoRA: it stopped


def test_the_async_client_queues_a_training_too(worker) -> None:
    import asyncio

    from dgx_pixels.jobs.client import AsyncClient

    w, client = worker()

    async def main() -> tuple[p.JobRecord, list[p.Event]]:
        async with AsyncClient(w.address, timeout=30) as c:
            job = await c.submit_train(tiny_training(steps=2, validate_every=0), SPRITES)
            return job, [e async for e in c.watch(job.id)]

    job, events = asyncio.run(main())
    assert (job.task, job.prompt) == ("train", "train lora ourstyle")
    steps = [e.step for e in events if isinstance(e, p.Progress) and e.loss is not None]
    assert steps == [1, 2]
    done = events[-1]
    assert isinstance(done, p.Done), events
    [outputs] = done.outputs
    assert Path(outputs["lora"]).name == "ourstyle.safetensors"
    assert Path(outputs["metrics"]).read_text().count("\n") == 2
    sent = client.status(job.id).request
    # The dataset went as files: the worker stored them in its inputs and recorded that folder.
    assert Path(sent["dataset"]).parent == w.config.data.inputs
    assert sorted(f.name for f in Path(sent["dataset"]).glob("*.png")) == sorted(
        f.name for f in SPRITES.glob("*.png")
    )
    assert sent["config"]["steps"] == 2


def test_a_train_dataset_must_be_inside_the_roots_or_sent(worker, tmp_path: Path) -> None:
    inside, outside = tmp_path / "root" / "sprites", tmp_path / "elsewhere"
    shutil.copytree(SPRITES, inside)
    shutil.copytree(SPRITES, outside)
    _, client = worker(roots=(tmp_path / "root",))
    named = client.submit_train(tiny_training(), inside, send=False)  # a folder on the worker
    assert named.request["dataset"] == str(inside.resolve())
    client.cancel(named.id)
    config = tiny_training().to_dict()
    for dataset, message in ((str(outside), "dataset must be a path inside"),
                             ("../x", "dataset must be a path inside")):  # fmt: skip
        with pytest.raises(RequestError, match=message):
            client._call(
                lambda rid, d=dataset: p.Submit(
                    rid=rid, request={"config": config, "dataset": d}, task="train"
                ),
                p.JobReply,
            )
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "notes.md").write_text("not a sprite")
    with pytest.raises(RequestError, match=r"notes\.md: not an image"):
        client.submit_train(tiny_training(), bad)
    assert client.jobs().total == 1  # only the one named inside the root


def test_a_staging_folder_a_killed_run_left_is_cleared(worker) -> None:
    """A worker killed while publishing an asset leaves ``.NAME.HEX.tmp/``: the rerun clears it."""
    import datetime as dt

    w, client = worker()
    folder = w.config.data.outputs / dt.date.today().isoformat() / "job-1"
    staging = folder / ".moss-3.0badf00d.tmp"
    (staging / "tiles").mkdir(parents=True)
    (staging / "tiles" / "tile-0.png").write_bytes(b"half")
    job = client.submit_set("tiles", tiny("moss", "tiles"), {})
    assert job.id == 1
    assert isinstance(events_of(client, job.id)[-1], p.Done)
    assert not staging.exists()
    assert [f.name for f in folder.iterdir()] == ["moss-3"]


def test_a_train_job_stopped_by_a_drain_resumes_on_the_next_worker(worker) -> None:
    w, client = worker()
    job = client.submit_train(tiny_training(steps=40, validate_every=0), SPRITES)
    with client.events([job.id]) as stream:
        for event in stream:
            if isinstance(event, p.Progress) and event.step >= 2:
                w.request_stop(now=True)  # interrupt: checkpoint, back to the queue
                break
    worker.join(w)
    with JobStore(w.config.data.jobs_db) as store:
        assert store.get(job.id).state == "queued"  # stopped mid-run, not finished
    [checkpoint] = w.config.data.outputs.rglob("ourstyle.train/checkpoints/step-*")
    saved = int(checkpoint.name.removeprefix("step-"))
    [log_file] = w.config.data.outputs.rglob("ourstyle.metrics.jsonl")
    before = [line for line in log_file.read_text().splitlines()
              if json.loads(line)["step"] <= saved]  # fmt: skip
    _, again = worker()
    wait_until(lambda: again.status(job.id).state == "done", "the resumed job to finish")
    record = again.status(job.id)
    log = Path(record.outputs[0]["metrics"]).read_text().splitlines()
    assert [json.loads(line)["step"] for line in log] == list(range(1, 41))
    # Resumed, not started again: the first run's lines (their it/s timings) are kept.
    assert log[: len(before)] == before
    assert saved >= 2
    assert record.attempts == 1  # a drain does not count as an attempt


WOLF = Path(__file__).parents[1] / "data" / "rltiles" / "mon" / "animals" / "wolf.png"


def test_a_sent_sprite_is_checked_by_the_worker_before_anything_is_stored(
    worker, tmp_path: Path
) -> None:
    from PIL import Image

    w, client = worker()
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    huge = tmp_path / "huge.png"
    Image.new("RGBA", (600, 600), (9, 9, 9, 255)).save(huge)
    cases = [
        ("animate", text, {}, r"notes\.png: not an image file Pillow can read"),
        ("animate", huge, {}, r"huge\.png: image is 600x600, larger than the 131,072-pixel"),
        ("animate", WOLF, {"size": (16, 16)}, "--size must be the sprite's size 32x32"),
        ("animate", WOLF, {"palette": "pico-8"}, "--from keeps the sprite's own palette"),
        ("tiles", WOLF, {}, "--from applies to animate, not tiles"),
    ]
    for task, sprite, fields, message in cases:
        request = tiny("wolf", task, **{"size": (32, 32), "palette": None, **fields})
        with pytest.raises(RequestError, match=message):
            client._call(  # as a client that sends the sprite with its request's palette
                lambda rid, r=request, s=sprite, t=task: p.Submit(
                    rid=rid, request={**r.to_dict(), "options": {}, "from": s.name},
                    inputs={"from": s.read_bytes()}, task=t,
                ),
                p.JobReply,
            )  # fmt: skip
    with pytest.raises(RequestError, match="from must name the sprite"):
        client._call(
            lambda rid: p.Submit(
                rid=rid, request={**tiny().to_dict(), "from": "wolf.png"}, task="animate"
            ),
            p.JobReply,
        )
    assert client.jobs().total == 0
    assert not w.config.data.inputs.exists() or not any(w.config.data.inputs.iterdir())


def test_a_sprite_gone_before_its_job_runs_fails_that_job_only(worker) -> None:
    w, client = worker()
    ahead = client.submit_set("animate", tiny(), {"frames": 2, "directions": 8})
    job = client.submit_set("animate", tiny("wolf", size=(32, 32)), {"frames": 2},
                            from_file=WOLF)  # fmt: skip
    [stored] = w.config.data.inputs.glob("*.png")
    assert job.request["from"] == {"name": "wolf.png", "path": str(stored)}
    stored.unlink()  # the job ahead is still drawing
    wait_until(lambda: client.status(job.id).state == "failed", "the job to fail")
    record = client.status(job.id)
    assert record.error == (
        f"the sprite wolf.png sent with job {job.id} is gone from the worker's inputs; "
        "submit the job again"
    )
    assert client.status(ahead.id).state == "done"
    assert client.ping().state == "ready"  # the worker serves on
