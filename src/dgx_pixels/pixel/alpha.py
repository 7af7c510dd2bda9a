"""Alpha: find a sprite's background, remove it (enclosed holes too), binarise alpha.

Generators draw sprites on a flat or slightly noisy background. Flood-filling
from the border finds the outside but misses *enclosed* holes (the gap between
an arm and the body, the inside of a ring). So :func:`remove_background`

1. estimates the background colour from the border (median in OKLab) and the
   background's noise from how far border pixels stray from it;
2. marks every pixel within tolerance of that colour as a candidate;
3. removes the candidate regions that touch the border (the flood fill), and
4. also removes enclosed candidate regions that are large enough not to be a
   detail of the sprite (``min_hole``, a share of the image area) or whose
   colour is the background's almost exactly;
5. binarises alpha: every pixel ends fully opaque or fully transparent.

>>> from PIL import Image
>>> img = Image.new("RGB", (9, 9), (255, 0, 255))          # magenta background
>>> img.paste((20, 20, 20), (1, 1, 8, 8))                   # a dark square ...
>>> img.paste((255, 0, 255), (3, 3, 6, 6))                  # ... with a 3x3 hole
>>> out = remove_background(img)
>>> out.getpixel((0, 0))[3], out.getpixel((4, 4))[3], out.getpixel((2, 2))[3]
(0, 0, 255)
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import (
    ALPHA_THRESHOLD,
    U8,
    Bool,
    Float,
    check_image,
    label_components,
    opaque_mask,
    rgba_array,
    to_image,
)
from dgx_pixels.pixel.color import oklab_to_srgb, srgb_to_oklab, to_float_rgb

__all__ = ["binarize_alpha", "estimate_background", "remove_background"]

#: Default tolerance (OKLab distance) for "this pixel is background". A just
#: noticeable difference is about 0.02; 0.06 takes mild noise and JPEG in.
DEFAULT_TOLERANCE = 0.06
#: Share of border pixels that must match the background colour for the
#: image to count as having a background at all (else nothing is removed).
_BORDER_AGREEMENT = 0.6
#: An enclosed region of any size is removed when its mean distance to the
#: background colour is within this share of the tolerance (clearly background).
_EXACT_SHARE = 0.25


def binarize_alpha(image: Image.Image, *, threshold: int = ALPHA_THRESHOLD) -> Image.Image:
    """Alpha to fully on (255) or off (0) at ``threshold``; transparent pixels become (0,0,0,0).

    >>> img = Image.new("RGBA", (2, 1), (9, 9, 9, 100))
    >>> img.putpixel((1, 0), (9, 9, 9, 200))
    >>> [binarize_alpha(img).getpixel((x, 0)) for x in range(2)]
    [(0, 0, 0, 0), (9, 9, 9, 255)]
    """
    check_image(image)
    if not 1 <= threshold <= 255:
        raise InputError(f"alpha threshold must be 1 to 255, got {threshold}")
    rgba = rgba_array(image)
    return to_image(_binarised(rgba, rgba[..., 3] >= threshold))


def _binarised(rgba: U8, keep: Bool) -> U8:
    out = rgba.copy()
    out[..., 3] = np.where(keep, 255, 0)
    out[~keep] = 0
    return out


def _border(a: np.ndarray) -> np.ndarray:
    """The outermost ring of a (h, w, ...) array, as (n, ...)."""
    if a.shape[0] <= 2 or a.shape[1] <= 2:
        return a.reshape(-1, *a.shape[2:])
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def estimate_background(
    image: Image.Image, *, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[int, int, int] | None:
    """The background colour of a sprite image, or None when it has none.

    The median OKLab colour of the opaque border pixels is the background when
    at least 60 % of the border lies within ``tolerance`` of it; an image whose
    border is mostly transparent already has its background removed (None).

    >>> img = Image.new("RGB", (6, 6), (0, 128, 255))
    >>> img.paste((200, 50, 0), (2, 2, 4, 4))
    >>> estimate_background(img)
    (0, 128, 255)
    """
    check_image(image)
    rgba = rgba_array(image)
    border = _border(rgba)
    opaque = border[:, 3] >= ALPHA_THRESHOLD
    if opaque.mean() < _BORDER_AGREEMENT:
        return None
    lab = srgb_to_oklab(to_float_rgb(border[opaque][:, :3]))
    centre = np.median(lab, axis=0)
    near = np.linalg.norm(lab - centre, axis=1) <= tolerance
    if near.sum() < _BORDER_AGREEMENT * len(border):
        return None
    colour = np.rint(oklab_to_srgb(lab[near].mean(axis=0)) * 255).astype(int)
    return int(colour[0]), int(colour[1]), int(colour[2])


def _noise_tolerance(lab_border: Float, centre: Float, tolerance: float) -> float:
    """Widen the tolerance for a noisy background: 3x the border's typical deviation."""
    d = np.linalg.norm(lab_border - centre, axis=1)
    near = d[d <= 2 * tolerance]
    spread = float(np.percentile(near, 90)) if near.size else 0.0
    return max(tolerance, 1.5 * spread)


