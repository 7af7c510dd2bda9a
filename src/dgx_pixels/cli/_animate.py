"""``dgx-pixels animate``: a character -> one animation asset.

``PROMPT --action walk --frames 4 --directions 4`` draws the frames with the
model (one canvas per direction, sliced; one palette; see
``dgx_pixels.sprites._generated``); ``--from SPRITE`` makes the user's sprite
the character. ``--from SPRITE --effect NAME`` makes a model-free effect
(idle bob, hit flash, ...), exact and instant on a CPU. The asset is one
folder (``docs/assets.md``) inside ``--out``. Runs in this process;
``--submit`` runs a drawn animation (PROMPT, ``--from SPRITE`` or both) as a
job on the worker, the sprite sent with it (``docs/jobs.md``, "Tasks"), and
copies the asset here; an effect runs here only.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dgx_pixels.cli._generate import engine_options, given_options, request_options
from dgx_pixels.cli._jobs import SubmitTo, submit_options

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["animate", "effect_asset"]

#: The largest sprite an effect takes (the manifest's largest cell).
MAX_SPRITE = 1024

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
@click.argument("prompt", required=False)
@click.option(
    "--from",
    "from_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sprite to animate (a true-resolution PNG); its palette is kept exactly "
    "(sent with the job under --submit).",
)
@click.option(
    "--effect",
    type=click.Choice(_EFFECT_NAMES),
    help="A model-free effect made from the --from sprite alone (no model).",
)
@click.option(
    "--action",
    metavar="NAME|TEXT",
    help="idle, walk, run, attack, hurt, death, or your own words [idle].",
)
@click.option("--frames", type=click.IntRange(2, 16), help="Frames, 2-16 [4, or the effect's].")
@click.option(
    "--directions",
    type=click.Choice(["1", "4", "8"]),
    help="1 (down), 4 (down, left, right, up) or 8 [1].",
)
@click.option(
    "--fps", type=click.FloatRange(0.1, 100), help="Frames per second [8, or the effect's]."
)
@request_options
@click.option("--background", help="transparent, keep or #rrggbb [transparent].")
@click.option("--fast", is_flag=True, default=None, help="Few steps without CFG (LCM).")
@click.option(
    "--preview-scale",
    type=click.IntRange(1, 32),
    default=8,
    show_default=True,
    help="Screen pixels per sprite pixel in preview.gif (nearest).",
)
@click.option("--out", type=click.Path(file_okay=False), help="Output folder [outputs/DATE].")
@click.option("--force", is_flag=True, help="Replace an existing asset folder.")
@engine_options
@submit_options
def animate(
    prompt: str | None,
    from_path: Path | None,
    effect: str | None,
    action: str | None,
    frames: int | None,
    directions: str | None,
    fps: float | None,
    size_text: str | None,
    loras: tuple[str, ...],
    preview_scale: int,
    out: str | None,
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
    """Animate a character; write one animation asset.

    With PROMPT (and optionally --from SPRITE) a model draws --frames of
    --action in --directions, all in one palette. With --from SPRITE --effect
    NAME a model-free effect is made instantly. The asset folder holds every
    frame at true resolution under frames/, sheet.png (rows = directions,
    columns = frames), preview.gif and manifest.json (rects, durations, tags,
    pivot at the feet, the request, consistency measures). With --submit the
    worker draws it as a job (the --from sprite is sent with it), and the
    asset is copied here; an --effect runs here only.
    """
    from dgx_pixels.errors import InputError

    given = given_options(options, size_text, loras)
    to_worker = SubmitTo.given(submit, worker_address, timeout, priority)
    if effect is not None:
        if to_worker is not None:
            raise InputError("--effect is model-free and instant: it runs here; leave out --submit")
        if from_path is None:
            raise InputError("--effect needs --from SPRITE (the sprite to animate)")
        if prompt is not None or action is not None or directions is not None or given:
            raise InputError(
                "--effect is model-free: give only --from, --frames, --fps, --preview-scale, "
                "--out and --force with it"
            )
        out_dir = Path(out or Path("outputs") / datetime.date.today().isoformat())
        folder, made = effect_asset(from_path, effect, frames, fps, preview_scale, out_dir, force)
        click.echo(str(folder))
        w, h = made[0].size
        click.echo(f"{effect}: {len(made)} frames {w}x{h}", err=True)
        return
    if prompt is None and from_path is None:
        raise click.UsageError("missing PROMPT (or --from SPRITE)")
    _generated(
        prompt, from_path, action or "idle", frames or 4, int(directions or 1), fps,
        preview_scale, out, force, given, (device, dtype, memory), to_worker,
    )  # fmt: skip


def _generated(
    prompt: str | None,
    from_path: Path | None,
    action: str,
    frames: int,
    directions: int,
    fps: float | None,
    preview_scale: int,
    out: str | None,
    force: bool,
    given: dict[str, Any],
    placement: tuple[str | None, str | None, str | None],
    submit: SubmitTo | None,
) -> None:
    from dgx_pixels.assets import slugify
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.cli._generate import loaded_engine, warn_if_noise
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import plan_set, set_request

    # 1. The request and the sprite, checked before anything loads (sprites.plan_set).
    sprite = None
    if from_path is not None:  # its colours become the palette (plan_set checks it)
        sprite = read_image(from_path)
        given.setdefault("palette", None)
        given.setdefault("size", sprite.size)
    out_folder = given.pop("out", out)
    if prompt is not None:
        subject = prompt
    else:  # the sprite's file name says what it is: knight.png -> "knight"
        assert from_path is not None
        subject = " ".join(slugify(from_path.stem).split("-"))
    if submit is not None and "model" not in given:
        given["model"] = submit.model()
    options = {"action": action, "frames": frames, "directions": directions, "fps": fps,
               "preview_scale": preview_scale}  # fmt: skip
    plan = plan_set(
        "animate", set_request("animate", subject, given), options,
        from_sprite=sprite, from_name=None if from_path is None else str(from_path),
    )  # fmt: skip
    out_dir = Path(out_folder or Path("outputs") / datetime.date.today().isoformat())
    folder, _ = plan_asset(out_dir / plan.name, force=force)
    w, h = plan.request.size
    summary = f"{action}: {frames} frames x {directions} direction(s), {w}x{h}"
    if submit is not None:  # 2. Draw on the worker, then copy the asset here.
        click.echo(str(submit.run_set(plan, folder, force=force, from_file=from_path)))
        click.echo(summary, err=True)
        return
    warn_if_noise(plan.request.model, "frames")
    # 2. Draw.
    with loaded_engine(plan.request.model, *placement) as (engine, bar):
        bundle = plan.make(engine, on_step=bar)
    # 3. The asset.
    bundle.write(folder, force=force)
    click.echo(str(folder))
    click.echo(summary, err=True)


def effect_asset(
    from_path: Path,
    effect: str,
    frames: int | None,
    fps: float | None,
    preview_scale: int,
    out_dir: Path,
    force: bool,
) -> tuple[Path, list[Image.Image]]:
    """Write the model-free ``effect`` asset of the sprite at ``from_path`` into ``out_dir``.

    Returns the asset folder and its frames (the MCP server's ``animate`` calls this too).
    """
    from dgx_pixels.assets import slugify
    from dgx_pixels.cli._assets import plan_asset
    from dgx_pixels.errors import InputError
    from dgx_pixels.image_files import read_image
    from dgx_pixels.sprites import (
        EFFECTS,
        animation_asset,
        check_preview,
        effect_frames,
        foot_point,
        palette_of,
    )

    # 1. Where the asset goes, before any work.
    name = f"{slugify(from_path.stem)}-{effect}"
    folder, _ = plan_asset(out_dir / name, force=force)
    # 2. The sprite and its frames.
    sprite = read_image(from_path)
    if max(sprite.size) > MAX_SPRITE:
        raise InputError(f"{from_path}: sprites are at most {MAX_SPRITE} px a side")
    check_preview(sprite.size, 1, preview_scale)
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
    return folder, made
