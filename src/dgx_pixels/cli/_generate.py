"""``dgx-pixels generate``: prompt -> sprites on disk.

The steps: build the request (from options, or from an earlier output with
``--from``), check it and the output files without loading anything, then
either hand it to a running worker that serves the same model (its model is
already warm) or load the model here, generate with a progress bar and write
the files. A bad option ends before anything loads and writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from dgx_pixels.cli._params import parse_size
from dgx_pixels.request import GenerationRequest

__all__ = [
    "engine_options",
    "generate",
    "given_options",
    "load_engine",
    "loaded_engine",
    "request_options",
    "warn_if_noise",
]

F = TypeVar("F", bound=Callable[..., object])

#: How long generate waits for a running worker to answer before it runs in-process.
WORKER_PROBE_S = 0.5

#: What ``--fast`` sets when the options are not given: a few-step sampler without CFG.
FAST_DEFAULTS: dict[str, Any] = {"steps": 4, "guidance": 1.0, "scheduler": "lcm"}


@functools.lru_cache(maxsize=1)
def load_engine(model: str, device: str | None, dtype: str | None, memory: str | None) -> Any:
    """Load (once per process) the engine for ``model``."""
    from dgx_pixels.engine import Engine

    return Engine.load(model, device=device, dtype=dtype, memory=memory)


def warn_if_noise(model: str, what: str) -> None:
    """Say on stderr that a ``random:*`` model's ``what`` are noise: it must never pass
    for a result."""
    if model.startswith("random:"):
        click.echo(
            f"note: {model} has random weights: its {what} are noise, for tests and benchmarks",
            err=True,
        )


@contextlib.contextmanager
def loaded_engine(
    model: str, device: str | None, dtype: str | None, memory: str | None
) -> Iterator[tuple[Any, _ProgressBar]]:
    """The engine for ``model`` (loaded once per process) and a progress bar for its steps,
    closed when the block ends; what every drawing command runs in-process."""
    click.echo(f"loading {model} ...", err=True)
    engine = load_engine(model, device, dtype, memory)
    bar = _ProgressBar()
    try:
        yield engine, bar
    finally:
        bar.close()


def _open_bar(total: int) -> Any:
    return click.progressbar(length=total, label="generating", file=sys.stderr).__enter__()


class _ProgressBar:
    """A click progress bar on stderr, opened at the first denoising step."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._shown = 0

    def __call__(self, info: Any) -> None:
        if self._bar is None:
            self._bar = _open_bar(int(info.total))
        self._bar.update(info.step - self._shown)
        self._shown = info.step

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def request_options(f: F) -> F:
    """The options that fill a :class:`GenerationRequest`, shared by every command that
    generates (``generate``, ``tiles``, ...): same names, same meanings."""
    for option in reversed(
        (
            click.option(
                "--size", "size_text", metavar="N|WxH", help="Sprite size in pixels [32]."
            ),
            click.option("--count", type=int, help="Number of sprites, one seed each [1]."),
            click.option("--seed", type=int, help="First seed (then seed+1, ...) [random]."),
            click.option("--palette", help="Built-in palette, .hex/.gpl/.pal file or auto:N."),
            click.option("--dither", type=click.Choice(["none", "ordered", "error-diffusion"])),
            click.option("--model", help="Model id [pixel-art-xl]; see 'dgx-pixels models list'."),
            click.option(
                "--lora", "loras", multiple=True, metavar="ID[:W]", help="A LoRA to stack."
            ),
            click.option("--steps", type=int, help="Denoising steps [30]."),
            click.option("--guidance", type=float, help="Classifier-free guidance scale [6]."),
            click.option(
                "--scheduler", help="euler, euler-a, dpm++ 2m karras, ddim, lcm, ... [euler-a]."
            ),
            click.option("--negative", help="Negative prompt [pixel-art defaults]."),
        )
    ):
        f = option(f)
    return f


def engine_options(f: F) -> F:
    """``--device``, ``--dtype`` and ``--memory``: where the model runs in this process."""
    for option in reversed(
        (
            click.option("--device", help="auto, cuda[:N], mps or cpu [auto]."),
            click.option("--dtype", help="auto, fp32, fp16 or bf16 [auto]."),
            click.option("--memory", help="auto, none, vae, offload or sequential [auto]."),
        )
    ):
        f = option(f)
    return f


def given_options(
    options: dict[str, Any], size_text: str | None, loras: tuple[str, ...]
) -> dict[str, Any]:
    """The request fields the user gave (``None`` means not given), parsed."""
    given = {k: v for k, v in options.items() if v is not None}
    if size_text is not None:
        given["size"] = parse_size(size_text)
    if loras:
        from dgx_pixels.engine._loras import local_lora_ref

        given["loras"] = tuple(local_lora_ref(text) for text in loras)
    return given


