"""A 1-pixel outline around a sprite, outside or inside its edge.

``side="outside"`` paints the transparent pixels that touch the sprite;
``side="inside"`` repaints the sprite's own edge pixels (its size stays the
same). The colour is a given ``#rrggbb`` or ``"darker"``: a darker shade (in
OKLab: lightness x 0.55, chroma x 0.8) of the sprite colour next to it.

>>> from PIL import Image
>>> img = Image.new("RGBA", (3, 3), (0, 0, 0, 0))
>>> img.putpixel((1, 1), (200, 100, 50, 255))
>>> out = add_outline(img, color="#000000", connectivity=4)
>>> out.getpixel((1, 0)), out.getpixel((0, 0))
((0, 0, 0, 255), (0, 0, 0, 0))
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import (
    N4,
    N8,
    U8,
    check_image,
    opaque_mask,
    parse_hex_colour,
    rgba_array,
    shift,
    to_image,
)
from dgx_pixels.pixel.color import oklab_to_srgb, srgb_to_oklab, to_float_rgb

__all__ = ["OUTLINE_SIDES", "add_outline", "darker"]

OUTLINE_SIDES = ("outside", "inside")


def darker(rgb: U8, *, lightness: float = 0.55, chroma: float = 0.8) -> U8:
    """A darker shade of each colour in ``rgb`` (shape ``(..., 3)``, uint8), in OKLab.

    >>> darker(np.array([255, 255, 255], dtype=np.uint8)).tolist()
    [113, 113, 113]
    """
    lab = srgb_to_oklab(to_float_rgb(rgb))
    lab = lab * np.array([lightness, chroma, chroma])
    out: U8 = np.clip(np.rint(oklab_to_srgb(lab) * 255), 0, 255).astype(np.uint8)
    return out


def add_outline(
    image: Image.Image,
    *,
    color: str = "darker",
    side: str = "outside",
    connectivity: int = 8,
) -> Image.Image:
    """Add a 1-pixel outline.

    Parameters
    ----------
    image : PIL.Image.Image
        A sprite with transparency (alpha >= 128 counts as sprite).
    color : str
        ``"#rrggbb"`` or ``"darker"`` (a darker shade of the neighbouring sprite colour).
    side : {"outside", "inside"}
        Paint the transparent pixels around the sprite, or the sprite's own edge.
    connectivity : {4, 8}
        8 also counts diagonal neighbours (a closed, square outline); 4 only
        the sides (a rounder one).

    Returns
    -------
    PIL.Image.Image
        A new RGBA image of the same size (an outside outline cannot grow past
        the image border).

    Examples
    --------
    >>> img = Image.new("RGBA", (3, 3), (0, 0, 0, 0))
    >>> img.putpixel((1, 1), (255, 255, 255, 255))
    >>> add_outline(img, side="outside").getpixel((0, 0))
    (113, 113, 113, 255)
    """
    check_image(image)
    if side not in OUTLINE_SIDES:
        raise InputError(f"outline side must be 'outside' or 'inside', got {side!r}")
    if connectivity not in (4, 8):
        raise InputError(f"connectivity must be 4 or 8, got {connectivity}")
    fixed = None if color == "darker" else parse_hex_colour(color)
    rgba = rgba_array(image)
    opaque = opaque_mask(rgba)
    offsets = N8 if connectivity == 8 else N4
    out = rgba.copy()
    if side == "outside":
        # the neighbour colour: the darkest opaque neighbour (stable, and outlines read dark)
        target = np.zeros_like(opaque)
        source = np.zeros_like(rgba)
        best_l = np.full(opaque.shape, np.inf)
        lum = srgb_to_oklab(to_float_rgb(rgba[..., :3]))[..., 0]
        for dy, dx in offsets:
            n_op = shift(opaque, dy, dx, fill=False)
            n_l = np.where(n_op, shift(lum, dy, dx, fill=np.inf), np.inf)
            better = ~opaque & n_op & (n_l < best_l)
            best_l = np.where(better, n_l, best_l)
            source[better] = shift(rgba, dy, dx)[better]
            target |= better
    else:
        # sprite pixels next to a transparent one (the image border is not an edge)
        target = np.zeros_like(opaque)
        for dy, dx in offsets:
            target |= shift(~opaque, dy, dx, fill=False)
        target &= opaque
        source = rgba
    rgb = np.array(fixed, dtype=np.uint8) if fixed is not None else darker(source[..., :3])
    out[..., :3] = np.where(target[..., None], rgb, out[..., :3])
    out[..., 3] = np.where(target, 255, out[..., 3])
    return to_image(out)
