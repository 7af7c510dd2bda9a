"""Pixel-art metrics: how "game-ready" an image is, as numbers for tests and reports.

- :func:`colors_used`: distinct colours of the opaque pixels;
- :func:`palette_share`: share of opaque pixels whose colour is in a palette;
- :func:`alpha_binarity`: share of pixels fully opaque or fully transparent;
- :func:`stray_pixel_count`: stray pixels (see :mod:`dgx_pixels.pixel.cleanup`);
- :func:`tile_seam_score`: how visible the seams are when the image is tiled.

:func:`measure` gives all of them as one :class:`PixelMetrics`.

>>> from PIL import Image
>>> m = measure(Image.new("RGBA", (8, 8), (10, 20, 30, 255)))
>>> m.colors_used, m.alpha_binarity, m.stray_pixels
(1, 1.0, 0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.pixel._arrays import check_image, opaque_mask, rgba_array
from dgx_pixels.pixel.cleanup import stray_mask
from dgx_pixels.pixel.color import srgb_to_oklab, to_float_rgb
from dgx_pixels.pixel.palette import Palette

__all__ = [
    "PixelMetrics",
    "TileSeams",
    "alpha_binarity",
    "colors_used",
    "measure",
    "palette_share",
    "stray_pixel_count",
    "tile_seam_score",
]


def colors_used(image: Image.Image) -> int:
    """How many distinct RGB colours the opaque pixels use.

    >>> img = Image.new("RGBA", (2, 2), (0, 0, 0, 0))
    >>> img.putpixel((0, 0), (255, 0, 0, 255))
    >>> colors_used(img)
    1
    """
    check_image(image)
    rgba = rgba_array(image)
    rgb = rgba[..., :3][opaque_mask(rgba)]
    return len(np.unique(rgb, axis=0)) if rgb.size else 0


def palette_share(image: Image.Image, palette: Palette) -> float:
    """Share of opaque pixels whose colour is exactly a colour of ``palette`` (1.0 if none).

    >>> p = Palette("bw", [(0, 0, 0), (255, 255, 255)])
    >>> img = Image.new("RGB", (4, 1), (0, 0, 0))
    >>> img.putpixel((3, 0), (1, 2, 3))
    >>> palette_share(img, p)
    0.75
    """
    check_image(image)
    rgba = rgba_array(image)
    rgb = rgba[..., :3][opaque_mask(rgba)].astype(np.uint32)
    if rgb.size == 0:
        return 1.0
    keys = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    pal = palette.colors.astype(np.uint32)
    pal_keys = (pal[:, 0] << 16) | (pal[:, 1] << 8) | pal[:, 2]
    return float(np.isin(keys, pal_keys).mean())


def alpha_binarity(image: Image.Image) -> float:
    """Share of pixels whose alpha is exactly 0 or 255 (1.0: clean game-ready alpha).

    >>> img = Image.new("RGBA", (2, 1), (0, 0, 0, 255))
    >>> img.putpixel((1, 0), (0, 0, 0, 128))
    >>> alpha_binarity(img)
    0.5
    """
    check_image(image)
    a = rgba_array(image)[..., 3]
    return float(((a == 0) | (a == 255)).mean())


def stray_pixel_count(image: Image.Image) -> int:
    """How many stray pixels (islands, specks, pinholes) the image has.

    >>> img = Image.new("RGBA", (5, 5), (0, 0, 0, 0))
    >>> img.putpixel((2, 2), (9, 9, 9, 255))
    >>> stray_pixel_count(img)
    1
    """
    return int(stray_mask(image).sum())


@dataclass(frozen=True)
class TileSeams:
    """Seam visibility when tiling: the mean OKLab step across the wrap-around
    edge divided by the mean step between neighbouring columns (rows) inside.

    Up to about 2: the seam is a step like the ones inside (seamless); much
    more: a visible seam. 0 for a flat image.
    """

    left_right: float
    top_bottom: float


def _seam(lab: np.ndarray) -> float:
    """Seam ratio along axis 1 (columns) of an (h, w, 3) OKLab array."""
    if lab.shape[1] < 2:
        return 0.0
    inner = np.linalg.norm(np.diff(lab, axis=1), axis=-1).mean()
    edge = np.linalg.norm(lab[:, 0] - lab[:, -1], axis=-1).mean()
    if inner < 1e-9:
        return 0.0 if edge < 1e-9 else float("inf")
    return float(edge / inner)


def tile_seam_score(image: Image.Image) -> TileSeams:
    """How visible the left/right and top/bottom seams are when the image is tiled.

    >>> grad = Image.linear_gradient("L").convert("RGB").resize((32, 32))
    >>> s = tile_seam_score(grad)           # dark top meets light bottom: a seam
    >>> s.left_right, s.top_bottom > 10
    (0.0, True)
    """
    check_image(image)
    rgba = rgba_array(image)
    lab = srgb_to_oklab(to_float_rgb(rgba[..., :3]))
    lab = np.where(opaque_mask(rgba)[..., None], lab, 0.0)  # transparent counts as one colour
    return TileSeams(left_right=_seam(lab), top_bottom=_seam(lab.transpose(1, 0, 2)))


@dataclass(frozen=True)
class PixelMetrics:
    """All pixel metrics of one image (see the module doc)."""

    width: int
    height: int
    colors_used: int
    alpha_binarity: float
    stray_pixels: int
    seams: TileSeams
    palette_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def measure(image: Image.Image, *, palette: Palette | None = None) -> PixelMetrics:
    """Every metric of ``image``; ``palette_share`` only when a palette is given.

    >>> from dgx_pixels.pixel.palette import builtin_palette
    >>> img = Image.new("RGB", (4, 4), (0, 0, 0))
    >>> measure(img, palette=builtin_palette("pico-8")).palette_share
    1.0
    """
    check_image(image)
    return PixelMetrics(
        width=image.width,
        height=image.height,
        colors_used=colors_used(image),
        alpha_binarity=alpha_binarity(image),
        stray_pixels=stray_pixel_count(image),
        seams=tile_seam_score(image),
        palette_share=None if palette is None else palette_share(image, palette),
    )
