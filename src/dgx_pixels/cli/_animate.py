"""``dgx-pixels animate``: one sprite -> one animation asset.

``--from SPRITE --effect NAME`` makes a model-free effect (idle bob, hit
flash, ...), exact and instant on a CPU. The asset is one folder (see
``docs/assets.md``) inside ``--out``.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click

__all__ = ["animate"]

_EFFECT_NAMES = (
    "idle-bob",
    "hit-flash",
    "squash-stretch",
    "blink",
    "dissolve",
    "fade-out",
    "palette-swap",
    "outline-pulse",
)


@click.command("animate")
@click.option(
    "--from",
    "from_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sprite to animate (a true-resolution PNG).",
)
@click.option(
    "--effect",
    required=True,
    type=click.Choice(_EFFECT_NAMES),
    help="A model-free effect made from the sprite alone.",
)
@click.option("--frames", type=click.IntRange(2, 16), help="Frames, 2-16 [the effect's default].")
@click.option("--fps", type=click.FloatRange(0.1, 100), help="Frames per second [the effect's].")
@click.option(
    "--preview-scale",
    type=click.IntRange(1, 32),
    default=8,
    show_default=True,
    help="Screen pixels per sprite pixel in preview.gif (nearest).",
)
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Replace an existing asset folder.")
def animate(
    from_path: Path,
    effect: str,
    frames: int | None,
    fps: float | None,
    preview_scale: int,
    out: str | None,
    force: bool,
) -> None:
    """Animate a sprite with a model-free effect; write one animation asset.

    The asset folder (OUT/NAME-EFFECT) holds every frame at true resolution
    under frames/, sheet.png (one row, a column per frame), preview.gif and
    manifest.json (rects, durations, tag, pivot at the feet, the request).
    Every effect but palette-swap uses only the sprite's own colours.
    """
    from dgx_pixels.assets import slugify
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.errors import InputError
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import EFFECTS, animation_asset, effect_frames, foot_point, palette_of

    # 1. Where the asset goes, before any work.
    name = f"{slugify(from_path.stem)}-{effect}"
    out_dir = Path(out or Path("outputs") / datetime.date.today().isoformat())
    folder, _ = plan_asset(out_dir / name, force=force)
    # 2. The sprite and its frames.
    sprite = read_image(from_path)
    colours = palette_of([sprite])
    if not colours:
        raise InputError(
            f"{from_path}: has more than 256 colours, so it is not pixel art; "
            "make it one first (dgx-pixels pixelize)"
        )
    spec = EFFECTS[effect]
    made = effect_frames(sprite, effect, frames=frames)
    duration = spec.duration_ms if fps is None else max(1, round(1000 / fps))
    # 3. The asset.
    bundle = animation_asset(
        name=name,
        action=effect,
        rows={"down": made},
        durations_ms=[duration] * len(made),
        loop=spec.loop,
        pivot=foot_point(sprite),
        palette=colours if spec.keeps_palette else None,
        preview_scale=preview_scale,
        request={
            "command": "animate",
            "from": str(from_path),
            "effect": effect,
            "frames": len(made),
            "duration_ms": duration,
            "preview_scale": preview_scale,
        },
    )
    bundle.write(folder, force=force)
    click.echo(str(folder))
    click.echo(f"{effect}: {len(made)} frames {sprite.width}x{sprite.height}", err=True)
