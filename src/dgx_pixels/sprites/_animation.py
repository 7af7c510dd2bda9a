"""An animation asset: frames by direction -> sheet, frames, GIF preview and manifest.

The sheet's rows are the directions (in :data:`DIRECTIONS` order) and its
columns the frames. Tags are ``<action>_<direction>`` (just ``<action>`` with
one direction). The preview GIF shows every direction side by side, scaled
up with nearest sampling, in the frames' own colours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image

from dgx_pixels.assets import Tag, encode_gif
from dgx_pixels.errors import InputError
from dgx_pixels.pixel.preview import upscale
from dgx_pixels.sprites._asset import AssetBundle, build_asset, palette_of
from dgx_pixels.sprites._consistency import animation_consistency
from dgx_pixels.sprites._sheet import pack_sheet

__all__ = [
    "DIRECTIONS",
    "MAX_PREVIEW_SIDE",
    "PREVIEW_FILE",
    "animation_asset",
    "check_preview",
    "preview_gif",
]

#: The directions of a 1-, 4- or 8-direction animation, in sheet-row order.
DIRECTIONS: dict[int, tuple[str, ...]] = {
    1: ("down",),
    4: ("down", "left", "right", "up"),
    8: ("down", "down_left", "left", "up_left", "up", "up_right", "right", "down_right"),
}
PREVIEW_FILE = "preview.gif"
#: The widest preview GIF written, in screen pixels.
MAX_PREVIEW_SIDE = 4096
_GAP = 1  # transparent sprite pixels between directions in the preview


def check_preview(cell: tuple[int, int], directions: int, scale: int) -> None:
    """Raise :class:`InputError` if the preview of ``directions`` rows of ``cell`` frames at
    ``scale`` would be wider or taller than :data:`MAX_PREVIEW_SIDE`.

    >>> check_preview((32, 32), 8, 16)
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: --preview-scale 16 makes a 4208x512 px preview, over 4096
    """
    w = (directions * (cell[0] + _GAP) - _GAP) * scale
    h = cell[1] * scale
    if max(w, h) > MAX_PREVIEW_SIDE:
        raise InputError(
            f"--preview-scale {scale} makes a {w}x{h} px preview, over {MAX_PREVIEW_SIDE}"
        )


def preview_gif(
    rows: Sequence[Sequence[Image.Image]], durations_ms: Sequence[int], *, scale: int, loop: bool
) -> bytes:
    """An animated GIF of all ``rows`` (directions) side by side, ``scale`` times larger."""
    w, h = rows[0][0].size
    strips = []
    for i in range(len(rows[0])):
        strip = Image.new("RGBA", (len(rows) * (w + _GAP) - _GAP, h))
        for d, row in enumerate(rows):
            strip.paste(row[i], (d * (w + _GAP), 0))
        strips.append(upscale(strip, factor=scale))
    return encode_gif(strips, list(durations_ms), loop=loop)


def animation_asset(
    *,
    name: str,
    action: str,
    rows: Mapping[str, Sequence[Image.Image]],
    durations_ms: Sequence[int],
    loop: bool,
    pivot: tuple[int, int],
    palette: Sequence[str] | None = None,
    preview_scale: int = 4,
    request: Mapping[str, Any] | None = None,
    extra_consistency: Mapping[str, Any] | None = None,
) -> AssetBundle:
    """The asset of an animation: ``rows`` maps each direction to its frames.

    Every row has the same number of frames, of one size. ``palette`` defaults
    to the colours the frames use; the consistency measures are computed here.
    """
    # 1. Checks.
    if len(rows) not in DIRECTIONS or tuple(rows) != DIRECTIONS[len(rows)]:
        raise InputError(
            f"directions must be one of {[list(v) for v in DIRECTIONS.values()]}, got {list(rows)}"
        )
    check_preview(next(iter(rows.values()))[0].size, len(rows), preview_scale)
    counts = {len(r) for r in rows.values()}
    if len(counts) != 1 or len(durations_ms) != counts.pop():
        raise InputError("every direction needs the same number of frames, one duration each")
    # 2. Frames in sheet order: rows = directions, columns = frames.
    ordered = [row for row in rows.values()]
    frames = [frame for row in ordered for frame in row]
    n = len(durations_ms)
    single = len(rows) == 1
    tags: list[Tag] = []
    names: list[str] = []
    for d, direction in enumerate(rows):
        tag = action if single else f"{action}_{direction}"
        tags.append(
            Tag(tag, d * n, d * n + n - 1, loop=loop, fps=round(1000 * n / sum(durations_ms), 3))
        )
        names.extend(f"frames/{tag}_{i}.png" for i in range(n))
    packed = pack_sheet(frames, columns=n)
    # 3. Palette, measures, preview.
    colours = tuple(palette_of(frames) if palette is None else palette)
    measures = animation_consistency(ordered, palette=colours, pivot=pivot)
    measures.update(extra_consistency or {})
    gif = preview_gif(ordered, durations_ms, scale=preview_scale, loop=loop)
    return build_asset(
        kind="animation",
        name=name,
        frames=frames,
        frame_names=names,
        packed=packed,
        durations_ms=list(durations_ms) * len(rows),
        pivot=pivot,
        tags=tags,
        palette=colours,
        previews={PREVIEW_FILE: gif},
        request=request,
        consistency=measures,
    )
