"""``dgx-pixels sheet``: pack frames into one sheet with atlas data (an asset folder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from dgx_pixels.cli._assets import plan_asset

__all__ = ["sheet", "sheet_asset"]

MAX_INPUTS = 4096


@click.command("sheet")
@click.argument("frames", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The asset folder to write (a trailing .png is dropped: the asset is a folder).",
)
@click.option(
    "--packing",
    type=click.Choice(["grid", "tight"]),
    default="grid",
    show_default=True,
    help="A grid of equal cells, or tight rectangles (see --trim).",
)
@click.option("--columns", type=int, help="Grid columns [the smallest square grid].")
@click.option(
    "--padding",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Transparent pixels between frames.",
)
@click.option(
    "--extrude",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Repeat each frame's edge this many pixels around it (stops bleeding).",
)
@click.option("--pow2", "power_of_two", is_flag=True, help="Grow the sheet to power-of-two sides.")
@click.option(
    "--trim", is_flag=True, help="Keep only each frame's opaque box (with --packing tight)."
)
@click.option(
    "--fps",
    type=click.FloatRange(0.1, 1000),
    default=10.0,
    show_default=True,
    help="Playback speed: every frame lasts 1000/fps ms.",
)
@click.option("--force", is_flag=True, help="Replace an existing asset folder.")
def sheet(
    frames: tuple[Path, ...],
    out: Path,
    packing: str,
    columns: int | None,
    padding: int,
    extrude: int,
    power_of_two: bool,
    trim: bool,
    fps: float,
    force: bool,
) -> None:
    """Pack FRAMES (PNG files of one size, in order) into one sheet.

    Writes the asset folder OUT: sheet.png, each frame under frames/, and
    manifest.json with every frame's rect, duration and pivot (the feet) and
    one tag over all frames (docs/assets.md).
    """
    folder, count, (w, h) = sheet_asset(
        frames, out, packing, columns, padding, extrude, power_of_two, trim, fps, force
    )
    click.echo(f"wrote {folder} ({count} frames, sheet {w}x{h}, {packing})")


def sheet_asset(
    frames: Sequence[Path],
    out: Path,
    packing: str,
    columns: int | None,
    padding: int,
    extrude: int,
    power_of_two: bool,
    trim: bool,
    fps: float,
    force: bool,
) -> tuple[Path, int, tuple[int, int]]:
    """Pack ``frames`` into the sheet asset folder ``out``.

    Returns the folder, the frame count and the sheet's size (the MCP
    server's ``sheet`` calls this too).
    """
    from dgx_pixels.assets import Tag
    from dgx_pixels.errors import InputError
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import build_asset, feet_pivot, pack_sheet

    # 1. Options and the output folder, before any image is read.
    if len(frames) > MAX_INPUTS:
        raise InputError(f"a sheet holds at most {MAX_INPUTS} frames, got {len(frames)}")
    folder, name = plan_asset(out, force=force)
    # 2. Read and pack.
    images = [read_image(path) for path in frames]
    packed = pack_sheet(
        images,
        packing=packing,
        columns=columns,
        padding=padding,
        extrude=extrude,
        power_of_two=power_of_two,
        trim=trim,
    )
    # 3. The asset.
    duration = max(1, round(1000 / fps))
    bundle = build_asset(
        kind="sheet",
        name=name,
        frames=images,
        frame_names=[f"frames/{name}_{i}.png" for i in range(len(images))],
        packed=packed,
        durations_ms=[duration] * len(images),
        pivot=feet_pivot(packed.cell),
        tags=(Tag(name, 0, len(images) - 1, fps=fps),),
        request={
            "command": "sheet",
            "frames": [str(p) for p in frames],
            "packing": packing,
            "columns": packed.columns,
            "padding": padding,
            "extrude": extrude,
            "pow2": power_of_two,
            "trim": trim,
            "fps": fps,
        },
    )
    bundle.write(folder, force=force)
    return folder, len(images), packed.image.size
