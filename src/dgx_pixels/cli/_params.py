"""What the image commands share: a size given as ``32`` or ``32x48``, the
``--preview`` option, and planning and writing a sprite with its preview.

Bad values raise :class:`~dgx_pixels.errors.InputError`, so the command line
prints one clear line and exits with code 2 (click's own usage errors print a
usage block as well).

>>> parse_size("32"), parse_size("32x48"), parse_size(" 8 X 4 ")
((32, 32), (32, 48), (8, 4))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from PIL import Image

from dgx_pixels.errors import InputError, OutputExistsError
from dgx_pixels.image_files import write_png
from dgx_pixels.pixel.preview import upscale

__all__ = [
    "look_options",
    "parse_size",
    "plan_outputs",
    "preview_option",
    "write_outputs",
]

F = TypeVar("F", bound=Callable[..., object])

_SIZE = re.compile(r"\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*")


def parse_size(text: str, *, option: str = "--size") -> tuple[int, int]:
    """``"32"`` -> ``(32, 32)``; ``"32x48"`` -> ``(32, 48)`` (width x height).

    >>> parse_size("0x8")
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: --size must be at least 1x1, got 0x8
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise InputError(f"{option} must look like 32 or 32x48, got {text!r}", option=option)
    width = int(match.group(1))
    height = int(match.group(2) or width)
    if width < 1 or height < 1:
        raise InputError(f"{option} must be at least 1x1, got {width}x{height}", option=option)
    return width, height


def look_options(f: F) -> F:
    """``--palette``, ``--dither`` and ``--background``: how a sprite is finished."""
    from dgx_pixels.pixel.dither import DITHER_MODES

    for option in (
        click.option(
            "--background",
            default="keep",
            show_default=True,
            metavar="keep|transparent|#rrggbb",
            help="Keep the background, remove it, or remove it and paint a colour.",
        ),
        click.option(
            "--dither",
            type=click.Choice(DITHER_MODES),
            default="none",
            show_default=True,
            help="Dithering when mapping onto --palette.",
        ),
        click.option("--palette", help="Built-in name, .hex/.gpl/.pal file, or auto:N."),
    ):
        f = option(f)
    return f


def preview_option(f: F) -> F:
    """``--preview N``: also write a nearest-neighbour preview, N times larger."""
    return click.option(
        "--preview",
        "preview_factor",
        type=click.IntRange(1, 64),
        help="Also write OUT's name + '-preview.png', upscaled by this factor.",
    )(f)


def plan_outputs(
    image: Path, target: Path, preview_factor: int | None, *, force: bool
) -> tuple[Path, Path | None]:
    """The sprite path and the preview path (or None), checked before any work.

    Raises when an output would replace the input or an existing file (without
    ``force``); :func:`write_png` checks again atomically when writing.
    """
    preview = target.with_name(f"{target.stem}-preview.png") if preview_factor else None
    for path in (target, preview):
        if path is None:
            continue
        if image.exists() and path.resolve() == image.resolve():
            raise InputError(f"{path}: the output would replace the input image", path=str(path))
        if path.exists() and not force:
            raise OutputExistsError(
                f"{path} already exists; use --force to overwrite it", path=str(path)
            )
    return target, preview


def write_outputs(
    sprite: Image.Image,
    target: Path,
    preview: Path | None,
    preview_factor: int | None,
    *,
    force: bool,
    note: str,
) -> None:
    """Write the sprite and its preview atomically and say what was written."""
    click.echo(f"wrote {write_png(sprite, target, force=force)} ({note})")
    if preview is not None and preview_factor is not None:
        big = upscale(sprite, factor=preview_factor)
        click.echo(f"wrote {write_png(big, preview, force=force)} (preview x{preview_factor})")
