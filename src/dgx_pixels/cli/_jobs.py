"""The job-system commands: ``worker``, ``submit``, ``jobs``, ``watch``, ``cancel``.

Terminal 1 runs ``dgx-pixels worker --model ID``; terminal 2 runs
``dgx-pixels submit "a knight" --watch`` or ``dgx-pixels watch ID``. Clients
find the worker from ``--worker ADDR``, ``DGX_PIXELS_WORKER``, or the default
loopback address. Errors end as one line with the error's exit code (the
``dgx_pixels.cli`` edge decides it).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from dgx_pixels.errors import InputError
from dgx_pixels.request import DEFAULT_MODEL

__all__ = ["SubmitTo", "cancel", "jobs", "submit", "submit_options", "watch", "worker"]

F = TypeVar("F", bound=Callable[..., Any])

_WORKER_HELP = "Worker address, e.g. tcp://127.0.0.1:5557 (default: $DGX_PIXELS_WORKER or that)."


def _worker_option(f: F) -> F:
    f = click.option(
        "--timeout",
        default=3.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for the worker to answer.",
    )(f)
    return click.option("--worker", "worker_address", metavar="ADDR", help=_WORKER_HELP)(f)


def _check_priority(priority: int) -> None:
    """Refuse a priority beyond ``Limits.priority`` here, before asking the worker."""
    from dgx_pixels.jobs.limits import LIMITS

    most = LIMITS.priority
    if not -most <= priority <= most:
        raise InputError(
            f"priority must be between {-most} and {most}, got {priority}", option="priority"
        )


def _client(address: str | None, timeout: float) -> Any:
    from dgx_pixels.jobs.client import Client

    if timeout <= 0:
        raise InputError(f"timeout must be positive, got {timeout:g}", option="timeout")
    return Client(address, timeout=timeout)


# ------------------------------------------------------------ sets on the worker


def submit_options(f: F) -> F:
    """``--submit``, ``--priority``, ``--worker``, ``--timeout``: a set command's worker job."""
    f = _worker_option(f)
    f = click.option(
        "--priority", default=0, show_default=True, help="With --submit: higher runs first."
    )(f)
    return click.option(
        "--submit",
        is_flag=True,
        help="Run as a job on the worker (progress per frame; Ctrl-C cancels it), then copy "
        "the asset here.",
    )(f)


@dataclass(frozen=True, slots=True)
class SubmitTo:
    """A set command's ``--submit``: the worker to use, and how to wait for its job."""

    address: str | None
    timeout: float
    priority: int

    @classmethod
    def given(
        cls, submit: bool, address: str | None, timeout: float, priority: int
    ) -> SubmitTo | None:
        """The options of :func:`submit_options`, or None without ``--submit``."""
        if not submit:
            if address is not None or priority:
                raise InputError("--worker and --priority go with --submit")
            return None
        _check_priority(priority)
        return cls(address, timeout, priority)

    def model(self) -> str:
        """The worker's model: what a request without ``--model`` names."""
        with _client(self.address, self.timeout) as client:
            return str(client.ping().model)

    def run_set(
        self, plan: Any, folder: Path, *, force: bool, from_file: Path | None = None
    ) -> Path:
        """Queue the set ``plan`` (``sprites.SetPlan``), follow it, copy its asset to ``folder``.

        ``from_file``: the sprite of ``animate --from``, sent with the job.
        """
        from dgx_pixels.assets import copy_asset

        with _client(self.address, self.timeout) as client:
            job = client.submit_set(
                plan.task, plan.request, dict(plan.options), priority=self.priority, force=force,
                from_file=from_file,
            )  # fmt: skip
            click.echo(f"job {job.id} queued (priority {job.priority})", err=True)
            _follow_or_cancel(client, job.id)
            done = client.status(job.id)
        return copy_asset(done.outputs[0], folder, force=force)

    def run_train(
        self,
        config: Any,
        dataset: Path,
        lora: Path,
        layout: str,
        save_precision: str,
        *,
        force: bool,
    ) -> Path:
        """Queue a training of ``config`` on the sprites in ``dataset`` (sent), follow it,
        and copy the LoRA to ``lora`` (its config and metrics log beside it)."""
        from dgx_pixels.assets import copy_outputs

        with _client(self.address, self.timeout) as client:
            job = client.submit_train(
                config, dataset, layout=layout, save_precision=save_precision,
                priority=self.priority,
            )  # fmt: skip
            click.echo(f"job {job.id} queued (priority {job.priority})", err=True)
            _follow_or_cancel(client, job.id)
            done = client.status(job.id)
        names = {
            "lora": lora.name,
            "config": lora.with_suffix(".json").name,
            "metrics": lora.with_suffix(".metrics.jsonl").name,
            "validation": lora.with_suffix(".validation.png").name,
        }
        copied = copy_outputs(done.outputs, lora.parent, force=force, names=names)
        if copied.remote:
            raise InputError(
                f"the worker is on another machine: its LoRA is there, at {copied.remote[0]}"
            )
        return copied.images[0]["lora"]


