"""Generated animations: every frame of a direction drawn on one canvas, then sliced.

The method, and why (see docs/animations.md):

1. **One canvas per direction.** The frames of a direction are drawn side by
   side in one picture (``frames x`` the sprite's width), prompted as a
   sprite-sheet row. SDXL attends across the whole canvas, so the character,
   its proportions and its shading agree between frames far better than
   frames drawn apart; slicing the canvas at exact cell boundaries gives
   frames of one size on one grid (the drawing is a whole multiple of the
   sprite, so cells never straddle a cut).
2. **One palette.** The first canvas fixes the palette (``auto:N`` extracted
   once, or the one asked for); every other canvas is mapped onto exactly
   those colours.
3. **Mirroring.** Right-facing directions are the left-facing ones mirrored:
   half the drawing, and left and right are the same character by
   construction.
4. **Baseline and pivot.** Each frame is moved by whole pixels so the bottom
   centre of its opaque pixels sits on the pivot (bottom centre of the cell).
5. **From a sprite** (``from_sprite``): the canvas starts from the sprite
   repeated once per frame (img2img), and the palette is the sprite's own
   colours exactly.

The engine is used through its public interface only (``Engine.generate``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from dgx_pixels.errors import InputError
from dgx_pixels.image_files import write_png
from dgx_pixels.pixel._arrays import opaque_mask, rgba_array, to_image
from dgx_pixels.request import GenerationRequest
from dgx_pixels.sprites._animation import DIRECTIONS

__all__ = ["ACTIONS", "MAX_ACTION", "animation_prompt", "make_animation"]

#: The named actions and how a canvas prompt describes them; any other text is used as given.
ACTIONS = {
    "idle": "standing idle, breathing",
    "walk": "walk cycle, walking",
    "run": "run cycle, running",
    "attack": "attacking, swinging a weapon",
    "hurt": "hit and recoiling in pain",
    "death": "dying, collapsing to the ground",
}
MAX_ACTION = 100
_VIEWS = {
    "down": "front view, facing the viewer",
    "up": "back view, facing away",
    "left": "side view, facing left",
    "down_left": "three-quarter front view, facing left",
    "up_left": "three-quarter back view, facing left",
}
_MIRRORED = {"right": "left", "down_right": "down_left", "up_right": "up_left"}
#: How much of the repeated sprite a ``from_sprite`` canvas repaints.
FROM_STRENGTH = 0.55


def animation_prompt(subject: str, action: str, direction: str, frames: int) -> str:
    """The prompt of one direction's canvas.

    >>> p = animation_prompt("a knight", "walk", "left", 4)
    >>> p.startswith("pixel art sprite sheet, one row of 4 animation frames of a knight, walk")
    True
    >>> "side view, facing left" in p
    True
    """
    what = ACTIONS.get(action, action)
    return (
        f"pixel art sprite sheet, one row of {frames} animation frames of {subject}, {what}, "
        f"{_VIEWS[direction]}, the same character in every frame, evenly spaced, plain background"
    )


def _on_pivot(frame: Image.Image, pivot: tuple[int, int]) -> Image.Image:
    """``frame`` moved by whole pixels so its feet (bottom centre of opaque pixels) are on
    ``pivot``."""
    a = rgba_array(frame)
    ys, xs = np.nonzero(opaque_mask(a))
    if ys.size == 0:
        return frame.copy()
    dx = pivot[0] - (int(xs.min()) + int(xs.max()) + 1) // 2
    dy = pivot[1] - int(ys.max())
    out = np.zeros_like(a)
    h, w = a.shape[:2]
    src_x0, src_y0 = max(0, -dx), max(0, -dy)
    dst_x0, dst_y0 = max(0, dx), max(0, dy)
    cw, ch = w - abs(dx), h - abs(dy)
    if cw > 0 and ch > 0:
        out[dst_y0 : dst_y0 + ch, dst_x0 : dst_x0 + cw] = a[
            src_y0 : src_y0 + ch, src_x0 : src_x0 + cw
        ]
    return to_image(out)


def make_animation(
    engine: Any,
    request: GenerationRequest,
    *,
    action: str,
    frames: int,
    directions: int,
    from_sprite: Image.Image | None = None,
    on_step: Callable[[Any], None] | None = None,
) -> tuple[dict[str, list[Image.Image]], list[GenerationRequest], str | None]:
    """Draw the frames of ``action`` for every direction.

    ``request`` gives the subject (its prompt), the sprite size, the model and
    every generation option; its ``count`` is ignored. Returns the frames by
    direction (in :data:`DIRECTIONS` order), the canvas requests made, and the
    palette all frames share.
    """
    # 1. Inputs.
    if not 2 <= frames <= 16:
        raise InputError(f"frames must be 2-16, got {frames}")
    if directions not in DIRECTIONS:
        raise InputError(f"directions must be 1, 4 or 8, got {directions}")
    if not action.strip() or len(action) > MAX_ACTION:
        raise InputError(f"action must be 1-{MAX_ACTION} characters, got {len(action)}")
    w, h = request.size
    if w * frames > 512:
        raise InputError(
            f"{frames} frames of {w} px make a {w * frames} px canvas; the most is 512 px"
        )
    wanted = DIRECTIONS[directions]
    drawn = [d for d in wanted if d not in _MIRRORED]
    pivot = (w // 2, h - 1)
    # 2. One canvas per drawn direction, the first fixing the palette.
    palette = request.palette
    requests: list[GenerationRequest] = []
    rows: dict[str, list[Image.Image]] = {}
    with tempfile.TemporaryDirectory(prefix="dgx-pixels-animate-") as tmp:
        init = None
        if from_sprite is not None:
            strip = Image.new("RGBA", (w * frames, h))
            for i in range(frames):
                strip.paste(from_sprite, (i * w, 0))
            init = str(write_png(strip, Path(tmp) / "strip.png"))
        for direction in drawn:
            canvas_request = request.replace(
                prompt=animation_prompt(request.prompt, action, direction, frames),
                size=(w * frames, h),
                count=1,
                palette=palette,
                init=init,
                strength=FROM_STRENGTH if init is not None else request.strength,
            )
            [result] = engine.generate([canvas_request], on_step=on_step)
            requests.append(canvas_request)
            locked = result.pixel_spec.get("palette")
            if isinstance(locked, str):
                palette = locked
            canvas = result.images[0].sprite
            rows[direction] = [
                _on_pivot(canvas.crop((i * w, 0, (i + 1) * w, h)), pivot) for i in range(frames)
            ]
    # 3. Mirrored directions.
    for direction, source in _MIRRORED.items():
        if direction in wanted:
            rows[direction] = [_on_pivot(ImageOps.mirror(f), pivot) for f in rows[source]]
    return {d: rows[d] for d in wanted}, requests, palette