@click.command("generate")
@click.argument("prompt", required=False)
@request_options
@click.option("--init", "init", type=click.Path(), help="Start from this image (img2img).")
@click.option("--strength", type=float, help="How much of --init to repaint, (0, 1] [0.6].")
@click.option("--mask", type=click.Path(), help="Repaint only the white part of --init.")
@click.option("--background", help="transparent, keep or #rrggbb [transparent].")
@click.option("--fast", is_flag=True, default=None, help="Few steps without CFG (LCM).")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--from", "from_path", type=click.Path(), help="Reproduce an output (.json or .png).")
@engine_options
@click.option(
    "--worker",
    "worker_address",
    metavar="ADDR",
    help="Worker to use when it answers [$DGX_PIXELS_WORKER or tcp://127.0.0.1:5557].",
)
@click.option("--local", is_flag=True, help="Run in this process even when a worker answers.")
def generate(
    prompt: str | None,
    size_text: str | None,
    loras: tuple[str, ...],
    force: bool,
    from_path: str | None,
    device: str | None,
    dtype: str | None,
    memory: str | None,
    worker_address: str | None,
    local: bool,
    **options: Any,
) -> None:
    """Generate pixel-art sprites from PROMPT.

    Writes, per sprite, NAME.png (true resolution), NAME@8x.png (preview),
    NAME.raw.png (the model's drawing) and NAME.json (metadata), and prints
    the sprite paths. A running worker with the same model warm does the work
    when one answers (see 'dgx-pixels worker'); else the model loads here.
    """
    from dgx_pixels.assets import check_free, planned_files, save_result
    from dgx_pixels.engine import check_request

    # 1. The request.
    given = given_options(options, size_text, loras)
    request = _build_request(prompt, from_path, given)
    out_dir = Path(request.out or Path("outputs") / datetime.date.today().isoformat())
    # 2. Checks that cost nothing: inputs, then the files to be written.
    check_request(request)
    if not force:
        check_free(planned_files(request, out_dir))
    warn_if_noise(request.model, "sprites")
    # 3. A warm worker with this model, when one answers and no local setting is asked for.
    if not (local or device or dtype or memory):
        worker = _worker_serving(request.model, worker_address)
        if worker is not None:
            _generate_on_worker(worker, request, out_dir, force)
            return
    # 4. Load and generate here.
    with loaded_engine(request.model, device, dtype, memory) as (engine, bar):
        [result] = engine.generate([request], on_step=bar)
    # 5. Write.
    for files in save_result(result, out_dir, force=force):
        click.echo(str(files.sprite))
    click.echo(
        f"{len(result.images)} sprite(s) {request.size[0]}x{request.size[1]} in "
        f"{result.timings.total_s:.1f} s on {result.device} ({result.dtype})",
        err=True,
    )


def _worker_serving(model: str, address: str | None) -> str | None:
    """The address of a worker that answers with ``model`` warm (loaded), else None."""
    try:
        from dgx_pixels.jobs.client import find_worker, resolve_address
    except ImportError:  # the jobs extra is not installed: in-process only
        return None
    pong = find_worker(address, timeout=WORKER_PROBE_S)
    if pong is None:
        return None
    found = resolve_address(address)
    warm = pong.warm or [pong.model]
    if model not in warm:
        click.echo(
            f"the worker at {found} has {', '.join(warm)} warm, not {model}; running {model} here",
            err=True,
        )
        return None
    return found


def _generate_on_worker(
    address: str, request: GenerationRequest, out_dir: Path, force: bool
) -> None:
    """Run ``request`` on the worker (input files travel as bytes), then copy its files here.

    The worker writes into its own data dir (a worker never writes where a
    client names); the files are then copied into ``out_dir``, as an
    in-process run would have written them.
    """
    from dgx_pixels.assets import copy_outputs
    from dgx_pixels.jobs.client import Client
    from dgx_pixels.jobs.protocol import Progress

    click.echo(f"using the worker at {address} ({request.model} is warm there)", err=True)
    bar = _ProgressBar()
    try:
        with Client(address) as client:
            job = client.run(
                request.replace(out=None),
                force=force,
                on_event=lambda event: bar(event) if isinstance(event, Progress) else None,
            )
    finally:
        bar.close()
    copied = copy_outputs(job.outputs, out_dir, force=force)
    for name in copied.remote:  # a worker on another machine: its paths are not here
        click.echo(f"on the worker's machine: {name}", err=True)
    for files in copied.images:
        if "sprite" in files:
            click.echo(str(files["sprite"]))
    click.echo(f"{len(job.outputs)} sprite(s) by job {job.id} on the worker", err=True)


def _build_request(
    prompt: str | None, from_path: str | None, given: dict[str, Any]
) -> GenerationRequest:
    if from_path is not None:
        from dgx_pixels.assets import read_metadata, request_from_metadata

        if prompt is not None:
            raise click.UsageError("give a PROMPT or --from, not both")
        return request_from_metadata(read_metadata(from_path)).replace(**given)
    if prompt is None:
        raise click.UsageError("missing PROMPT (or --from OUTPUT)")
    if given.get("fast"):
        given = {**FAST_DEFAULTS, **given}
    return GenerationRequest(prompt=prompt, **given)