def _follow_or_cancel(client: Any, job_id: int) -> None:
    """Follow a job to its end; Ctrl-C cancels it (and ends this command ``Interrupted``)."""
    from dgx_pixels.errors import Interrupted

    try:
        _follow(client, job_id, as_json=False, show_outputs=False)
    except KeyboardInterrupt:
        client.cancel(job_id)
        raise Interrupted(f"job {job_id} cancelled") from None


# --------------------------------------------------------------------- worker


@click.command()
@click.option(
    "--model",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Model loaded at start and used by default; jobs may ask for any other.",
)
@click.option(
    "--memory-gib",
    type=float,
    default=None,
    help="Memory the warm models may take together, in GiB (default: 3/4 of the GPU's, "
    "else half the RAM); the least recently used is unloaded first.",
)
@click.option(
    "--bind",
    default=None,
    metavar="ADDR",
    help="Request address (default tcp://127.0.0.1:5557). Beyond loopback needs CURVE keys.",
)
@click.option(
    "--events-bind", default=None, metavar="ADDR", help="Event address (default: port+1)."
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Jobs, outputs, keys."
)
@click.option("--batch-size", default=4, show_default=True, help="Most jobs run as one batch.")
@click.option("--max-attempts", default=3, show_default=True, help="Runs before a job fails.")
@click.option("--metrics-port", default=9477, show_default=True, help="Prometheus port (0: any).")
@click.option("--no-metrics", is_flag=True, help="Do not serve Prometheus metrics.")
@click.option(
    "--drain-timeout",
    default=60.0,
    show_default=True,
    help="On SIGTERM, seconds to finish the running batch before re-queueing it.",
)
@click.option("--device", default=None, help="Torch device (default: the best one).")
@click.option("--dtype", default=None, help="Torch dtype (default: the device's best).")
@click.option(
    "--root",
    "roots",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder requests may read and write besides the data dir (repeat).",
)
@click.option("--init-keys", is_flag=True, help="Create CURVE keys in the data dir, then exit.")
@click.option("--force", is_flag=True, help="With --init-keys: replace existing keys.")
def worker(
    model: str,
    memory_gib: float | None,
    bind: str | None,
    events_bind: str | None,
    data_dir: Path | None,
    batch_size: int,
    max_attempts: int,
    metrics_port: int,
    no_metrics: bool,
    drain_timeout: float,
    device: str | None,
    dtype: str | None,
    roots: tuple[Path, ...],
    init_keys: bool,
    force: bool,
) -> None:
    """Keep models warm and run queued jobs (Ctrl-C or SIGTERM drains and stops)."""
    from dgx_pixels.jobs.backend import EngineBackend
    from dgx_pixels.jobs.protocol import DEFAULT_ADDRESS
    from dgx_pixels.jobs.worker import Worker, WorkerConfig
    from dgx_pixels.paths import DataDir

    data = DataDir.resolve(data_dir)
    if init_keys:
        from dgx_pixels.jobs.security import init_keys as make_keys

        for path in make_keys(data.create().keys, force=force):
            click.echo(path)
        click.echo(
            "Give clients keys/server.key and keys/client.key_secret (into their own "
            "data dir's keys/); start the worker with --bind tcp://ADDR:PORT.",
            err=True,
        )
        return
    config = WorkerConfig(
        data=data,
        model=model,
        bind=bind or DEFAULT_ADDRESS,
        events_bind=events_bind,
        batch_size=batch_size,
        max_attempts=max_attempts,
        metrics_port=None if no_metrics else metrics_port,
        drain_timeout_s=drain_timeout,
        roots=roots,
        memory_gib=memory_gib,
    )
    _log_to(data.create().logs / "worker.log")
    server = Worker(config, EngineBackend(device=device, dtype=dtype))
    server.install_signal_handlers()
    server.serve()


def _log_to(path: Path) -> None:
    """Log the worker's lines to stderr and to ``path`` (once per process)."""
    root = logging.getLogger("dgx_pixels")
    if getattr(root, "_dgx_worker_logging", False):
        return
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(path)):
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root._dgx_worker_logging = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------- submit


