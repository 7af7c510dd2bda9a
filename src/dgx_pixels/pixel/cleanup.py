"""Cleanup: stray single pixels and anti-aliasing fringes.

A *stray* is one pixel that belongs to nothing around it:

- an opaque pixel with no opaque neighbour (a speck floating in the air);
- an opaque pixel whose eight neighbours are all one other colour (a speck of
  noise inside a flat area);
- a transparent pixel whose eight neighbours are all one opaque colour (a pinhole).

A *fringe* pixel sits on the sprite's outer edge and is a blend of the sprite
colour next to it and the (removed) background colour: the anti-aliasing a
generator paints around a sprite. It is dropped when it is mostly background
and given its sprite neighbour's colour when it is mostly sprite.

>>> from PIL import Image
>>> img = Image.new("RGBA", (5, 5), (0, 0, 0, 0))
>>> img.putpixel((2, 2), (255, 0, 0, 255))
>>> remove_strays(img).getpixel((2, 2))
(0, 0, 0, 0)
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import (
    N4,
    N8,
    U8,
    Bool,
    check_image,
    neighbour_count,
    opaque_mask,
    rgba_array,
    shift,
    to_image,
)
from dgx_pixels.pixel.color import srgb_to_oklab, to_float_rgb

__all__ = ["cleanup", "remove_fringe", "remove_strays", "stray_mask"]

_NONE = np.uint32(0xFFFFFFFF)  # "no colour" (transparent or outside): never a real RGB key


def _keys(rgba: U8) -> np.ndarray:
    """One uint32 per pixel: its RGB, or _NONE when transparent."""
    rgb = rgba[..., :3].astype(np.uint32)
    key = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return np.where(opaque_mask(rgba), key, _NONE)


def _uniform_neighbours(key: np.ndarray) -> tuple[Bool, np.ndarray]:
    """Where all 8 neighbours share one opaque colour, and that colour."""
    first = shift(key, *N8[0], fill=_NONE)
    same = first != _NONE
    for dy, dx in N8[1:]:
        same &= shift(key, dy, dx, fill=_NONE) == first
    return same, first


def stray_mask(image: Image.Image) -> Bool:
    """Where the stray pixels are (see the module doc).

    >>> img = Image.new("RGBA", (3, 3), (0, 200, 0, 255))
    >>> img.putpixel((1, 1), (255, 255, 255, 255))
    >>> stray_mask(img).astype(int).tolist()
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    check_image(image)
    rgba = rgba_array(image)
    opaque = opaque_mask(rgba)
    key = _keys(rgba)
    uniform, colour = _uniform_neighbours(key)
    island = opaque & (neighbour_count(opaque) == 0)
    speck = opaque & uniform & (colour != key)
    pinhole = ~opaque & uniform
    mask: Bool = island | speck | pinhole
    return mask


def remove_strays(image: Image.Image) -> Image.Image:
    """Remove stray pixels: islands become transparent, specks and pinholes take
    the colour around them. One pass; the input is not changed.

    >>> img = Image.new("RGBA", (3, 3), (0, 200, 0, 255))
    >>> img.putpixel((1, 1), (0, 0, 0, 0))
    >>> remove_strays(img).getpixel((1, 1))
    (0, 200, 0, 255)
    """
    check_image(image)
    rgba = rgba_array(image)
    opaque = opaque_mask(rgba)
    key = _keys(rgba)
    uniform, colour = _uniform_neighbours(key)
    island = opaque & (neighbour_count(opaque) == 0)
    fill = uniform & (colour != key)  # specks and pinholes
    out = rgba.copy()
    out[island] = 0
    c = colour[fill]
    out[fill] = np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255, np.full_like(c, 255)], axis=1)
    return to_image(out)


def remove_fringe(
    image: Image.Image,
    *,
    background: tuple[int, int, int],
    tolerance: float = 0.05,
) -> Image.Image:
    """Drop or recolour anti-aliasing fringe pixels on the sprite's outer edge.

    An edge pixel (opaque, next to a transparent one) is a fringe when its
    OKLab colour lies on the line from ``background`` to the colour ``c`` of an
    inner opaque neighbour, at a position ``t`` in (0.1, 0.9), within
    ``tolerance`` of that line. With ``t < 0.5`` (mostly background) it becomes
    transparent; otherwise it takes the colour ``c``.

    >>> img = Image.new("RGBA", (4, 1), (0, 0, 0, 0))
    >>> img.putpixel((1, 0), (60, 60, 60, 255))  # a blend, mostly black: becomes black
    >>> img.putpixel((2, 0), (0, 0, 0, 255))
    >>> img.putpixel((3, 0), (0, 0, 0, 255))
    >>> remove_fringe(img, background=(255, 255, 255)).getpixel((1, 0))
    (0, 0, 0, 255)
    """
    check_image(image)
    if not 0.0 < tolerance < 1.0:
        raise InputError(f"tolerance must be within (0, 1), got {tolerance}")
    rgba = rgba_array(image)
    opaque = opaque_mask(rgba)
    edge = opaque & (neighbour_count(opaque, connectivity=4) < 4)
    # the image border does not make an edge: only transparency does
    edge &= _touches_transparent(opaque)
    lab = srgb_to_oklab(to_float_rgb(rgba[..., :3]))
    bg = srgb_to_oklab(to_float_rgb(np.array(background, dtype=np.uint8)))
    best_t = np.full(opaque.shape, np.nan)
    best_src = np.zeros((*opaque.shape, 4), dtype=np.uint8)
    best_dist = np.full(opaque.shape, np.inf)
    inner = opaque & ~edge
    for dy, dx in N8:
        c_lab = shift(lab, dy, dx)
        c_ok = shift(inner, dy, dx, fill=False)
        c_rgba = shift(rgba, dy, dx)
        v = c_lab - bg
        vv = np.einsum("...i,...i->...", v, v)
        t = np.einsum("...i,...i->...", lab - bg, v) / np.where(vv > 1e-9, vv, np.inf)
        resid = np.linalg.norm(lab - (bg + t[..., None] * v), axis=-1)
        better = edge & c_ok & (vv > 0.01) & (t > 0.1) & (t < 0.9) & (resid <= tolerance)
        better &= resid < best_dist
        best_dist = np.where(better, resid, best_dist)
        best_t = np.where(better, t, best_t)
        best_src[better] = c_rgba[better]
    found = ~np.isnan(best_t)
    out = rgba.copy()
    drop = found & (best_t < 0.5)
    keep = found & ~drop
    out[drop] = 0
    out[keep] = best_src[keep]
    return to_image(out)


def _touches_transparent(opaque: Bool) -> Bool:
    touch = np.zeros_like(opaque)
    for dy, dx in N4:
        touch |= shift(~opaque, dy, dx, fill=False)
    return touch


def cleanup(image: Image.Image, *, background: tuple[int, int, int] | None = None) -> Image.Image:
    """Fringes (when the removed background colour is known), then stray pixels.

    >>> img = Image.new("RGBA", (3, 3), (10, 10, 10, 255))
    >>> img.putpixel((1, 1), (250, 250, 250, 255))
    >>> cleanup(img).getpixel((1, 1))
    (10, 10, 10, 255)
    """
    check_image(image)
    out = remove_fringe(image, background=background) if background is not None else image
    return remove_strays(out)
