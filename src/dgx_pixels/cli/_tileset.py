"""``dgx-pixels tileset``: an autotile set (blob47 or wang16) as one asset.

``--from-template IMG`` composes every tile from an RPG Maker A2-style
template by quarter-tile assembly: no model, exact, instant. The template
layout is drawn in docs/tilesets.md.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click

__all__ = ["tileset"]


@click.command("tileset")
@click.option(
    "--from-template",
    "template_path",
    required=True,
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
    default="terrain,ground",
    show_default=True,
    metavar="A,B",
    help="Names of the template's terrain and of the ground around it.",
)
@click.option(
    "--preview-size",
    default="12x8",
    show_default=True,
    metavar="COLSxROWS",
    help="Tiles of the painted preview map.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    default=0,
    show_default=True,
    help="Seed of the preview map's random terrain.",
)
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Replace an existing asset folder.")
def tileset(
    template_path: Path,
    layout: str,
    base: Path | None,
    names: str,
    preview_size: str,
    seed: int,
    out: str | None,
    force: bool,
) -> None:
    """Compose an autotile set from a template; write one tileset asset.

    The asset folder (OUT/NAME-LAYOUT) holds every tile under tiles/,
    sheet.png, preview.png (a random map painted by the adjacency rules) and
    manifest.json with each tile's Tiled wangid and terrain (docs/assets.md).
    """
    from dgx_pixels.assets import slugify
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.cli._params import parse_size
    from dgx_pixels.errors import InputError
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import template_tiles, tileset_asset

    # 1. Options and the output folder, before any image is read.
    parts = [p.strip() for p in names.split(",")]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise InputError(f"--names must be two different names like grass,dirt, got {names!r}")
    terrain_names = (slugify(parts[0]), slugify(parts[1]))
    columns, rows = parse_size(preview_size, option="--preview-size")
    if columns > 64 or rows > 64:
        raise InputError(f"--preview-size must be at most 64x64 tiles, got {columns}x{rows}")
    name = f"{slugify(template_path.stem)}-{layout}"
    out_dir = Path(out or Path("outputs") / datetime.date.today().isoformat())
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
    click.echo(str(folder))
    w, h = made.tiles[0].size
    click.echo(f"{layout}: {len(made.tiles)} tiles {w}x{h}", err=True)
