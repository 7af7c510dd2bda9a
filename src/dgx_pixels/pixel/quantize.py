"""Palette extraction (N colours from images) and mapping images onto a palette.

Both work in OKLab, where equal distances look about equally different.

Extraction is weighted k-means over the image's distinct opaque colours
(each weighted by its pixel count), seeded by k-means++ from a fixed seed, so
the same image always gives the same palette. Transparent pixels are ignored.

Mapping replaces each opaque pixel by the nearest palette colour, optionally
dithered (``"ordered"``: Bayer; ``"error-diffusion"``: Floyd–Steinberg).
Alpha is left as it is.

>>> from PIL import Image
>>> img = Image.new("RGB", (4, 4), (250, 10, 10))
>>> extract_palette(img, 4).hex_codes()
['#fa0a0a']
>>> from dgx_pixels.pixel.palette import builtin_palette
>>> map_to_palette(img, builtin_palette("pico-8")).getpixel((0, 0))
(255, 0, 77, 255)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError, PaletteError
from dgx_pixels.pixel._arrays import U8, Float, check_image, opaque_mask, rgba_array, to_image
from dgx_pixels.pixel.color import oklab_to_srgb, srgb_to_linear, srgb_to_oklab, to_float_rgb
from dgx_pixels.pixel.dither import DITHER_MODES, floyd_steinberg, nearest, ordered
from dgx_pixels.pixel.palette import MAX_COLOURS, Palette

__all__ = ["extract_palette", "map_to_palette"]

# Above this many distinct colours, colours are binned to 4 bits per channel
# before clustering (at most 4096 points, each the count-weighted mean of its
# bin, so no precision is lost in the centres): same result for the same image.
_MAX_POINTS = 1 << 14
_ITERATIONS = 40


def _colour_counts(images: Sequence[Image.Image]) -> tuple[U8, Float]:
    """Distinct opaque RGB colours of all images, with their pixel counts."""
    packed = []
    for img in images:
        rgba = rgba_array(img)
        px = rgba[..., :3][opaque_mask(rgba)].astype(np.uint32)
        packed.append((px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2])
    allp = np.concatenate(packed) if packed else np.zeros(0, dtype=np.uint32)
    if allp.size == 0:
        raise PaletteError("no opaque pixels to extract a palette from")
    uniq, counts = np.unique(allp, return_counts=True)
    if uniq.size > _MAX_POINTS:
        # bin to 4 bits per channel, keeping each bin's count-weighted mean colour
        r, g, b = (uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255
        key = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4)
        _, inverse = np.unique(key, return_inverse=True)
        w = np.bincount(inverse, weights=counts).astype(np.float64)
        mean = np.stack([np.bincount(inverse, weights=c * counts) / w for c in (r, g, b)], axis=1)
        binned: U8 = np.clip(np.rint(mean), 0, 255).astype(np.uint8)
        return binned, w
    rgb: U8 = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.uint8)
    return rgb, counts.astype(np.float64)


def _kmeans_pp(points: Float, weights: Float, k: int, rng: np.random.Generator) -> Float:
    """k-means++ seeding, weighted by pixel counts."""
    first = int(np.argmax(weights))  # the most common colour: deterministic and sensible
    centres = [points[first]]
    d2 = np.sum((points - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        p = d2 * weights
        total = p.sum()
        if total <= 0:
            break
        i = int(rng.choice(len(points), p=p / total))
        centres.append(points[i])
        d2 = np.minimum(d2, np.sum((points - points[i]) ** 2, axis=1))
    return np.array(centres)


def _kmeans(points: Float, weights: Float, k: int, seed: int) -> Float:
    rng = np.random.default_rng(seed)
    centres = _kmeans_pp(points, weights, k, rng)
    for _ in range(_ITERATIONS):
        label = nearest(points, centres)
        k_now = len(centres)
        sums = np.stack(
            [np.bincount(label, weights=points[:, c] * weights, minlength=k_now) for c in range(3)],
            axis=1,
        )
        mass = np.bincount(label, weights=weights, minlength=k_now)
        new = centres.copy()
        used = mass > 0
        new[used] = sums[used] / mass[used, None]
        if not used.all():  # an empty cluster takes the point worst served so far
            d2 = np.sum((points - new[label]) ** 2, axis=1) * weights
            for j in np.flatnonzero(~used):
                i = int(np.argmax(d2))
                new[j] = points[i]
                d2[i] = 0.0
        if np.allclose(new, centres, atol=1e-7):
            centres = new
            break
        centres = new
    return centres


def extract_palette(
    image: Image.Image | Sequence[Image.Image], n: int, *, seed: int = 0
) -> Palette:
    """Extract at most ``n`` colours from one image (or all images of a batch).

    Parameters
    ----------
    image : PIL.Image.Image or sequence of them
        The source; only opaque pixels (alpha >= 128) count. Several images give
        one palette for them all (for a batch that must share colours).
    n : int
        How many colours, 1 to 256. An image with fewer distinct colours gives
        exactly its own colours.
    seed : int
        Seed of the k-means++ initialisation; the same input and seed always
        give the same palette.

    Returns
    -------
    Palette
        Unlocked (``locked=False``), colours ordered dark to light; call
        :meth:`Palette.lock` to share it across a batch.

    Examples
    --------
    >>> img = Image.new("RGB", (8, 8), (0, 0, 0))
    >>> img.paste((255, 255, 255), (0, 0, 8, 3))
    >>> img.paste((250, 250, 250), (0, 3, 8, 4))
    >>> extract_palette(img, 2).hex_codes()
    ['#000000', '#fefefe']
    """
    images = [image] if isinstance(image, Image.Image) else list(image)
    if not images:
        raise InputError("extract_palette needs at least one image")
    for i, img in enumerate(images):
        check_image(img, name=f"image {i}")
    if not 1 <= n <= MAX_COLOURS:
        raise InputError(f"number of colours must be 1 to {MAX_COLOURS}, got {n}")
    rgb, weights = _colour_counts(images)
    lab = srgb_to_oklab(to_float_rgb(rgb))
    if len(rgb) <= n:
        colors = rgb
        order_l = lab[:, 0]
    else:
        centres = _kmeans(lab, weights, n, seed)
        colors = np.clip(np.rint(oklab_to_srgb(centres) * 255), 0, 255).astype(np.uint8)
        colors = np.unique(colors, axis=0)  # two centres may round to one colour
        order_l = srgb_to_oklab(to_float_rgb(colors))[:, 0]
    order = np.lexsort((colors[:, 2], colors[:, 1], colors[:, 0], order_l))
    return Palette(f"auto-{n}", colors[order], locked=False)


def map_to_palette(
    image: Image.Image,
    palette: Palette,
    *,
    dither: str = "none",
    bayer_size: int = 4,
) -> Image.Image:
    """Map every opaque pixel onto the nearest colour of ``palette`` (OKLab).

    Parameters
    ----------
    image : PIL.Image.Image
        Any image; returned as a new RGBA image, alpha unchanged.
    palette : Palette
        The target colours; the result uses only these on opaque pixels.
    dither : {"none", "ordered", "error-diffusion"}
        ``"ordered"``: a Bayer pattern of each pixel's two nearest colours;
        ``"error-diffusion"``: Floyd–Steinberg. Both choose colours in OKLab
        and mix in linear light (see :mod:`dgx_pixels.pixel.dither`).
    bayer_size : int
        4 or 8 (any power of two): the Bayer matrix for ``"ordered"``.

    Examples
    --------
    >>> grey = Image.new("RGB", (4, 4), (128, 128, 128))
    >>> bw = Palette("bw", [(0, 0, 0), (255, 255, 255)])
    >>> sorted(c for _, c in map_to_palette(grey, bw, dither="ordered").getcolors())
    [(0, 0, 0, 255), (255, 255, 255, 255)]
    """
    check_image(image)
    if not isinstance(palette, Palette):
        raise InputError(f"palette must be a Palette, got {type(palette).__name__}")
    if dither not in DITHER_MODES:
        raise InputError(f"dither must be one of {', '.join(DITHER_MODES)}, got {dither!r}")
    rgba = rgba_array(image)
    mask = opaque_mask(rgba)
    pal_lab = palette.oklab
    if dither == "none":
        # map each distinct colour once
        rgb = rgba[..., :3].astype(np.uint32)
        packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
        uniq, inverse = np.unique(packed.reshape(-1), return_inverse=True)
        uniq_rgb = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1)
        idx = nearest(srgb_to_oklab(uniq_rgb / 255.0), pal_lab)[inverse.reshape(-1)]
        idx = idx.reshape(rgba.shape[:2])
    else:
        linear = srgb_to_linear(to_float_rgb(rgba[..., :3]))
        pal_linear = srgb_to_linear(to_float_rgb(palette.colors))
        if dither == "ordered":
            idx = ordered(linear, pal_linear, pal_lab, size=bayer_size)
        else:
            idx = floyd_steinberg(linear, pal_linear, pal_lab, mask=mask)
    out = rgba.copy()
    out[..., :3] = np.where(mask[..., None], palette.colors[idx], rgba[..., :3])
    return to_image(out)
