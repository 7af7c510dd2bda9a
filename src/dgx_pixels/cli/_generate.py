"""``dgx-pixels generate``: prompt -> sprites on disk.

The steps: build the request (from options, or from an earlier output with
``--from``), check it and the output files without loading anything, load
the model, generate with a progress bar, write the files. A bad option ends
before the model loads and writes nothing.
"""

from __future__ import annotations

import datetime
import functools
import sys
from pathlib import Path
from typing import Any

import click

from dgx_pixels.cli._params import parse_size
from dgx_pixels.request import GenerationRequest, LoraRef

__all__ = ["generate", "load_engine"]

#: What ``--fast`` sets when the options are not given: a few-step sampler without CFG.
FAST_DEFAULTS: dict[str, Any] = {"steps": 4, "guidance": 1.0, "scheduler": "lcm"}


@functools.lru_cache(maxsize=1)
def load_engine(model: str, device: str | None, dtype: str | None, memory: str | None) -> Any:
    """Load (once per process) the engine for ``model``."""
    from dgx_pixels.engine import Engine

    return Engine.load(model, device=device, dtype=dtype, memory=memory)


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


@click.command("generate")
@click.argument("prompt", required=False)
@click.option("--size", "size_text", metavar="N|WxH", help="Sprite size in pixels [32].")
@click.option("--count", type=int, help="Number of sprites, one seed each [1].")
@click.option("--seed", type=int, help="First seed (then seed+1, ...) [random].")
@click.option("--palette", help="Built-in palette, .hex/.gpl/.pal file or auto:N.")
@click.option("--dither", type=click.Choice(["none", "ordered", "error-diffusion"]))
@click.option("--model", help="Model id [pixel-art-xl]; see 'dgx-pixels models list'.")
@click.option("--lora", "loras", multiple=True, metavar="ID[:W]", help="A LoRA to stack.")
@click.option("--steps", type=int, help="Denoising steps [30].")
@click.option("--guidance", type=float, help="Classifier-free guidance scale [6].")
@click.option("--scheduler", help="euler, euler-a, dpm++ 2m karras, ddim, lcm, ... [euler-a].")
@click.option("--negative", help="Negative prompt [pixel-art defaults].")
@click.option("--init", "init", type=click.Path(), help="Start from this image (img2img).")
@click.option("--strength", type=float, help="How much of --init to repaint, (0, 1] [0.6].")
@click.option("--mask", type=click.Path(), help="Repaint only the white part of --init.")
@click.option("--background", help="transparent, keep or #rrggbb [transparent].")
@click.option("--fast", is_flag=True, default=None, help="Few steps without CFG (LCM).")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--from", "from_path", type=click.Path(), help="Reproduce an output (.json or .png).")
@click.option("--device", help="auto, cuda[:N], mps or cpu [auto].")
@click.option("--dtype", help="auto, fp32, fp16 or bf16 [auto].")
@click.option("--memory", help="auto, none, vae, offload or sequential [auto].")
def generate(
    prompt: str | None,
    size_text: str | None,
    loras: tuple[str, ...],
    force: bool,
    from_path: str | None,
    device: str | None,
    dtype: str | None,
    memory: str | None,
    **options: Any,
) -> None:
    """Generate pixel-art sprites from PROMPT.

    Writes, per sprite, NAME.png (true resolution), NAME@8x.png (preview),
    NAME.raw.png (the model's drawing) and NAME.json (metadata), and prints
    the sprite paths.
    """
    from dgx_pixels.assets import check_free, planned_files, save_result
    from dgx_pixels.engine import check_request

    # 1. The request.
    given = {k: v for k, v in options.items() if v is not None}
    if size_text is not None:
        given["size"] = parse_size(size_text)
    if loras:
        given["loras"] = tuple(LoraRef.parse(text) for text in loras)
    request = _build_request(prompt, from_path, given)
    out_dir = Path(request.out or Path("outputs") / datetime.date.today().isoformat())
    # 2. Checks that cost nothing: inputs, then the files to be written.
    check_request(request)
    if not force:
        check_free(planned_files(request, out_dir))
    # 3. Load and generate.
    click.echo(f"loading {request.model} ...", err=True)
    engine = load_engine(request.model, device, dtype, memory)
    bar = _ProgressBar()
    try:
        [result] = engine.generate([request], on_step=bar)
    finally:
        bar.close()
    # 4. Write.
    for files in save_result(result, out_dir, force=force):
        click.echo(str(files.sprite))
    click.echo(
        f"{len(result.images)} sprite(s) {request.size[0]}x{request.size[1]} in "
        f"{result.timings.total_s:.1f} s on {result.device} ({result.dtype})",
        err=True,
    )


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
