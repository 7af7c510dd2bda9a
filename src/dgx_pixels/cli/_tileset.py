"""``dgx-pixels tileset``: an autotile set (blob47 or wang16) as one asset.

``PROMPT --over PROMPT`` generates one (``dgx_pixels.sprites._terrain``: two
seamless textures, transitions inpainted along the masks, one palette).
``--from-template IMG`` composes every tile from an RPG Maker A2-style
template by quarter-tile assembly: no model, exact, instant. The template
layout is drawn in docs/tilesets.md.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import click

from dgx_pixels.cli._generate import engine_options, given_options, request_options
from dgx_pixels.cli._jobs import SubmitTo, submit_options

__all__ = ["template_asset", "tileset"]


@click.command("tileset")
@click.argument("prompt", required=False)
@click.option("--over", metavar="PROMPT", help="With PROMPT: the terrain PROMPT lies over.")
@click.option(
    "--from-template",
    "template_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An RPG Maker A2-style template: 2 tiles wide, 3 high (docs/tilesets.md).",
)
@click.option(
    "--layout",
    type=click.Choice(["blob47", "wang16"]),
    default="blob47",
    show_default=True,
    help="47 tiles by 8 neighbours (+ the plain ground tile), or 16 by corners.",
)
@click.option(
    "--base",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A tile of the ground around the terrain, drawn under every tile [transparent].",
)
@click.option(
    "--names",
    metavar="A,B",
    help="Names of the terrain and of the ground around it [terrain,ground, or the prompts].",
)
@click.option(
    "--preview-size",
    default="12x8",
    show_default=True,
    metavar="COLSxROWS",
    help="Tiles of the painted preview map.",
)
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Replace an existing asset folder.")
@request_options
@click.option("--fast", is_flag=True, default=None, help="Few steps without CFG (LCM).")
@engine_options
@submit_options
def tileset(
    prompt: str | None,
    over: str | None,
    template_path: Path | None,
    layout: str,
    base: Path | None,
    names: str | None,
    preview_size: str,
    seed: int | None,
    out: str | None,
    force: bool,
    size_text: str | None,
    loras: tuple[str, ...],
    device: str | None,
    dtype: str | None,
    memory: str | None,
    submit: bool,
    priority: int,
    worker_address: str | None,
    timeout: float,
    **options: Any,
) -> None:
    """An autotile set: PROMPT --over PROMPT (generated) or --from-template IMG (no model).

    Generated: seamless textures of both terrains, transitions inpainted along
    the masks, one locked palette. From a template: quarter-tile assembly.

    The asset folder (OUT/NAME-LAYOUT) holds every tile under tiles/,
    sheet.png, preview.png (a random map painted by the adjacency rules) and
    manifest.json with each tile's Tiled wangid and terrain (docs/assets.md).
    With --submit the worker generates it as a job, and the asset is copied here.
    """
    from dgx_pixels.errors import InputError

    given = given_options(options, size_text, loras)
    to_worker = SubmitTo.given(submit, worker_address, timeout, priority)
    if seed is not None and not 0 <= seed <= 2**32 - 1:
        raise InputError(f"--seed must be between 0 and {2**32 - 1}, got {seed}")
    if template_path is not None:
        if to_worker is not None:
            raise InputError("--from-template needs no model: it runs here; leave out --submit")
        if prompt is not None or over is not None or given:
            raise InputError(
                "--from-template needs no model: give no PROMPT, --over or generation options"
            )
        out_dir = Path(out or Path("outputs") / datetime.date.today().isoformat())
        folder, count, (w, h) = template_asset(
            template_path, layout, base, names or "terrain,ground", preview_size, seed or 0,
            out_dir, force,
        )  # fmt: skip
        click.echo(str(folder))
        click.echo(f"{layout}: {count} tiles {w}x{h}", err=True)
        return
    if prompt is None or over is None:
        raise click.UsageError("give PROMPT --over PROMPT, or --from-template IMG")
    if base is not None:
        raise InputError("--base is for --from-template; a generated set draws its own ground")
    if seed is not None:
        given["seed"] = seed
    _generated(prompt, over, layout, names, preview_size, out, force, given,
               (device, dtype, memory), to_worker)  # fmt: skip


def _preview(preview_size: str) -> tuple[int, int]:
    from dgx_pixels.cli._params import parse_size
    from dgx_pixels.errors import InputError

    columns, rows = parse_size(preview_size, option="--preview-size")
    if columns > 64 or rows > 64:
        raise InputError(f"--preview-size must be at most 64x64 tiles, got {columns}x{rows}")
    return columns, rows


def _generated(
    prompt: str,
    over: str,
    layout: str,
    names: str | None,
    preview_size: str,
    out: str | None,
    force: bool,
    given: dict[str, Any],
    placement: tuple[str | None, str | None, str | None],
    submit: SubmitTo | None,
) -> None:
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.cli._generate import loaded_engine, warn_if_noise
    from dgx_pixels.sprites import plan_set, set_request

    # 1. Everything checked before the model loads (sprites.plan_set).
    columns, rows = _preview(preview_size)
    out_folder = given.pop("out", out)
    if submit is not None and "model" not in given:
        given["model"] = submit.model()
    options = {"over": over, "layout": layout, "names": names, "preview_size": [columns, rows]}
    plan = plan_set("tileset", set_request("tileset", prompt, given), options)
    out_dir = Path(out_folder or Path("outputs") / datetime.date.today().isoformat())
    folder, _ = plan_asset(out_dir / plan.name, force=force)
    w, h = plan.request.size
    count = 16 if layout == "wang16" else 48
    if submit is not None:  # 2. Draw on the worker, then copy the asset here.
        click.echo(str(submit.run_set(plan, folder, force=force)))
        click.echo(f"{layout}: {count} tiles {w}x{h}", err=True)
        return
    warn_if_noise(plan.request.model, "tiles")
    # 2. Draw.
    with loaded_engine(plan.request.model, *placement) as (engine, bar):
        bundle = plan.make(engine, on_step=bar)
    # 3. The asset.
    bundle.write(folder, force=force)
    click.echo(str(folder))
    click.echo(f"{layout}: {count} tiles {w}x{h}", err=True)


def template_asset(
    template_path: Path,
    layout: str,
    base: Path | None,
    names: str,
    preview_size: str,
    seed: int,
    out_dir: Path,
    force: bool,
) -> tuple[Path, int, tuple[int, int]]:
    """Write the tileset asset composed from the template at ``template_path`` into ``out_dir``.

    Returns the asset folder, its tile count and the tile size (the MCP
    server's ``tileset`` calls this too).
    """
    from dgx_pixels.assets import slugify
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import template_tiles, tileset_asset
    from dgx_pixels.sprites import terrain_names as sprite_terrain_names

    # 1. Options and the output folder, before any image is read.
    terrain_names = sprite_terrain_names(names)
    columns, rows = _preview(preview_size)
    name = f"{slugify(template_path.stem)}-{layout}"
    folder, _ = plan_asset(out_dir / name, force=force)
    # 2. Compose.
    template = read_image(template_path)
    ground = read_image(base) if base is not None else None
    made = template_tiles(template, layout=layout, base=ground)
    # 3. The asset.
    bundle = tileset_asset(
        made,
        name=name,
        terrain_names=terrain_names,
        base=ground,
        preview_size=(columns, rows),
        seed=seed,
        request={
            "command": "tileset",
            "from_template": str(template_path),
            "layout": layout,
            "base": None if base is None else str(base),
            "names": list(terrain_names),
            "preview_size": [columns, rows],
            "seed": seed,
        },
    )
    bundle.write(folder, force=force)
    return folder, len(made.tiles), made.tiles[0].size
