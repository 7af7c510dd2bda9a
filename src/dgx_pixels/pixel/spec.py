"""What a pixel-art output must be (:class:`PixelSpec`) and the pipeline that makes it.

:func:`to_pixel_art` reads as its steps, each its own pure function:

1. **sample** the true-size sprite: the cell grid of AI "pseudo pixel art"
   (:func:`dgx_pixels.pixel.restore.restore`, with the known size or scale,
   else detected) or, for any other picture, a contrast-aware downscale
   (:func:`dgx_pixels.pixel.pixelize.downscale`);
2. **background**: removed (enclosed holes too) and alpha binarised, or kept;
3. **cleanup**: anti-aliasing fringes and stray pixels (before the palette, so
   dithering patterns are not taken for strays);
4. **palette**: extracted (``auto:N``) or mapped onto a palette, with dithering;
5. **outline**, snapped onto the palette when there is one;
6. a background **colour** is painted under the sprite when one is asked for.

For a batch that must share one palette exactly, :func:`lock_palette` extracts
``auto:N`` once from all images and returns a spec whose palette is that exact
colour list.

>>> from PIL import Image
>>> spec = PixelSpec(size=(8, 8), palette="pico-8")
>>> big = Image.new("RGB", (64, 64), (255, 255, 255))
>>> big.paste((200, 30, 60), (16, 16, 48, 48))
>>> out = to_pixel_art(big, spec)
>>> out.size, out.getpixel((0, 0)), out.getpixel((4, 4))
((8, 8), (0, 0, 0, 0), (171, 82, 54, 255))
>>> PixelSpec.from_dict(spec.to_dict()) == spec
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels._pixel_options import (
    BACKGROUNDS,
    check_background,
    check_dither,
    check_outline,
    parse_hex_colour,
)
from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import check_image, rgba_array, to_image
from dgx_pixels.pixel._cells import size_from_scale
from dgx_pixels.pixel.alpha import binarize_alpha, estimate_background, remove_background
from dgx_pixels.pixel.cleanup import cleanup
from dgx_pixels.pixel.outline import OUTLINE_SIDES, add_outline
from dgx_pixels.pixel.palette import Palette, parse_auto, resolve_palette
from dgx_pixels.pixel.pixelize import DOWNSCALE_METHODS, downscale
from dgx_pixels.pixel.quantize import extract_palette, map_to_palette
from dgx_pixels.pixel.restore import restore

__all__ = ["SAMPLING_METHODS", "WRAPS", "PixelSpec", "lock_palette", "to_pixel_art"]

#: "grid": cell sampling of pseudo pixel art (restore); the others: a downscale.
SAMPLING_METHODS = ("grid", *DOWNSCALE_METHODS)
#: The axes along which a seamless tile wraps (see ``to_pixel_art``'s ``wrap``).
WRAPS = ("none", "x", "y", "xy")


def _bad(field: str, message: str) -> InputError:
    return InputError(message, option=field)


@dataclass(frozen=True)
class PixelSpec:
    """What the pixel-art output must be; validated on construction.

    Parameters
    ----------
    size : (int, int) or None
        The true output size (width, height). With neither ``size`` nor
        ``scale`` the grid is detected (``sampling="grid"`` only).
    scale : float or None
        Input pixels per output pixel (e.g. 32 for 32x32 from 1024x1024).
    palette : str or None
        A built-in name (``"pico-8"``), a palette file (.hex/.gpl/.pal), an
        inline list ``"#rrggbb,#rrggbb,..."`` or ``"auto:N"``; None keeps colours.
    dither : {"none", "ordered", "error-diffusion"}
        Dithering when mapping onto the palette.
    background : str
        ``"transparent"`` (remove it), ``"keep"``, or ``"#rrggbb"`` (remove it,
        then paint this colour under the sprite).
    outline : str or None
        None, ``"darker"`` or ``"#rrggbb"``: a 1-px outline.
    outline_side : {"outside", "inside"}
        Where the outline goes.
    cleanup : bool
        Remove anti-aliasing fringes and stray pixels.
    sampling : {"grid", "contrast", "median", "box", "nearest"}
        ``"grid"`` restores AI pseudo pixel art cell by cell; the others
        downscale any picture (``"contrast"`` keeps thin dark lines).
    seed : int
        Seed for ``auto:N`` palette extraction.

    Examples
    --------
    >>> PixelSpec(size=(32, 32), palette="db16").size
    (32, 32)
    >>> PixelSpec(size=(0, 32))
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: size must be at least 1x1, got 0x32
    """

    size: tuple[int, int] | None = None
    scale: float | None = None
    palette: str | None = None
    dither: str = "none"
    background: str = "transparent"
    outline: str | None = None
    outline_side: str = "outside"
    cleanup: bool = True
    sampling: str = "grid"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.size is not None:
            s = self.size
            if not (
                isinstance(s, tuple)
                and len(s) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in s)
            ):
                raise _bad("size", f"size must be a (width, height) pair of integers, got {s!r}")
            if s[0] < 1 or s[1] < 1:
                raise _bad("size", f"size must be at least 1x1, got {s[0]}x{s[1]}")
        if self.scale is not None:
            sc = self.scale
            if isinstance(sc, bool) or not isinstance(sc, int | float) or not math.isfinite(sc):
                raise _bad("scale", f"scale must be a finite number, got {sc!r}")
            if sc < 1:
                raise _bad("scale", f"scale must be at least 1, got {sc:g}")
        if self.size is not None and self.scale is not None:
            raise _bad("size", "give either size or scale, not both")
        if self.sampling not in SAMPLING_METHODS:
            raise _bad(
                "sampling",
                f"sampling must be one of {', '.join(SAMPLING_METHODS)}, got {self.sampling!r}",
            )
        if self.sampling != "grid" and self.size is None and self.scale is None:
            raise _bad("size", f"sampling {self.sampling!r} needs a size or a scale")
        if self.palette is not None:
            if not isinstance(self.palette, str):
                raise _bad("palette", f"palette must be a string, got {self.palette!r}")
            if parse_auto(self.palette) is None:
                resolve_palette(self.palette)  # raises PaletteError with the reason
        check_dither(self.dither)  # the rules GenerationRequest applies too
        check_background(self.background)
        if self.outline is not None:
            check_outline(self.outline)
        if self.outline_side not in OUTLINE_SIDES:
            raise _bad(
                "outline_side",
                f"outline_side must be 'outside' or 'inside', got {self.outline_side!r}",
            )
        if not isinstance(self.cleanup, bool):
            raise _bad("cleanup", f"cleanup must be true or false, got {self.cleanup!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise _bad("seed", f"seed must be a whole number >= 0, got {self.seed!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``size`` as a list) that :meth:`from_dict` reads back.

        >>> PixelSpec(size=(16, 24)).to_dict()["size"]
        [16, 24]
        """
        d = dataclasses.asdict(self)
        d["size"] = list(self.size) if self.size is not None else None
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PixelSpec:
        """Build from :meth:`to_dict` output (e.g. read from a JSON sidecar).

        >>> PixelSpec.from_dict({"size": [8, 8], "colour": 1})
        Traceback (most recent call last):
        ...
        dgx_pixels.errors.InputError: unknown PixelSpec field(s): colour
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"unknown PixelSpec field(s): {', '.join(unknown)}")
        values = dict(data)
        size = values.get("size")
        if isinstance(size, list):
            values["size"] = tuple(size)
        return cls(**values)


def _sample(image: Image.Image, spec: PixelSpec) -> Image.Image:
    if spec.sampling == "grid":
        return restore(image, size=spec.size, scale=spec.scale).image
    size = spec.size
    if size is None:
        assert spec.scale is not None  # checked in PixelSpec
        size = size_from_scale(spec.scale, image.size)  # as restore: no cell is an error
    return downscale(image, size=size, method=spec.sampling)


def _prepare(image: Image.Image, spec: PixelSpec) -> Image.Image:
    """Steps 1-3: the true-size sprite with its background and strays handled."""
    return _clean(_sample(image, spec), spec)


def _clean(small: Image.Image, spec: PixelSpec) -> Image.Image:
    """Steps 2-3 on a sampled sprite: the background, then stray pixels."""
    if spec.background == "keep":
        small = binarize_alpha(small)
        bg = None
    else:
        bg = estimate_background(small)
        small = remove_background(small, background=bg)
    if spec.cleanup:
        small = cleanup(small, background=bg)
    return small


def _palette_for(small: Image.Image, spec: PixelSpec) -> Palette | None:
    if spec.palette is None:
        return None
    n = parse_auto(spec.palette)
    if n is None:
        return resolve_palette(spec.palette)
    if not (rgba_array(small)[..., 3] >= 128).any():
        return None  # nothing opaque: nothing to extract from or map
    return extract_palette(small, n, seed=spec.seed)


def _repeat(small: Image.Image, wrap: str) -> Image.Image:
    """Three copies side by side along each axis in ``wrap``: the tile with its wrap around it."""
    a = rgba_array(small)
    a = np.tile(a, (3 if "y" in wrap else 1, 3 if "x" in wrap else 1, 1))
    return to_image(a)


def _centre(big: Image.Image, size: tuple[int, int], wrap: str) -> Image.Image:
    x = size[0] if "x" in wrap else 0
    y = size[1] if "y" in wrap else 0
    return big.crop((x, y, x + size[0], y + size[1]))


def to_pixel_art(image: Image.Image, spec: PixelSpec, *, wrap: str = "none") -> Image.Image:
    """Turn ``image`` into pixel art as ``spec`` says (see the module doc for the steps).

    Parameters
    ----------
    image : PIL.Image.Image
        AI pseudo pixel art (``sampling="grid"``) or any picture; not changed.
    spec : PixelSpec
        What the output must be.
    wrap : {"none", "x", "y", "xy"}
        A seamless tile's wrap: after sampling, the steps that look at
        neighbours (background, cleanup, dithering, outline) see the tile as a
        torus along these axes (they run on the tile repeated 3 times along
        each, and the middle copy is kept), so the wrap survives.

    Returns
    -------
    PIL.Image.Image
        RGBA at the true size, alpha fully on or off.

    Raises
    ------
    InputError
        A size larger than the image, or no size and a detected grid is required.
    NoGridError
        No size or scale given and no pixel grid found.

    Examples
    --------
    >>> sprite = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    >>> sprite.paste((240, 200, 40, 255), (1, 1, 3, 3))
    >>> big = sprite.resize((40, 40), Image.Resampling.NEAREST)
    >>> out = to_pixel_art(big, PixelSpec(scale=10, outline="#000000"))
    >>> out.getpixel((0, 0)), out.getpixel((1, 1))
    ((0, 0, 0, 255), (240, 200, 40, 255))
    """
    check_image(image)
    if not isinstance(spec, PixelSpec):
        raise InputError(f"spec must be a PixelSpec, got {type(spec).__name__}")
    if wrap not in WRAPS:
        raise InputError(f"wrap must be one of {', '.join(WRAPS)}, got {wrap!r}")
    # 1.-3. sample, background, cleanup (on the torus when the tile wraps)
    small = _sample(image, spec)
    size = small.size
    if wrap != "none":
        small = _repeat(small, wrap)
    small = _clean(small, spec)
    # 4. palette
    palette = _palette_for(small, spec)
    if palette is not None:
        small = map_to_palette(small, palette, dither=spec.dither)
    # 5. outline (its colours snapped onto the palette)
    if spec.outline is not None:
        small = add_outline(small, color=spec.outline, side=spec.outline_side)
        if palette is not None:
            small = map_to_palette(small, palette)
    # 6. a background colour under the sprite
    if spec.background not in BACKGROUNDS:
        rgba = rgba_array(small)
        clear = rgba[..., 3] < 128
        rgba[clear] = (*parse_hex_colour(spec.background), 255)
        small = to_image(rgba)
    return small if wrap == "none" else _centre(small, size, wrap)


def lock_palette(spec: PixelSpec, images: Sequence[Image.Image]) -> PixelSpec:
    """A spec whose palette is fixed for a whole batch.

    With ``palette="auto:N"`` the N colours are extracted once from all the
    (sampled, background-removed) images together, and the returned spec names
    them exactly (``"#rrggbb,..."``): every image mapped with it shares them.
    A spec with a named or file palette is already fixed and comes back as is.

    Examples
    --------
    >>> a = Image.new("RGB", (16, 16), (250, 20, 20))
    >>> b = Image.new("RGB", (16, 16), (20, 20, 250))
    >>> spec = lock_palette(PixelSpec(size=(4, 4), palette="auto:2", background="keep"), [a, b])
    >>> spec.palette
    '#1414fa,#fa1414'
    """
    if not isinstance(spec, PixelSpec):
        raise InputError(f"spec must be a PixelSpec, got {type(spec).__name__}")
    if spec.palette is None or parse_auto(spec.palette) is None:
        return spec
    n = parse_auto(spec.palette)
    assert n is not None
    if not images:
        raise InputError("lock_palette needs at least one image")
    smalls = [_prepare(check_image(img), spec) for img in images]
    opaque = [s for s in smalls if (np.asarray(s)[..., 3] >= 128).any()]
    if not opaque:
        raise InputError("no image has opaque pixels to extract a palette from")
    palette = extract_palette(opaque, n, seed=spec.seed).lock()
    return dataclasses.replace(spec, palette=palette.to_spec())