#: generate's parameters that make the request (and --force); submit takes exactly
#: these (the same click objects, so the flags have one definition). Not: --device,
#: --dtype, --memory, which belong to the process that runs the engine.
_REQUEST_PARAMS = (
    "prompt", "size_text", "count", "seed", "palette", "dither", "model", "loras", "steps",
    "guidance", "scheduler", "negative", "init", "strength", "mask", "background", "fast",
    "out", "from_path", "force",
)  # fmt: skip


@click.command()
@click.option("--priority", default=0, show_default=True, help="Higher runs first (-1000..1000).")
@click.option("--watch", "follow", is_flag=True, help="Show progress until the job ends.")
@click.option("--json", "as_json", is_flag=True, help="Print the job record as JSON.")
@_worker_option
def submit(
    prompt: str | None,
    size_text: str | None,
    loras: tuple[str, ...],
    from_path: str | None,
    force: bool,
    priority: int,
    follow: bool,
    as_json: bool,
    worker_address: str | None,
    timeout: float,
    **options: Any,
) -> None:
    """Queue PROMPT on the running worker (the options of generate).

    Without --model the request names the worker's model. --init, --mask and
    a palette file are sent to the worker. Outputs go to the worker's data dir
    (outputs/DATE/job-ID/), or to --out: a folder under the worker's outputs
    (relative) or inside a folder it was started with (worker --root).
    """
    from dgx_pixels.cli._generate import _build_request
    from dgx_pixels.cli._params import parse_size

    _check_priority(priority)
    with _client(worker_address, timeout) as client:
        # 1. The request, built as generate builds it.
        given = {k: v for k, v in options.items() if v is not None}
        if size_text is not None:
            given["size"] = parse_size(size_text)
        if loras:
            from dgx_pixels.engine._loras import local_lora_ref

            given["loras"] = tuple(local_lora_ref(text) for text in loras)
        if "model" not in given and from_path is None:
            given["model"] = client.ping().model
        request = _build_request(prompt, from_path, given)
        # 2. Queue it, then (optionally) follow it.
        job = client.submit(request, priority=priority, force=force)
        if as_json:
            click.echo(json.dumps(job.summary(request=True), indent=2))
        else:
            click.echo(f"job {job.id} queued (priority {job.priority}, seed {request.seed})")
        if follow:
            _follow(client, job.id, as_json=as_json)


def _adopt_generate_params() -> None:
    from dgx_pixels.cli._generate import generate

    taken = [param for param in generate.params if param.name in _REQUEST_PARAMS]
    missing = set(_REQUEST_PARAMS) - {param.name for param in taken}
    if missing:  # generate changed its flags: fail loudly, at import, in every test run
        raise RuntimeError(f"generate has no parameter(s) {sorted(missing)} for submit")
    submit.params[:0] = taken


_adopt_generate_params()


# ----------------------------------------------------------------------- jobs


@click.command()
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(["queued", "running", "done", "failed", "cancelled"]),
    help="Only jobs in this state (repeat).",
)
@click.option("--limit", default=20, show_default=True, help="Jobs per page.")
@click.option("--offset", default=0, show_default=True, help="Skip this many (newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (id, state, prompt, outputs...).")
@_worker_option
def jobs(
    states: tuple[str, ...],
    limit: int,
    offset: int,
    as_json: bool,
    worker_address: str | None,
    timeout: float,
) -> None:
    """List jobs, newest first."""
    from dgx_pixels.jobs.limits import LIMITS

    if not 1 <= limit <= LIMITS.page_jobs:
        raise InputError(
            f"limit must be between 1 and {LIMITS.page_jobs}, got {limit}", option="limit"
        )
    if offset < 0:
        raise InputError(f"offset must be at least 0, got {offset}", option="offset")
    with _client(worker_address, timeout) as client:
        page = client.jobs(states or None, limit=limit, offset=offset)
        pong = None if as_json else client.ping()
    if pong is None:
        click.echo(json.dumps([j.summary(request=True) for j in page.jobs], indent=2))
        return
    from dgx_pixels.cli import printable

    click.echo(
        f"worker {client.address}: {printable(pong.state)}, {printable(pong.model)}, "
        f"{pong.queued} queued, {pong.running} running"
    )
    if not page.jobs:
        click.echo("no jobs")
        return
    click.echo(f"{'ID':>6}  {'STATE':<9}  {'PRI':>4}  {'AGE':>6}  PROMPT")
    now = time.time()
    for j in page.jobs:
        text = printable(j.prompt)  # a newline in a prompt must not forge a row
        prompt = text if len(text) <= 50 else text[:49] + "…"
        click.echo(
            f"{j.id:>6}  {j.state:<9}  {j.priority:>4}  {_age(now - j.created):>6}  {prompt}"
        )
    if page.next_offset is not None:
        click.echo(f"({page.next_offset} of {page.total}; --offset {page.next_offset} for more)")


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{max(seconds, 0):.0f}s"


