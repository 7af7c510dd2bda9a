"""A sample grid: one row per prompt (its text on the left), one sprite per seed, 3x nearest."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["render"]

_SCALE = 3
_LABEL_W = 330
_PAD = 4


def _checker(size: int) -> Image.Image:
    """The background that shows transparency: 8 px grey squares."""
    yy, xx = np.mgrid[:size, :size]
    light = ((yy // 8 + xx // 8) % 2 == 0)[..., None]
    rgb = np.where(light, 200, 160).astype(np.uint8).repeat(3, axis=2)
    return Image.fromarray(rgb, "RGB").convert("RGBA")


def render(prompts: Sequence[str], sprites: np.ndarray) -> bytes:
    """PNG bytes of the grid; ``sprites`` is (len(prompts), seeds, H, W, 4) uint8."""
    rows, cols, h, w = sprites.shape[:4]
    cell = max(h, w) * _SCALE
    sheet = Image.new("RGB", (_LABEL_W + cols * (cell + _PAD) + _PAD, rows * (cell + _PAD) + _PAD),
                      (40, 40, 48))  # fmt: skip
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    back = _checker(cell)
    for r in range(rows):
        y = _PAD + r * (cell + _PAD)
        draw.text((_PAD, y + cell // 2 - 6), prompts[r][:52], fill=(230, 230, 230), font=font)
        for c in range(cols):
            img = Image.fromarray(sprites[r, c], "RGBA").resize(
                (cell, cell), Image.Resampling.NEAREST
            )
            tile = Image.alpha_composite(back, img).convert("RGB")
            sheet.paste(tile, (_LABEL_W + _PAD + c * (cell + _PAD), y))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()
