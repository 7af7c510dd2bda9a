"""``dgx-pixels tiles``: seamless tiles from a prompt, as one asset.

Tile 0 is drawn on a torus (circular padding in the model, a torus pixel
step); the others are variants that share its palette and its border band,
so any tile joins any other. Runs the model in this process, or with
``--submit`` as a job on the worker.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import click

from dgx_pixels.cli._generate import engine_options, given_options, request_options
from dgx_pixels.cli._jobs import SubmitTo, submit_options

__all__ = ["tiles"]


@click.command("tiles")
@click.argument("prompt")
@request_options
@click.option(
    "--seamless",
    type=click.Choice(["x", "y", "xy"]),
    default="xy",
    show_default=True,
    help="The axes along which the tiles wrap.",
)
@click.option("--background", help="keep, transparent or #rrggbb [keep: tiles fill their cell].")
@click.option("--fast", is_flag=True, default=None, help="Few steps without CFG (LCM).")
@click.option(
    "--preview-scale", type=click.IntRange(1, 32), default=4, show_default=True,
    help="Screen pixels per tile pixel in preview.png (each tile repeated 3x3).",
)  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Replace an existing asset folder.")
@engine_options
@submit_options
def tiles(
    prompt: str,
    size_text: str | None,
    loras: tuple[str, ...],
    preview_scale: int,
    force: bool,
    device: str | None,
    dtype: str | None,
    memory: str | None,
    submit: bool,
    priority: int,
    worker_address: str | None,
    timeout: float,
    **options: Any,
) -> None:
    """Draw seamless tiles of PROMPT (--count N: tile 0 and N-1 variants).

    Writes one asset folder (OUT/SLUG-SEED): every tile under tiles/,
    sheet.png, preview.png (each tile repeated) and manifest.json with the
    request and each tile's seam measure (wrap edge vs interior, about 1 =
    seamless). Without --palette the tiles share auto:16 colours. With
    --submit the worker draws them as a job, and the asset is copied here.
    """
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.cli._generate import loaded_engine, warn_if_noise
    from dgx_pixels.sprites import plan_set, set_request

    # 1. The request, checked before anything loads (sprites.plan_set); the asset folder.
    to_worker = SubmitTo.given(submit, worker_address, timeout, priority)
    given = given_options(options, size_text, loras)
    count = given.pop("count", 1)
    out = given.pop("out", None)
    if to_worker is not None and "model" not in given:
        given["model"] = to_worker.model()
    request = set_request("tiles", prompt, given)
    plan = plan_set("tiles", request, {"count": count, "preview_scale": preview_scale})
    out_dir = Path(out or Path("outputs") / datetime.date.today().isoformat())
    folder, _ = plan_asset(out_dir / plan.name, force=force)
    w, h = request.size
    summary = f"{count} seamless tile(s) {w}x{h} ({request.seamless})"
    if to_worker is not None:  # 2. Draw on the worker, then copy the asset here.
        click.echo(str(to_worker.run_set(plan, folder, force=force)))
        click.echo(summary, err=True)
        return
    warn_if_noise(request.model, "tiles")
    # 2. Draw.
    with loaded_engine(request.model, device, dtype, memory) as (engine, bar):
        bundle = plan.make(engine, on_step=bar)
    # 3. Write.
    bundle.write(folder, force=force)
    click.echo(str(folder))
    click.echo(summary, err=True)