# ---------------------------------------------------------------------- watch


@click.command()
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print each event as one JSON line.")
@_worker_option
def watch(job_id: int, as_json: bool, worker_address: str | None, timeout: float) -> None:
    """Show a job's progress until it ends (exit 0 when done)."""
    with _client(worker_address, timeout) as client:
        _follow(client, job_id, as_json=as_json)


def _follow(client: Any, job_id: int, *, as_json: bool, show_outputs: bool = True) -> None:
    from dgx_pixels.cli import printable
    from dgx_pixels.jobs import protocol as p
    from dgx_pixels.jobs.client import job_error

    bar = _ProgressLine(job_id, enabled=not as_json)
    for event in client.watch(job_id):
        if as_json:
            data = {"type": event.TYPE, **event.to_wire()}
            data.pop("preview", None)
            click.echo(json.dumps(data))
        match event:
            case p.Progress():
                bar.update(event.step, event.total, event.eta_s, loss=event.loss)
            case p.Loading():
                bar.note(f"loading model {event.model}")
            case p.Loaded():
                bar.note(f"model {event.model} loaded in {event.seconds:.1f} s")
            case p.Started():
                bar.note(f"running (attempt {event.attempt}, batch of {len(event.batch)})")
            case p.Accepted():
                bar.note("queued")
            case p.Done():
                bar.done()
                if show_outputs and not as_json:
                    for files in event.outputs:
                        click.echo(printable(files.get("sprite") or next(iter(files.values()), "")))
            case p.Failed() | p.Cancelled():
                bar.done()
                raise job_error(client.status(job_id))


class _ProgressLine:
    """One self-rewriting line on stderr: ``job 12 [#####-----] 15/30 eta 4s``."""

    WIDTH = 30

    def __init__(self, job_id: int, *, enabled: bool) -> None:
        self.job_id = job_id
        self.enabled = enabled
        self.tty = sys.stderr.isatty()

    def update(self, step: int, total: int, eta: float | None, *, loss: float | None) -> None:
        if not self.enabled:
            return
        filled = round(self.WIDTH * step / max(total, 1))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        eta_text = f" eta {eta:.0f}s" if eta is not None else ""
        loss_text = f" loss {loss:.4f}" if loss is not None else ""
        line = f"job {self.job_id} [{bar}] {step}/{total}{loss_text}{eta_text}"
        if self.tty:
            click.echo(f"\r{line}\x1b[K", nl=False, err=True)
        elif step == total:
            click.echo(line, err=True)

    def note(self, text: str) -> None:
        if self.enabled:
            clear = "\r\x1b[K" if self.tty else ""
            click.echo(f"{clear}job {self.job_id}: {text}", err=True)

    def done(self) -> None:
        if self.enabled and self.tty:
            click.echo("", err=True)


# --------------------------------------------------------------------- cancel


@click.command()
@click.argument("job_id", type=int)
@_worker_option
def cancel(job_id: int, worker_address: str | None, timeout: float) -> None:
    """Cancel a job: a queued one at once, a running one within one denoising step."""
    with _client(worker_address, timeout) as client:
        job = client.cancel(job_id)
    if job.state == "cancelled":
        click.echo(f"job {job_id} cancelled")
    elif job.state == "running":
        click.echo(f"job {job_id} is stopping (within one denoising step)")
    else:
        click.echo(f"job {job_id} already ended: {job.state}")


# ---------------------------------------------------------------------- retry


@click.command()
@click.argument("job_id", type=int)
@_worker_option
def retry(job_id: int, worker_address: str | None, timeout: float) -> None:
    """Queue failed or cancelled job JOB_ID again, as a new job (any task: sprites, sets,
    trainings); `watch` the id it prints."""
    with _client(worker_address, timeout) as client:
        job = client.retry(job_id)
    click.echo(f"job {job_id} queued again as job {job.id}")


# --------------------------------------------------------------- reprioritise


@click.command()
@click.argument("job_id", type=int)
@click.argument("priority", type=int)
@_worker_option
def reprioritise(job_id: int, priority: int, worker_address: str | None, timeout: float) -> None:
    """Give queued job JOB_ID the priority PRIORITY (-1000..1000; higher runs first)."""
    _check_priority(priority)
    with _client(worker_address, timeout) as client:
        job = client.reprioritise(job_id, priority)
    click.echo(f"job {job_id} queued at priority {job.priority}")
