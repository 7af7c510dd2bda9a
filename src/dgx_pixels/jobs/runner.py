"""The worker's generation thread: load the first model, then claim, run and save batches.

One :class:`Runner` runs in its own thread with its own store connection and
its own ZeroMQ PUSH socket; it never touches the request sockets. Its events
go through the PUSH socket to the worker's main thread, which publishes them.

A batch, step by step:

1. claim the next queued job and its batch partners (one transaction): the
   highest priority, then the oldest, whatever its model (a warm model is not
   preferred: a job never waits behind later ones because its model is cold);
   partners share its model (the batch key leads with it);
2. get the batch's model from the :class:`~dgx_pixels.jobs.pool.ModelPool`:
   the warm one, or loaded now (each job gets a ``loading`` event, then
   ``loaded`` with the seconds); a model that cannot be loaded fails the jobs
   with the model error, never the worker;
3. clear any half-written temporary files a killed run left in the job folders;
4. generate, publishing progress per step; a cancel or a drain sets the interrupt;
5. save each result into its job's folder as one set of files (all or none),
   replacing files of an earlier run;
6. mark each job done with its outputs (one transaction per job).

A job of another task (an animation, tiles, a tileset, a training) runs
alone, through :mod:`dgx_pixels.jobs.tasks`: a set draws with the loaded
generator and writes one asset; a training loads its own pipeline. Both
report progress per unit (frame, tile, drawing; training step) and stop on
the same interrupt.

Whatever goes wrong with one job (its drawing, its saving, a full disk) ends
that job ``failed`` with the error; the thread goes on. When the store itself
cannot be written (a full disk fails SQLite too), the outcome is retried
with back-off until it is recorded; a worker stopped meanwhile leaves the job
``running``, and the next worker queues it again (``JobStore.recover``).

A job's folder is ``<data>/outputs/<date created>/job-<id>/`` (or the
request's ``out``), so a job re-run after a crash replaces its own files and
never writes a second set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import logging
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

from dgx_pixels.errors import DgxPixelsError, Interrupted, ModelError, StoreError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs import tasks
from dgx_pixels.jobs.backend import Backend, Generator, StepLike
from dgx_pixels.jobs.pool import Loaded, ModelPool
from dgx_pixels.jobs.store import JobStore, request_of
from dgx_pixels.observability.metrics import WorkerMetrics
from dgx_pixels.request import GenerationRequest

__all__ = ["Runner", "job_output_dir"]

log = logging.getLogger(__name__)

#: Side of the progress preview image, in pixels (longest side).
PREVIEW_SIDE = 64
#: Side of a train job's preview of its latest validation grid (a grid of sprites).
GRID_PREVIEW_SIDE = 256


def job_output_dir(outputs_root: Path, job: p.JobRecord) -> Path:
    """Where a job's files go: the request's ``out``, or ``<root>/<date>/job-<id>``."""
    out = job.request.get("out")
    if isinstance(out, str) and out:
        return Path(out).expanduser()
    day = dt.datetime.fromtimestamp(job.created).strftime("%Y-%m-%d")
    return outputs_root / day / f"job-{job.id}"


class Runner:
    """Loads the first model and runs batches until :meth:`drain` or :meth:`stop`.

    ``model`` is loaded first (the worker's state ``loading`` until it is);
    other models are loaded into ``pool`` when a job asks for them.

    ``publish`` sends an event to subscribers; it is called from this thread.
    ``on_state`` is told each worker state this thread enters.
    """

    def __init__(
        self,
        *,
        backend: Backend,
        pool: ModelPool,
        model: str,
        store_path: Path,
        outputs_root: Path,
        publish: Callable[[p.Event], None],
        on_state: Callable[[p.WorkerState], None],
        metrics: WorkerMetrics,
        batch_size: int = 4,
        max_attempts: int = 3,
        preview_every: int = 5,
    ) -> None:
        self._backend = backend
        self._pool = pool
        self._model = model
        self._store_path = store_path
        self._outputs_root = outputs_root
        self._publish = publish
        self._on_state = on_state
        self._metrics = metrics
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._preview_every = preview_every
        self._wake = threading.Event()
        self._draining = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self._running: frozenset[int] = frozenset()
        self._cancelled: set[int] = set()
        self.generator: Generator | None = None  # the last one used (it keys batches too)
        self.load_error: DgxPixelsError | None = None
        self.crash: BaseException | None = None

    # ------------------------------------------------------- called by other threads

    def wake(self) -> None:
        """New work may be queued: look now rather than at the next poll."""
        self._wake.set()

    def cancel(self, job_id: int) -> bool:
        """Interrupt the running batch if it holds ``job_id``; return whether it does."""
        with self._lock:
            if job_id not in self._running:
                return False
            self._cancelled.add(job_id)
            self._interrupt.set()
            return True

    def drain(self, *, interrupt: bool = False) -> None:
        """Take no new batch; with ``interrupt``, stop the current one and re-queue its jobs."""
        self._draining.set()
        self._wake.set()
        if interrupt:
            self._interrupt.set()

    # -------------------------------------------------------------- the thread body

    def run(self) -> None:
        """Thread body: load, then serve batches until drained; a crash is kept in ``crash``."""
        try:
            self._run()
        except BaseException as exc:  # the store failed (disk full...): the worker must stop
            log.error("generation thread crashed:\n%s", traceback.format_exc())
            self.crash = exc

    def _run(self) -> None:
        self._on_state(p.WorkerState.LOADING)
        try:
            self.generator = self._load(self._model).generator
        except DgxPixelsError as exc:
            self.load_error = exc
            return
        if self._draining.is_set():  # stopped while loading: run nothing
            return
        with JobStore(self._store_path, max_attempts=self._max_attempts) as store:
            retry = _Backoff()
            while not self._draining.is_set():
                self._on_state(p.WorkerState.READY)
                self._count(store)
                try:
                    batch = store.claim_batch(self._batch_key, max_size=self._batch_size)
                except StoreError as exc:  # a full disk: no job changed; try again later
                    log.warning("cannot claim jobs (%s); trying again", exc.message)
                    retry.wait(self._draining)
                    continue
                retry.reset()
                if not batch:
                    self._wake.wait(timeout=0.5)
                    self._wake.clear()
                    continue
                self._on_state(p.WorkerState.BUSY)
                self._count(store)
                # A training loads its own pipeline (jobs.tasks.run_train): no generator.
                train = batch[0].task == "train"
                gen = self.generator if train else self._model_for(store, batch)
                if gen is not None:
                    self.generator = gen
                    self._run_batch(store, gen, batch)
            self._count(store)

    def _load(self, model: str) -> Loaded:
        """``pool.get(model)``; any failure raised as a :class:`DgxPixelsError`."""
        try:
            return self._pool.get(model)
        except DgxPixelsError:
            raise
        except Exception as exc:  # a broken install, a driver error: report it as a model error
            log.error("loading %s failed:\n%s", model, traceback.format_exc())
            raise ModelError(f"cannot load model {model}: {exc}", model=model) from None

    def _batch_key(self, request: GenerationRequest) -> Hashable:
        """The batch key of ``request``: its model first, so a batch holds one model; then
        its generator's key (the warm one's, else the last used one's)."""
        keyer = self._pool.peek(request.model) or self.generator
        assert keyer is not None  # the first model is loaded before any claim
        return (request.model, keyer.batch_key(request))

    def _model_for(self, store: JobStore, batch: list[p.JobRecord]) -> Generator | None:
        """The batch's generator, loaded when it is not warm (with ``loading``/``loaded``
        events); None when the load failed, the jobs then queued again or failed."""
        model = batch[0].model
        cold = self._pool.peek(model) is None
        if cold:
            for job in batch:
                self._publish(p.Loading(job=job.id, model=model))
        try:
            loaded = self._load(model)
        except DgxPixelsError as exc:
            log.warning("jobs %s: model %s: %s", [j.id for j in batch], model, exc.message)
            if exc.transient:  # out of memory while loading: try again later
                self._retry_or_fail(store, batch, exc, exc.message)
            else:
                for job in batch:
                    self._fail(store, job, exc, exc.message)
            return None
        if loaded.load_s is not None:
            for job in batch:
                self._publish(p.Loaded(job=job.id, model=model, seconds=loaded.load_s))
        return loaded.generator

    def _count(self, store: JobStore) -> None:
        """Update the job-count metrics (a store that fails now leaves them as they were)."""
        with contextlib.suppress(StoreError):
            self._metrics.set_job_counts(store.counts())

    def _run_batch(self, store: JobStore, gen: Generator, batch: list[p.JobRecord]) -> None:
        if batch[0].task != "generate":  # a set or a training: alone (JobStore.claim_batch)
            self._run_alone(store, gen, batch[0])
            return
        ids = [j.id for j in batch]
        self._begin(store, ids)
        try:
            for job in batch:
                if not job.request.get("out"):  # only our own folders hold only our files
                    _remove_partial_files(job_output_dir(self._outputs_root, job))
                self._publish(p.Started(job=job.id, attempt=job.attempts, batch=ids))
            started = time.monotonic()
            steps = [0]
            try:
                requests = [request_of(j) for j in batch]
                if self._interrupt.is_set():
                    raise Interrupted("cancelled before it started")
                results = gen.generate(
                    requests, on_step=self._step_reporter(ids, steps), interrupt=self._interrupt
                )
            except Interrupted:
                self._end_interrupted(store, batch)
                return
            except DgxPixelsError as exc:
                if exc.transient:  # the device failed (out of memory...): run it again
                    log.warning("batch %s failed, to be retried: %s", ids, exc.message)
                    self._retry_or_fail(store, batch, exc, exc.message)
                    return
                self._fail_batch(store, gen, batch, exc, exc.message)
                return
            except Exception as exc:  # a bug in a backend: it would fail again, do not retry
                log.error("batch %s failed:\n%s", ids, traceback.format_exc())
                self._fail_batch(store, gen, batch, exc, str(exc))
                return
            seconds = time.monotonic() - started
            saved = 0
            for job, result in zip(batch, results, strict=True):
                saved += self._save(store, job, result, seconds)
            self._metrics.observe_batch(images=saved, steps=steps[0], seconds=seconds)
            log.info("batch %s: %d images in %.2f s", ids, saved, seconds)
        finally:
            self._end()

    def _begin(self, store: JobStore, ids: list[int]) -> None:
        """These jobs run now: a cancel or a drain interrupts them."""
        with self._lock:
            self._running = frozenset(ids)
            self._cancelled = {j for j in ids if store.cancel_requested(j)}
            self._interrupt.clear()
            if self._cancelled or self._draining.is_set():
                self._interrupt.set()

    def _end(self) -> None:
        with self._lock:
            self._running = frozenset()
            self._cancelled = set()

    def _run_alone(self, store: JobStore, gen: Generator, job: p.JobRecord) -> None:
        """A set job (one asset, drawn by the warm generator) or a train job (one LoRA).

        Progress: one event per frame, tile or drawing of a set, with it as the
        preview; one per training step, with loss, lr and it/s. A cancel
        interrupts the draw or the training step in flight: a set writes
        nothing (its asset folder is published all or none), a training saves a
        checkpoint (a drained one resumes from it when it runs again).
        """
        self._begin(store, [job.id])
        try:
            out_dir = job_output_dir(self._outputs_root, job)
            if not job.request.get("out"):
                _remove_partial_files(out_dir)
            self._publish(p.Started(job=job.id, attempt=job.attempts, batch=[job.id]))
            started = time.monotonic()
            try:
                if self._interrupt.is_set():
                    raise Interrupted("cancelled before it started")
                if job.task == "train":
                    outputs, stopped = tasks.run_train(
                        job, out_dir, interrupt=self._interrupt,
                        on_progress=self._train_reporter(job.id),
                        device=getattr(self._backend, "device", None),  # EngineBackend's
                    )  # fmt: skip
                    if stopped:
                        raise Interrupted("stopped after a step; a checkpoint is saved")
                else:
                    force = not job.request.get("out") or job.force or job.attempts > 1
                    outputs = tasks.run_set(
                        gen, job, out_dir, interrupt=self._interrupt,
                        on_unit=self._unit_reporter(job.id, started), force=force,
                    )  # fmt: skip
            except Interrupted:
                self._end_interrupted(store, [job])
                return
            except DgxPixelsError as exc:
                if exc.transient:
                    self._retry_or_fail(store, [job], exc, exc.message)
                else:
                    self._fail(store, job, exc, exc.message)
                return
            except Exception as exc:  # a full disk, a bug: this job fails, not the worker
                log.error("job %d (%s) failed:\n%s", job.id, job.task, traceback.format_exc())
                self._fail(store, job, exc, str(exc) or type(exc).__name__)
                return
            seconds = time.monotonic() - started
            if self._record(job, "done", functools.partial(store.finish, job.id, outputs)):
                self._metrics.observe_job(task=job.task, seconds=seconds)
                self._publish(p.Done(job=job.id, outputs=outputs, seconds=seconds))
            log.info("job %d (%s) done in %.2f s", job.id, job.task, seconds)
        finally:
            self._end()

    def _save(self, store: JobStore, job: p.JobRecord, result: Any, seconds: float) -> int:
        """Write one job's files (all or none, by the backend) and mark it done or failed."""
        # Our own folder: always replace. A user's folder: replace files only when the
        # submitter said so (--force) or when they are our own, from an earlier attempt.
        force = not job.request.get("out") or job.force or job.attempts > 1
        out_dir: Path | str = job.request.get("out") or "its folder"
        try:
            out_dir = job_output_dir(self._outputs_root, job)
            outputs = self._backend.save(result, out_dir, force=force)
        except DgxPixelsError as exc:
            self._fail(store, job, exc, exc.message)
            return 0
        except Exception as exc:  # a full disk, a path the OS refuses: this job fails, not us
            log.warning("job %d: saving failed:\n%s", job.id, traceback.format_exc())
            self._fail(store, job, exc, f"cannot write to {out_dir}: {exc}")
            return 0
        if self._record(job, "done", functools.partial(store.finish, job.id, outputs)):
            self._metrics.observe_job(task=job.task, seconds=seconds)
            self._publish(p.Done(job=job.id, outputs=outputs, seconds=seconds))
        return len(outputs)

    def _fail_batch(
        self,
        store: JobStore,
        gen: Generator,
        batch: list[p.JobRecord],
        exc: BaseException,
        message: str,
    ) -> None:
        """A request or the model is at fault: fail the job; a batch runs its jobs one by one."""
        if len(batch) > 1:  # one bad request must not sink its batch partners
            ids = [j.id for j in batch]
            log.info("batch %s failed (%s); running its jobs one by one", ids, message)
            for job in batch:
                self._run_batch(store, gen, [job])
            return
        self._fail(store, batch[0], exc, message)

    def _retry_or_fail(
        self, store: JobStore, batch: list[p.JobRecord], exc: BaseException, message: str
    ) -> None:
        """A transient failure: queue each job again, failing those out of attempts."""
        for job in batch:
            if job.attempts < self._max_attempts:
                self._requeue(store, job, count_attempt=True)
            else:
                self._fail(store, job, exc, message)
        self.wake()

    def _end_interrupted(self, store: JobStore, batch: Sequence[p.JobRecord]) -> None:
        with self._lock:
            cancelled = set(self._cancelled)
        for job in batch:
            if job.id in cancelled:
                cancel = functools.partial(store.mark_cancelled, job.id)
                if self._record(job, "cancelled", cancel):
                    self._publish(p.Cancelled(job=job.id))
            else:  # a batch partner of a cancelled job, or a drain: run it again later
                self._requeue(store, job)
        self.wake()

    def _requeue(self, store: JobStore, job: p.JobRecord, *, count_attempt: bool = False) -> None:
        requeue = functools.partial(store.requeue, [job.id], count_attempt=count_attempt)
        if self._record(job, "queued", requeue):
            self._publish(p.Accepted(job=job.id, priority=job.priority, prompt=job.prompt))

    def _fail(self, store: JobStore, job: p.JobRecord, exc: BaseException, message: str) -> None:
        kind = p.error_code(exc)
        if self._record(job, "failed", functools.partial(store.fail, job.id, kind, message)):
            self._publish(p.Failed(job=job.id, kind=kind, message=message))

    def _record(self, job: p.JobRecord, state: str, write: Callable[[], object]) -> bool:
        """Run the store ``write`` that ends a job's run; retry while the store fails.

        A full disk fails SQLite's write too: keep trying (with back-off) until
        it succeeds, so the worker neither dies nor forgets the outcome. If the
        worker is told to stop meanwhile, give up: the job stays ``running`` in
        the store and the next worker's :meth:`JobStore.recover` queues it
        again. Returns whether the write happened (and counts a job that ended).
        """
        job_id = job.id
        retry = _Backoff()
        while True:
            try:
                write()
                if p.JobState(state).terminal:
                    self._metrics.count_job(task=job.task, state=state)
                return True
            except StoreError as exc:
                if self._draining.is_set():
                    log.error(
                        "job %d: cannot mark it %s (%s); it stays running, for the next "
                        "worker to queue again",
                        job_id,
                        state,
                        exc.message,
                    )
                    return False
                log.warning("job %d: cannot mark it %s yet (%s)", job_id, state, exc.message)
                retry.wait(self._draining)

    def _step_reporter(self, ids: list[int], steps: list[int]) -> Callable[[StepLike], None]:
        every = self._preview_every

        def report(info: StepLike) -> None:
            steps[0] += 1
            eta = info.elapsed_s / info.step * (info.total - info.step) if info.step else None
            preview = None
            if every and (info.step % every == 0 or info.step == info.total):
                preview = _png(info.preview())
            for job_id in ids:
                self._publish(
                    p.Progress(
                        job=job_id,
                        step=info.step,
                        total=info.total,
                        elapsed_s=info.elapsed_s,
                        eta_s=eta,
                        # the engine previews the batch's first image: it belongs to the first job
                        preview=preview if job_id == ids[0] else None,
                    )
                )

        return report

    def _unit_reporter(self, job_id: int, started: float) -> Callable[[int, int, Any], None]:
        """A set's progress: unit ``k`` of ``n`` (a frame, a tile, a drawing), it as the preview."""

        def report(k: int, n: int, image: Any) -> None:
            elapsed = time.monotonic() - started
            eta = elapsed / k * (n - k) if k else None
            self._publish(
                p.Progress(
                    job=job_id,
                    step=k,
                    total=n,
                    elapsed_s=elapsed,
                    eta_s=eta,
                    preview=_png(image) if self._preview_every else None,
                )
            )

        return report

    def _train_reporter(self, job_id: int) -> Callable[[tasks.TrainProgress], None]:
        """A training's progress: each step's loss, lr and it/s; a new validation grid."""

        def report(t: tasks.TrainProgress) -> None:
            if t.loss is not None and t.lr is not None and t.it_s is not None:
                self._metrics.observe_train_step(step=t.step, loss=t.loss, lr=t.lr, it_s=t.it_s)
            preview = None
            if t.validation is not None and self._preview_every:
                preview = _png_file(t.validation, side=GRID_PREVIEW_SIDE)
            self._publish(
                p.Progress(
                    job=job_id,
                    step=t.step,
                    total=t.total,
                    elapsed_s=t.elapsed_s,
                    eta_s=t.eta_s,
                    preview=preview,
                    loss=t.loss,
                    lr=t.lr,
                    it_s=t.it_s,
                )
            )

        return report


class _Backoff:
    """Waits that double from 0.1 s to 5 s, cut short when ``stop`` is set."""

    FIRST_S = 0.1
    LONGEST_S = 5.0

    def __init__(self) -> None:
        self._next = self.FIRST_S

    def reset(self) -> None:
        self._next = self.FIRST_S

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self._next)
        self._next = min(self._next * 2, self.LONGEST_S)


def _png_file(path: Path, *, side: int) -> bytes | None:
    """A PNG of the image file at ``path`` (longest side ``side``), or None if it fails."""
    try:
        from PIL import Image

        with Image.open(path) as img:
            return _png(img.convert("RGBA"), side=side)
    except Exception:  # a preview is a nicety: never let it fail a job
        log.debug("preview of %s failed", path, exc_info=True)
        return None


def _png(image: Any, *, side: int = PREVIEW_SIDE) -> bytes | None:
    """A small PNG of ``image`` (longest side ``side``), or None if it fails."""
    try:
        img = image.copy()
        img.thumbnail((side, side))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()
    except Exception:  # a preview is a nicety: never let it fail a job
        log.debug("preview failed", exc_info=True)
        return None


def _remove_partial_files(folder: Path) -> None:
    """Delete temporary files and staging folders (``.*.tmp``: an asset folder being
    written) a killed run left behind in ``folder``."""
    if not folder.is_dir():
        return
    for tmp in folder.glob(".*.tmp"):
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
