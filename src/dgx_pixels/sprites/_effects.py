"""Model-free animation effects: one sprite in, the frames of an effect out.

Each effect is a pure function ``(sprite, *, frames) -> list of frames``, exact
and instant on a CPU. Frames keep the sprite's size and binary alpha, and use
only the sprite's own colours (all but ``palette-swap``, whose variants are
recolourings by definition): a flash is the lightest colour of the sprite, an
outline pulse walks the sprite's colours by lightness, a fade steps through
them toward the darkest. Moving pixels never resamples: a pixel keeps its colour.

==================  ======  ===============================================
effect              frames  what it does
==================  ======  ===============================================
``idle-bob``        4       the body above the waist sinks 1 px and rises (feet stay)
``hit-flash``       4       the silhouette flashes in the lightest colour
``squash-stretch``  4       squashed wide then stretched tall, about the feet
``blink``           4       visible, invisible, ...
``dissolve``        6       pixels vanish in a 4x4 ordered pattern
``fade-out``        6       colours step toward the darkest, then dissolve
``palette-swap``    4       the sprite recoloured by hue turns (a colour map)
``outline-pulse``   6       a 1 px outline whose colour pulses dark -> light
==================  ======  ===============================================

>>> from PIL import Image
>>> dot = Image.new("RGBA", (4, 4)); dot.paste((200, 40, 40, 255), (1, 1, 3, 4))
>>> [f.getpixel((1, 1)) for f in effect_frames(dot, "blink", frames=2)]
[(200, 40, 40, 255), (0, 0, 0, 0)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import U8, opaque_mask, rgba_array, to_image
from dgx_pixels.pixel.color import oklab_to_srgb, srgb_to_oklab, to_float_rgb
from dgx_pixels.pixel.outline import add_outline

__all__ = ["EFFECTS", "Effect", "effect_frames", "foot_point"]

MIN_FRAMES, MAX_FRAMES = 2, 16
_BAYER4 = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]])


@dataclass(frozen=True, slots=True)
class Effect:
    """An effect: how it makes frames, and its defaults."""

    name: str
    make: Callable[[U8, int], list[U8]]
    frames: int
    duration_ms: int
    loop: bool
    keeps_palette: bool = True


def foot_point(image: Image.Image) -> tuple[int, int]:
    """Where a sprite stands: the bottom centre of its opaque pixels (the cell's if none).

    >>> from PIL import Image
    >>> im = Image.new("RGBA", (8, 8)); im.paste((9, 9, 9, 255), (2, 1, 6, 5))
    >>> foot_point(im)
    (4, 4)
    """
    mask = opaque_mask(rgba_array(image))
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return image.width // 2, image.height - 1
    return (int(xs.min()) + int(xs.max()) + 1) // 2, int(ys.max())


def effect_frames(
    sprite: Image.Image, effect: str, *, frames: int | None = None
) -> list[Image.Image]:
    """The frames of ``effect`` (a name in :data:`EFFECTS`) made from ``sprite``.

    ``sprite``'s alpha is taken as binary at 128. ``frames`` is 2-16 (the
    effect's default when omitted). The input is never changed.
    """
    if effect not in EFFECTS:
        raise InputError(f"effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
    spec = EFFECTS[effect]
    n = spec.frames if frames is None else frames
    if not MIN_FRAMES <= n <= MAX_FRAMES:
        raise InputError(f"frames must be {MIN_FRAMES}-{MAX_FRAMES}, got {n}")
    rgba = _binary(rgba_array(sprite))
    return [to_image(a) for a in spec.make(rgba, n)]


def _binary(rgba: U8) -> U8:
    keep = opaque_mask(rgba)
    out = rgba.copy()
    out[..., 3] = np.where(keep, 255, 0)
    out[~keep] = 0
    return out


def _colours(rgba: U8) -> U8:
    """The distinct opaque colours, ``(n, 3)``, sorted by OKLab lightness (dark first)."""
    rgb = rgba[opaque_mask(rgba)][:, :3]
    if rgb.size == 0:
        return np.zeros((0, 3), dtype=np.uint8)
    unique = np.unique(rgb, axis=0)
    light = srgb_to_oklab(to_float_rgb(unique))[:, 0]
    ordered: U8 = unique[np.argsort(light, kind="stable")]
    return ordered


def _colour_index(rgba: U8, colours: U8) -> np.ndarray:
    """Per pixel, the index of its colour in ``colours`` (0 for transparent pixels)."""
    weights = np.array([1 << 16, 1 << 8, 1])
    keys = colours.astype(np.int64) @ weights
    sort = np.argsort(keys)
    place = np.searchsorted(keys[sort], rgba[..., :3].astype(np.int64) @ weights)
    index: np.ndarray = np.where(opaque_mask(rgba), sort[np.clip(place, 0, len(keys) - 1)], 0)
    return index


def _wave(n: int) -> list[float]:
    """0 -> 1 -> 0 over ``n`` frames (a loop that starts and ends at rest)."""
    return [float(1 - abs(1 - 2 * i / n)) for i in range(n)]


# --- the effects ---------------------------------------------------------------------


def _idle_bob(rgba: U8, n: int) -> list[U8]:
    opaque = opaque_mask(rgba)
    rows = np.nonzero(opaque.any(axis=1))[0]
    if rows.size < 3:
        return [rgba.copy() for _ in range(n)]
    top, bottom = int(rows[0]), int(rows[-1])
    waist = top + (bottom - top + 1) * 2 // 3  # the lowest third (legs) stays put
    out = []
    for t in _wave(n):
        frame = rgba.copy()
        if t >= 0.5:  # the upper body one pixel lower: row `waist` is covered
            frame[top + 1 : waist + 1] = rgba[top:waist]
            frame[top] = 0
        out.append(frame)
    return out


def _hit_flash(rgba: U8, n: int) -> list[U8]:
    colours = _colours(rgba)
    flash = rgba.copy()
    if colours.size:
        flash[opaque_mask(rgba), :3] = colours[-1]
    return [flash if i % 2 == 0 else rgba.copy() for i in range(n)]


def _scaled(rgba: U8, sx: float, sy: float) -> U8:
    """The sprite's opaque box scaled by ``(sx, sy)`` with nearest sampling, about its feet."""
    h, w = rgba.shape[:2]
    ys, xs = np.nonzero(opaque_mask(rgba))
    if ys.size == 0:
        return rgba.copy()
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    bw, bh = x1 - x0, y1 - y0
    nw, nh = max(1, round(bw * sx)), max(1, round(bh * sy))
    # Nearest sampling: each new pixel takes exactly one source pixel's colour.
    src_x = x0 + np.minimum((np.arange(nw) + 0.5) * bw / nw, bw - 1e-9).astype(int)
    src_y = y0 + np.minimum((np.arange(nh) + 0.5) * bh / nh, bh - 1e-9).astype(int)
    part = rgba[src_y][:, src_x]
    out = np.zeros_like(rgba)
    left = (x0 + x1) // 2 - nw // 2
    top = y1 - nh
    # Clip to the cell.
    cx0, cy0 = max(0, left), max(0, top)
    cx1, cy1 = min(w, left + nw), min(h, top + nh)
    out[cy0:cy1, cx0:cx1] = part[cy0 - top : cy1 - top, cx0 - left : cx1 - left]
    return out


def _squash_stretch(rgba: U8, n: int) -> list[U8]:
    out = []
    for i in range(n):
        phase = np.sin(2 * np.pi * i / n)  # 0, squash, 0, stretch
        amount = 0.2 * float(phase)
        out.append(_scaled(rgba, 1 + amount, 1 - amount))
    return out


def _blink(rgba: U8, n: int) -> list[U8]:
    return [rgba.copy() if i % 2 == 0 else np.zeros_like(rgba) for i in range(n)]


def _dissolved(rgba: U8, share: float) -> U8:
    """``rgba`` with the share of its pixels whose ordered-dither rank is lowest removed."""
    h, w = rgba.shape[:2]
    rank = np.tile(_BAYER4, (h // 4 + 1, w // 4 + 1))[:h, :w]
    out = rgba.copy()
    out[rank < round(share * 16)] = 0
    return out


def _dissolve(rgba: U8, n: int) -> list[U8]:
    return [_dissolved(rgba, i / (n - 1)) for i in range(n)]


def _fade_out(rgba: U8, n: int) -> list[U8]:
    colours = _colours(rgba)
    opaque = opaque_mask(rgba)
    if colours.size == 0:
        return [rgba.copy() for _ in range(n)]
    lab = srgb_to_oklab(to_float_rgb(colours))
    index = _colour_index(rgba, colours)
    out = []
    for i in range(n):
        t = i / (n - 1)
        # Each colour moves toward the darkest in OKLab and snaps to the sprite's nearest colour.
        goal = lab * (1 - t) + lab[0] * t
        nearest = np.argmin(((goal[:, None, :] - lab[None, :, :]) ** 2).sum(-1), axis=1)
        frame = rgba.copy()
        frame[opaque, :3] = colours[nearest[index[opaque]]]
        out.append(_dissolved(frame, max(0.0, 2 * t - 1)))  # the second half also dissolves
    return out


def _palette_swap(rgba: U8, n: int) -> list[U8]:
    colours = _colours(rgba)
    opaque = opaque_mask(rgba)
    out = [rgba.copy()]
    if colours.size == 0:
        return [rgba.copy() for _ in range(n)]
    lab = srgb_to_oklab(to_float_rgb(colours))
    index = _colour_index(rgba, colours)
    for i in range(1, n):
        angle = 2 * np.pi * i / n
        c, s = np.cos(angle), np.sin(angle)
        turned = lab.copy()
        turned[:, 1] = lab[:, 1] * c - lab[:, 2] * s
        turned[:, 2] = lab[:, 1] * s + lab[:, 2] * c
        rgb = np.clip(np.rint(oklab_to_srgb(turned) * 255), 0, 255).astype(np.uint8)
        frame = rgba.copy()
        frame[opaque, :3] = rgb[index[opaque]]
        out.append(frame)
    return out


def _outline_pulse(rgba: U8, n: int) -> list[U8]:
    colours = _colours(rgba)
    if colours.size == 0:
        return [rgba.copy() for _ in range(n)]
    image = to_image(rgba)
    out = []
    for t in _wave(n):
        r, g, b = colours[round(t * (len(colours) - 1))].tolist()
        outlined = add_outline(image, color=f"#{r:02x}{g:02x}{b:02x}", side="outside")
        out.append(rgba_array(outlined))
    return out


EFFECTS: dict[str, Effect] = {
    e.name: e
    for e in (
        Effect("idle-bob", _idle_bob, 4, 200, True),
        Effect("hit-flash", _hit_flash, 4, 60, False),
        Effect("squash-stretch", _squash_stretch, 4, 120, True),
        Effect("blink", _blink, 4, 120, True),
        Effect("dissolve", _dissolve, 6, 80, False),
        Effect("fade-out", _fade_out, 6, 100, False),
        Effect("palette-swap", _palette_swap, 4, 250, True, keeps_palette=False),
        Effect("outline-pulse", _outline_pulse, 6, 100, True),
    )
}
