"""Restore AI "pseudo pixel art" to the true low-resolution sprite.

Image generators draw pixel art as large pictures: a 32x32 sprite becomes a
1024x1024 image whose cells are about 32 px, blurred at their edges, noisy,
JPEG-compressed, drifting in colour and not always the same size. ``restore``
finds the cell grid (or takes a known size or scale), reads one colour per
cell robustly from the cell's centre (a band of rows drawn half a cell off
the grid is read where it was drawn), and merges the colours that are one
ink under the noise, so the sprite comes back with the artist's palette.

>>> from PIL import Image
>>> sprite = Image.new("RGBA", (4, 3), (200, 40, 40, 255))
>>> sprite.putpixel((1, 1), (20, 20, 220, 255))
>>> big = sprite.resize((40, 30), Image.Resampling.NEAREST)
>>> result = restore(big, size=(4, 3))
>>> result.image.size, result.image.getpixel((1, 1)), result.confidence
((4, 3), (20, 20, 220, 255), 1.0)
>>> result.palette.hex_codes()
['#c82828', '#1414dc']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from dgx_pixels.errors import InputError, NoGridError
from dgx_pixels.pixel._arrays import check_size, pixels_array
from dgx_pixels.pixel._cells import read_cells, read_shifted_rows, size_from_scale
from dgx_pixels.pixel._inks import merge_inks as _merge_inks
from dgx_pixels.pixel.grid import Grid, detect_grid
from dgx_pixels.pixel.palette import MAX_COLOURS, Palette

__all__ = ["DEFAULT_MIN_CONFIDENCE", "RestoreResult", "restore"]

#: Below this detection confidence :func:`restore` refuses to guess.
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore` found.

    Attributes
    ----------
    image : PIL.Image.Image
        The true-resolution sprite, RGBA, one pixel per grid cell.
    grid : Grid
        The cell boundaries in the input image.
    confidence : float
        0 to 1; 1.0 when the size or scale was given.
    inks : ndarray of uint8, shape (n, 3), or None
        The colours of the inks found, most used first; None when inks were
        not merged.
    """

    image: Image.Image
    grid: Grid
    confidence: float
    inks: NDArray[np.uint8] | None = None

    @property
    def palette(self) -> Palette | None:
        """The inks as an unlocked :class:`Palette` (None without inks or over 256)."""
        if self.inks is None or not 1 <= len(self.inks) <= MAX_COLOURS:
            return None
        return Palette("restored", self.inks, locked=False)


def restore(
    image: Image.Image,
    *,
    size: tuple[int, int] | None = None,
    scale: float | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    merge_inks: bool = True,
) -> RestoreResult:
    """Return the true low-resolution sprite behind a large pixel-art image.

    Parameters
    ----------
    image : PIL.Image.Image
        The large image, any mode Pillow can convert to RGBA. It is not changed.
    size : (int, int), optional
        The known true size (width, height): the grid is the even split of the
        image into that many cells, nothing is detected.
    scale : float, optional
        The known scale factor (input pixels per cell, e.g. 32 for a 32x32
        sprite drawn at 1024x1024); the size is the image size divided by it,
        rounded. Give at most one of ``size`` and ``scale``.
    min_confidence : float
        When detecting, refuse (raise :class:`~dgx_pixels.errors.NoGridError`)
        below this confidence, 0 to 1.
    merge_inks : bool
        Merge the colours that are one ink under the picture's noise (how far
        is measured on the picture; see :mod:`dgx_pixels.pixel._inks`), so
        the sprite has the artist's palette; False keeps every cell's own
        colour.

    Returns
    -------
    RestoreResult
        The sprite (RGBA, alpha taken per cell from the input's alpha), the
        grid, the confidence and the palette found.

    Raises
    ------
    InputError
        A bad ``size``, ``scale`` or ``min_confidence``, or both ``size`` and
        ``scale`` given.
    NoGridError
        No size or scale was given and no grid was found with at least
        ``min_confidence``.

    Examples
    --------
    >>> from PIL import Image
    >>> big = Image.new("RGB", (64, 64), (10, 200, 10))
    >>> restore(big, scale=8).image.size
    (8, 8)
    """
    # 1. Check the options against the image.
    if not isinstance(image, Image.Image):
        raise InputError(f"image must be a PIL image, got {type(image).__name__}")
    width, height = image.size
    if width < 1 or height < 1:
        raise InputError(f"image is empty ({width}x{height})")
    if size is not None and scale is not None:
        raise InputError("give either size or scale, not both")
    if not 0.0 <= min_confidence <= 1.0:
        raise InputError(f"min_confidence must be between 0 and 1, got {min_confidence}")
    if scale is not None:
        size = size_from_scale(scale, (width, height))
    if size is not None:
        size = check_size(size, (width, height))

    # 2. The grid: given, or detected (and refused when unsure).
    rgba = pixels_array(image)  # RGB stays RGB: opaque, a quarter less to read
    if size is not None:
        grid = Grid.uniform((width, height), size)
    else:
        grid = detect_grid(rgba)
        if grid.confidence < min_confidence:
            raise NoGridError(
                f"no pixel grid found (confidence {grid.confidence:.2f} < {min_confidence:g})",
                confidence=grid.confidence,
            )

    # 3. One robust colour per cell, then one colour per ink.
    cells, noise = read_cells(rgba, grid.xs, grid.ys)
    if size is None:  # a detected grid: some rows may be drawn half a cell off
        cells = read_shifted_rows(rgba, grid.xs, grid.ys, cells)
    inks = None
    if merge_inks:
        cells, inks = _merge_inks(cells, noise)
    return RestoreResult(Image.fromarray(cells, "RGBA"), grid, grid.confidence, inks)
