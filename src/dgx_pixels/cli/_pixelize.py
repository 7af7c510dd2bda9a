"""``dgx-pixels pixelize``: any image -> pixel art at a target size and palette."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from dgx_pixels.image_files import read_image
from dgx_pixels.pixel.metrics import colors_used
from dgx_pixels.pixel.outline import OUTLINE_SIDES
from dgx_pixels.pixel.pixelize import DOWNSCALE_METHODS, check_size, fit_size
from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art

from ._params import look_options, parse_size, plan_outputs, preview_option, write_outputs

__all__ = ["pixelize"]


@click.command("pixelize")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--size",
    "size_text",
    required=True,
    metavar="N|WxH",
    help="Target size: N fits the long side and keeps the aspect, WxH is exact.",
)
@look_options
@click.option(
    "--method",
    type=click.Choice(DOWNSCALE_METHODS),
    default="contrast",
    show_default=True,
    help="How each cell's colour is chosen (contrast keeps thin dark lines).",
)
@click.option("--outline", metavar="darker|#rrggbb", help="Add a 1-px outline.")
@click.option(
    "--outline-side", type=click.Choice(OUTLINE_SIDES), default="outside", show_default=True
)
@click.option(
    "--cleanup/--no-cleanup", default=True, show_default=True, help="Remove stray pixels."
)
@preview_option
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the PNG [default: IMAGE's name + '-pixel.png', beside it].",
)
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def pixelize(
    image: Path,
    size_text: str,
    palette: str | None,
    dither: str,
    method: str,
    background: str,
    outline: str | None,
    outline_side: str,
    cleanup: bool,
    preview_factor: int | None,
    out: Path | None,
    force: bool,
) -> None:
    """Turn IMAGE (a photo, render or drawing) into pixel art of --size.

    --size N fits the long side to N pixels and keeps IMAGE's aspect (a 4:3
    photo at --size 48 becomes 48x36); --size WxH is exact. Each target
    pixel takes one representative colour of its cell; with
    --palette the result is mapped onto a palette (auto:N extracts N colours).
    """
    # 1. Options first: a bad option must not cost a decode. "N" alone fits the
    # long side once the image's aspect is known; the spec is checked with NxN.
    size = parse_size(size_text)
    long_side = size[0] if "x" not in size_text.lower() else None
    spec = PixelSpec(
        size=size,
        palette=palette,
        dither=dither,
        background=background,
        outline=outline,
        outline_side=outline_side,
        cleanup=cleanup,
        sampling=method,
    )
    target = out if out is not None else image.with_name(f"{image.stem}-pixel.png")
    target, preview_path = plan_outputs(image, target, preview_factor, force=force)

    # 2. Read, check the size against the image, convert.
    picture = read_image(image)
    if long_side is not None:
        size = fit_size(long_side, picture.size)
        spec = dataclasses.replace(spec, size=size)
    check_size(size, picture.size)
    result = to_pixel_art(picture, spec)

    # 3. Write (atomically; never over an existing file without --force).
    note = f"{size[0]}x{size[1]}, {colors_used(result)} colours"
    write_outputs(result, target, preview_path, preview_factor, force=force, note=note)