def remove_background(
    image: Image.Image,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    min_hole: float = 0.004,
    background: tuple[int, int, int] | None = None,
) -> Image.Image:
    """Make a sprite's background transparent, enclosed holes included.

    Parameters
    ----------
    image : PIL.Image.Image
        A sprite on a flat or noisy background (or already transparent: then
        only alpha is binarised).
    tolerance : float
        OKLab distance within which a pixel matches the background; widened
        automatically for a noisy background.
    min_hole : float
        An enclosed region of background colour is removed when it covers at
        least this share of the image (and at least 2 pixels), or when its
        mean colour is within a quarter of the tolerance of the background
        (clearly background, however small); other small regions are kept as
        sprite detail (an eye, a highlight near the background colour).
    background : (r, g, b) or None
        The background colour if known; else estimated from the border.

    Returns
    -------
    PIL.Image.Image
        RGBA with binary alpha; removed pixels are (0, 0, 0, 0).

    Examples
    --------
    >>> img = Image.new("RGB", (4, 4), (255, 255, 255))
    >>> img.putpixel((1, 1), (0, 0, 0))
    >>> sorted(remove_background(img).getcolors())  # (count, colour)
    [(1, (0, 0, 0, 255)), (15, (0, 0, 0, 0))]
    """
    check_image(image)
    if not 0.0 < tolerance < 1.0:
        raise InputError(f"tolerance must be within (0, 1), got {tolerance}")
    if not 0.0 <= min_hole <= 1.0:
        raise InputError(f"min_hole must be within [0, 1], got {min_hole}")
    rgba = rgba_array(image)
    opaque = opaque_mask(rgba)
    # 1. the background colour
    bg = background if background is not None else estimate_background(image, tolerance=tolerance)
    if bg is None:
        return to_image(_binarised(rgba, opaque))
    centre = srgb_to_oklab(to_float_rgb(np.array(bg, dtype=np.uint8)))
    lab = srgb_to_oklab(to_float_rgb(rgba[..., :3]))
    tol = _noise_tolerance(_border(lab), centre, tolerance)
    # 2. candidates
    dist = np.linalg.norm(lab - centre, axis=-1)
    candidate = (dist <= tol) & opaque
    # 3. + 4. regions touching the border; enclosed ones large enough or clearly background
    labels, n = label_components(candidate)
    if n == 0:
        return to_image(_binarised(rgba, opaque))
    flat = labels.reshape(-1)
    sizes = np.bincount(flat, minlength=n + 1)
    mean_dist = np.bincount(flat, weights=dist.reshape(-1), minlength=n + 1) / np.maximum(sizes, 1)
    touches = np.zeros(n + 1, dtype=bool)
    touches[np.unique(_border(labels))] = True
    big = sizes >= max(2.0, min_hole * labels.size)
    exact = mean_dist <= tol * _EXACT_SHARE
    remove = touches | big | exact
    remove[0] = False
    # 5. binary alpha
    return to_image(_binarised(rgba, opaque & ~remove[labels]))
