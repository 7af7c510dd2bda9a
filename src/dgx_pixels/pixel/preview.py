"""Preview: a nearest-neighbour upscale, so every sprite pixel is a crisp square.

>>> from PIL import Image
>>> upscale(Image.new("RGBA", (16, 8)), factor=4).size
(64, 32)
>>> upscale(Image.new("RGBA", (32, 32))).size      # the largest factor that fits 512
(512, 512)
"""

from __future__ import annotations

from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import check_image

__all__ = ["preview_factor", "upscale"]

#: Previews fit in this many pixels on their longer side unless a factor is given.
DEFAULT_TARGET = 512
#: The largest factor accepted, so a typo cannot ask for a gigapixel image.
MAX_FACTOR = 64


def preview_factor(size: tuple[int, int], *, target: int = DEFAULT_TARGET) -> int:
    """The largest whole factor that keeps ``size`` within ``target`` (at least 1).

    >>> preview_factor((32, 48)), preview_factor((1000, 10))
    (10, 1)
    """
    if target < 1:
        raise InputError(f"target must be at least 1, got {target}")
    return max(1, min(MAX_FACTOR, target // max(size)))


def upscale(
    image: Image.Image, *, factor: int | None = None, target: int = DEFAULT_TARGET
) -> Image.Image:
    """Upscale by a whole ``factor`` with nearest-neighbour sampling (a new image).

    Parameters
    ----------
    image : PIL.Image.Image
        The sprite at its true size.
    factor : int, optional
        1 to 64; when omitted, the largest factor that fits ``target``.
    target : int
        The longest side a preview may have when ``factor`` is omitted.

    Examples
    --------
    >>> img = Image.new("RGB", (2, 1), (255, 0, 0))
    >>> img.putpixel((1, 0), (0, 0, 255))
    >>> big = upscale(img, factor=3)
    >>> big.getpixel((2, 0)), big.getpixel((3, 2))
    ((255, 0, 0), (0, 0, 255))
    """
    check_image(image)
    if factor is None:
        factor = preview_factor(image.size, target=target)
    if isinstance(factor, bool) or not isinstance(factor, int) or not 1 <= factor <= MAX_FACTOR:
        raise InputError(f"factor must be a whole number from 1 to {MAX_FACTOR}, got {factor!r}")
    size = (image.width * factor, image.height * factor)
    return image.resize(size, Image.Resampling.NEAREST)
