"""``dgx-pixels restore``: AI "pseudo pixel art" -> the true low-resolution sprite."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import numpy as np
from numpy.typing import NDArray

from dgx_pixels.errors import InputError
from dgx_pixels.image_files import read_image
from dgx_pixels.pixel.restore import DEFAULT_MIN_CONFIDENCE
from dgx_pixels.pixel.restore import restore as restore_image
from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art

from ._params import look_options, parse_size, plan_outputs, preview_option, write_outputs

__all__ = ["restore"]


@click.command("restore")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the PNG [default: IMAGE's name + '-restored.png', beside it].",
)
@click.option("--size", "size_text", metavar="WxH", help="The known true size, e.g. 32 or 32x48.")
@click.option("--scale", type=float, help="The known scale: input pixels per sprite pixel.")
@click.option(
    "--min-confidence",
    type=float,
    default=DEFAULT_MIN_CONFIDENCE,
    show_default=True,
    help="Refuse (exit 4) when the detected grid's confidence is lower.",
)
@click.option(
    "--merge-inks/--keep-colours",
    default=True,
    show_default=True,
    help="Merge colours that are one ink under the noise (the artist's palette), or keep "
    "every cell's own colour.",
)
@look_options
@preview_option
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def restore(
    image: Path,
    out: Path | None,
    size_text: str | None,
    scale: float | None,
    min_confidence: float,
    merge_inks: bool,
    background: str,
    palette: str | None,
    dither: str,
    preview_factor: int | None,
    force: bool,
) -> None:
    """Find the pixel grid of IMAGE and write the true-resolution sprite.

    Without --size or --scale the grid (cell size and offset per axis, uneven
    cells allowed) is detected; when no grid is found with enough confidence
    nothing is written and the exit code is 4. Colours that are one ink under
    the picture's noise are merged, and the palette found is printed.
    """
    # 1. Options first: a bad option must not cost a decode.
    if size_text is not None and scale is not None:
        raise InputError("give either --size or --scale, not both")
    size = parse_size(size_text) if size_text is not None else None
    if scale is not None and not scale >= 1:
        raise InputError(f"--scale must be at least 1, got {scale:g}", option="scale")
    if not 0.0 <= min_confidence <= 1.0:
        raise InputError(f"--min-confidence must be between 0 and 1, got {min_confidence:g}")
    finish = None
    if background != "keep" or palette is not None:
        # Checked now, before any decoding; the size is the restored one, set below.
        # The restored sprite is already at its true size: sample it 1:1, and
        # leave single pixels alone (they are the artist's, not noise).
        finish = PixelSpec(
            size=(1, 1),
            sampling="nearest",
            background=background,
            palette=palette,
            dither=dither,
            cleanup=False,
        )
    target = out if out is not None else image.with_name(f"{image.stem}-restored.png")
    target, preview_path = plan_outputs(image, target, preview_factor, force=force)

    # 2. Read, restore, write.
    picture = read_image(image)
    result = restore_image(
        picture, size=size, scale=scale, min_confidence=min_confidence, merge_inks=merge_inks
    )
    sprite = result.image
    if finish is not None:
        sprite = to_pixel_art(sprite, dataclasses.replace(finish, size=sprite.size))
    click.echo(f"grid: {result.grid.describe()}")
    click.echo(f"confidence: {result.confidence:.2f}")
    if merge_inks:
        found = _describe_palette(result.inks)
        if palette is not None:  # the sprite written is on --palette, not on the inks found
            found = found.replace("palette:", "inks found:", 1) + f" (then mapped to {palette})"
        click.echo(found)
    note = f"{sprite.width}x{sprite.height}"
    write_outputs(sprite, target, preview_path, preview_factor, force=force, note=note)


#: Inks listed by their hex codes up to this many; beyond, only their count.
LISTED_INKS = 32


def _describe_palette(inks: NDArray[np.uint8] | None) -> str:
    """``palette: 3 inks #102030 #405060 #708090`` (the codes up to LISTED_INKS)."""
    count = 0 if inks is None else len(inks)
    if inks is None or count > LISTED_INKS:
        return f"palette: {count} inks (more than {LISTED_INKS}, not listed)"
    return f"palette: {count} inks " + " ".join(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in inks)
