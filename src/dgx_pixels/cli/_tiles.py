"""``dgx-pixels tiles``: seamless tiles from a prompt, as one asset.

Tile 0 is drawn on a torus (circular padding in the model, a torus pixel
step); the others are variants that share its palette and its border band,
so any tile joins any other. Runs the model in this process.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import click

from dgx_pixels.cli._generate import engine_options, given_options, request_options

__all__ = ["tiles"]

#: The palette tiles get when none is given: tiles are mixed on a map, so they share one.
DEFAULT_TILE_PALETTE = "auto:16"


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
def tiles(
    prompt: str,
    size_text: str | None,
    loras: tuple[str, ...],
    preview_scale: int,
    force: bool,
    device: str | None,
    dtype: str | None,
    memory: str | None,
    **options: Any,
) -> None:
    """Draw seamless tiles of PROMPT (--count N: tile 0 and N-1 variants).

    Writes one asset folder (OUT/SLUG-SEED): every tile under tiles/,
    sheet.png, preview.png (each tile repeated) and manifest.json with the
    request and each tile's seam measure (wrap edge vs interior, about 1 =
    seamless). Without --palette the tiles share auto:16 colours.
    """
    from dgx_pixels.assets import asset_stem
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.cli._generate import loaded_engine, warn_if_noise
    from dgx_pixels.engine import check_request
    from dgx_pixels.errors import InputError
    from dgx_pixels.request import GenerationRequest
    from dgx_pixels.sprites import make_tiles, tiles_asset

    # 1. The request, checked before anything loads; the asset folder.
    given = given_options(options, size_text, loras)
    count = given.pop("count", 1)
    if not 1 <= count <= 16:
        raise InputError(f"--count must be 1-16 tiles, got {count}")
    given.setdefault("palette", DEFAULT_TILE_PALETTE)
    given.setdefault("background", "keep")
    out = given.pop("out", None)
    request = GenerationRequest(prompt=prompt, **given)
    check_request(request)
    out_dir = Path(out or Path("outputs") / datetime.date.today().isoformat())
    assert request.seed is not None
    folder, name = plan_asset(out_dir / asset_stem(prompt, request.seed), force=force)
    warn_if_noise(request.model, "tiles")
    # 2. Draw.
    with loaded_engine(request.model, device, dtype, memory) as (engine, bar):
        made = make_tiles(engine, request, count=count, on_step=bar)
    # 3. Write.
    tiles_asset(made, name=name, preview_scale=preview_scale).write(folder, force=force)
    click.echo(str(folder))
    w, h = made.tiles[0].size
    click.echo(f"{count} seamless tile(s) {w}x{h} ({request.seamless})", err=True)
