"""``dgx-pixels palette``: list, show and extract palettes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dgx_pixels.errors import InputError, OutputExistsError, PaletteError
from dgx_pixels.image_files import read_image
from dgx_pixels.pixel.palette import (
    FILE_FORMATS,
    MAX_COLOURS,
    Palette,
    builtin_names,
    builtin_palette,
    resolve_palette,
)
from dgx_pixels.pixel.quantize import extract_palette

__all__ = ["palette"]


def _swatch(rgb: tuple[int, int, int], width: int = 2) -> str:
    """A block of the colour, drawn with a 24-bit ANSI background."""
    r, g, b = rgb
    return f"\x1b[48;2;{r};{g};{b}m{' ' * width}\x1b[0m"


def _use_swatches(flag: bool | None) -> bool:
    return sys.stdout.isatty() if flag is None else flag


def _rows(p: Palette) -> list[tuple[int, int, int]]:
    return [(int(c[0]), int(c[1]), int(c[2])) for c in p.colors]


@click.group("palette")
def palette() -> None:
    """List, show and extract palettes (.hex, .gpl, .pal)."""


_swatch_option = click.option(
    "--swatches/--no-swatches",
    default=None,
    help="Draw colour swatches [default: when writing to a terminal].",
)


@palette.command("list")
@_swatch_option
def list_palettes(swatches: bool | None) -> None:
    """List the built-in palettes."""
    draw = _use_swatches(swatches)
    for name in builtin_names():
        p = builtin_palette(name)
        line = f"{name:<12} {len(p):>3} colours"
        if draw:
            line += "  " + "".join(_swatch(c, 1) for c in _rows(p))
        click.echo(line, color=draw)


@palette.command("show")
@click.argument("name")
@_swatch_option
def show(name: str, swatches: bool | None) -> None:
    """Print the colours of NAME: a built-in, a .hex/.gpl/.pal file or '#rrggbb,...'."""
    p = resolve_palette(name)
    draw = _use_swatches(swatches)
    click.echo(f"{p.name}: {len(p)} colours")
    for code, (r, g, b) in zip(p.hex_codes(), _rows(p), strict=True):
        prefix = _swatch((r, g, b), 4) + " " if draw else ""
        click.echo(f"{prefix}{code}  {r:3d} {g:3d} {b:3d}", color=draw)


@palette.command("extract")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-n",
    "--colors",
    "n",
    type=int,
    required=True,
    help=f"How many colours (2 to {MAX_COLOURS}).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the palette here (.hex, .gpl or .pal) instead of printing it.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="k-means++ seed.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def extract(image: Path, n: int, out: Path | None, seed: int, force: bool) -> None:
    """Extract N colours from IMAGE (opaque pixels only; OKLab k-means, deterministic)."""
    # 1. Options first.
    if not 2 <= n <= MAX_COLOURS:
        raise InputError(f"-n must be 2 to {MAX_COLOURS}, got {n}", option="n")
    if out is not None:
        if out.suffix.lower() not in FILE_FORMATS:
            raise PaletteError(
                f"{out}: cannot save a palette as {out.suffix or '(no suffix)'!r}; "
                f"use one of {', '.join(FILE_FORMATS)}",
                path=str(out),
            )
        if out.exists() and not force:
            raise OutputExistsError(
                f"{out} already exists; use --force to overwrite it", path=str(out)
            )
    # 2. Read and extract.
    picture = read_image(image)
    p = extract_palette(picture, n, seed=seed)
    # 3. Write or print.
    if out is None:
        for code in p.hex_codes():
            click.echo(code)
        return
    named = Palette(image.stem, p.colors, locked=True)
    written = named.save(out, force=force)
    click.echo(f"wrote {written} ({len(named)} colours)")
