"""The drawing resolution: how large the model draws a sprite of a given size.

The model draws each sprite pixel as a ``factor x factor`` block, so the raw
image maps exactly onto the sprite grid. The factor is the whole number that
brings the drawing closest to the model's native area while keeping both
sides multiples of the model's ``multiple`` and inside its side limits.

>>> from dgx_pixels.engine.models import resolve_model
>>> sdxl = resolve_model("sdxl-base")
>>> drawing_size((32, 32), sdxl)
DrawingSize(width=1024, height=1024, factor=32)
>>> drawing_size((48, 32), sdxl)
DrawingSize(width=1248, height=832, factor=26)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dgx_pixels.engine.models import ModelSpec
from dgx_pixels.errors import RequestError

__all__ = ["MIN_FACTOR", "DrawingSize", "drawing_size"]

#: Each sprite pixel is drawn at least this many pixels wide.
MIN_FACTOR = 2


@dataclass(frozen=True, slots=True)
class DrawingSize:
    """A drawing of ``width x height`` pixels, ``factor`` per sprite pixel."""

    width: int
    height: int
    factor: int


def drawing_size(
    sprite: tuple[int, int], model: ModelSpec, *, override: Sequence[int] | None = None
) -> DrawingSize:
    """The drawing size for a ``sprite`` of ``(width, height)`` on ``model``.

    ``override`` asks for a given drawing size instead (a request's
    ``drawing_size``); it must still be a whole multiple of the sprite. Raises
    :class:`~dgx_pixels.errors.RequestError` naming the size when no drawing
    fits the model.
    """
    w, h = sprite
    if override is not None:
        return _checked_override(sprite, model, override)
    # 1. The factor must make both sides multiples of the model's step.
    m = model.multiple
    step = math.lcm(m // math.gcd(m, w), m // math.gcd(m, h))
    # 2. The largest and smallest factors whose drawings fit the model's sides.
    k_max = min(model.max_side // w, model.max_side // h) // step * step
    k_min = max(MIN_FACTOR, -(-model.min_side // min(w, h)))
    k_min = -(-k_min // step) * step
    if k_max < k_min:
        raise RequestError(
            f"size {w}x{h} cannot be drawn by {model.id}: it draws sides of "
            f"{model.min_side}-{model.max_side} px in multiples of {model.multiple}, "
            f"{MIN_FACTOR}+ px per sprite pixel",
            option="size",
        )
    # 3. Of the two allowed factors around the ideal one, the nearer in area.
    ideal = model.native_side / math.sqrt(w * h)
    below = max(k_min, min(k_max, math.floor(ideal / step) * step))
    above = min(k_max, below + step)
    target = model.native_side**2
    factor = min((below, above), key=lambda k: abs(k * k * w * h - target))
    return DrawingSize(w * factor, h * factor, factor)


def _checked_override(
    sprite: tuple[int, int], model: ModelSpec, override: Sequence[int]
) -> DrawingSize:
    w, h = sprite
    if len(override) != 2 or not all(isinstance(v, int) and v > 0 for v in override):
        raise RequestError(f"drawing_size must be [width, height], got {list(override)!r}")
    dw, dh = override
    if dw % w or dh % h or dw // w != dh // h:
        raise RequestError(
            f"drawing_size {dw}x{dh} is not a whole multiple of the sprite size {w}x{h}"
        )
    if dw // w < MIN_FACTOR:
        raise RequestError(
            f"drawing_size {dw}x{dh} gives under {MIN_FACTOR} px per sprite pixel of {w}x{h}"
        )
    for side in (dw, dh):
        if side % model.multiple or not model.min_side <= side <= model.max_side:
            raise RequestError(
                f"drawing_size {dw}x{dh} does not fit {model.id}: sides of "
                f"{model.min_side}-{model.max_side} px in multiples of {model.multiple}"
            )
    return DrawingSize(dw, dh, dw // w)
