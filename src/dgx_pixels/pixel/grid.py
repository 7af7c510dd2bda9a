"""The pixel grid of a large "pseudo pixel art" image: where each cell is.

A :class:`Grid` lists the cell boundaries along each axis, in pixels of the
large image. Cells may be uneven (31 and 32 px mixed) and the grid may start
at an offset (the phase); partial cells at the image border that are less than
half a cell wide are left out. :func:`detect_grid` finds the grid of an image
(see :mod:`dgx_pixels.pixel._axis` for how), :meth:`Grid.uniform` builds the
grid of a known output size.

>>> g = Grid.uniform((100, 60), (10, 6))
>>> g.size, g.cell_size, g.phase
((10, 6), (10.0, 10.0), (0, 0))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from dgx_pixels.pixel._arrays import pixels_array
from dgx_pixels.pixel._axis import edge_profiles, fit_axes, joint_confidence

__all__ = ["Grid", "detect_grid"]


@dataclass(frozen=True)
class Grid:
    """Cell boundaries of a pixel grid, per axis.

    Attributes
    ----------
    xs : tuple of int
        Column boundaries in input pixels, strictly increasing; column ``i``
        spans ``xs[i] <= x < xs[i + 1]``. ``len(xs) - 1`` columns.
    ys : tuple of int
        Row boundaries, likewise.
    confidence : float
        How sure the detection is that this is the image's grid, 0 to 1
        (1.0 for a grid that was given, not detected).
    """

    xs: tuple[int, ...]
    ys: tuple[int, ...]
    confidence: float = 1.0

    def __post_init__(self) -> None:
        for name, bounds in (("xs", self.xs), ("ys", self.ys)):
            if len(bounds) < 2:
                raise ValueError(f"{name} needs at least 2 boundaries, got {len(bounds)}")
            if any(b1 <= b0 for b0, b1 in itertools.pairwise(bounds)):
                raise ValueError(f"{name} must be strictly increasing, got {bounds}")
            if bounds[0] < 0:
                raise ValueError(f"{name} must start at 0 or later, got {bounds[0]}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")

    @classmethod
    def uniform(cls, image_size: tuple[int, int], size: tuple[int, int]) -> Grid:
        """The even grid that splits an image of ``image_size`` into ``size`` cells.

        Boundaries are rounded to whole pixels, so cells differ by at most one
        pixel (an image of 100 px split into 3 cells: 33, 34, 33).

        >>> Grid.uniform((100, 100), (3, 1)).xs
        (0, 33, 67, 100)
        """
        (width, height), (cols, rows) = image_size, size
        if not (1 <= cols <= width and 1 <= rows <= height):
            raise ValueError(f"size must be between 1x1 and {width}x{height}, got {cols}x{rows}")
        xs = tuple(round(i * width / cols) for i in range(cols + 1))
        ys = tuple(round(i * height / rows) for i in range(rows + 1))
        return cls(xs, ys)

    @property
    def size(self) -> tuple[int, int]:
        """The true resolution: (columns, rows)."""
        return len(self.xs) - 1, len(self.ys) - 1

    @property
    def cell_size(self) -> tuple[float, float]:
        """Mean cell (width, height) in input pixels."""
        (cols, rows) = self.size
        return (self.xs[-1] - self.xs[0]) / cols, (self.ys[-1] - self.ys[0]) / rows

    @property
    def phase(self) -> tuple[int, int]:
        """Where the first column and row start, in input pixels.

        0 when the image starts with a cut border cell that is kept (at least
        half a cell wide); the start of the first whole cell otherwise.
        """
        return self.xs[0], self.ys[0]

    def describe(self) -> str:
        """One line for people: ``32x32 cells of 31.25x31.25 px at offset (3, 0)``."""
        (cols, rows), (cw, ch), (px, py) = self.size, self.cell_size, self.phase
        return f"{cols}x{rows} cells of {cw:.2f}x{ch:.2f} px at offset ({px}, {py})"


def detect_grid(image: Image.Image | NDArray[np.uint8]) -> Grid:
    """Find the pixel grid of a large pixel-art image, per axis.

    Parameters
    ----------
    image : PIL.Image.Image or ndarray of uint8, shape (H, W, 4) or (H, W, 3)
        The large image (RGBA, or RGB for an opaque one; a PIL image in
        another mode is converted to RGBA).

    Returns
    -------
    Grid
        The boundaries found and their confidence: both axes' evidence
        together when they found the same cell size on their own, else the
        lower of the two (:func:`~dgx_pixels.pixel._axis.joint_confidence`).
        A confidence near 0 means there is
        no grid to speak of; the grid is then the whole image as one cell.

    Examples
    --------
    >>> from PIL import Image
    >>> sprite = Image.effect_noise((12, 10), 80).convert("RGBA")
    >>> grid = detect_grid(sprite.resize((120, 100), Image.Resampling.NEAREST))
    >>> grid.size, grid.cell_size, grid.confidence > 0.9
    ((12, 10), (10.0, 10.0), True)
    """
    rgba = pixels_array(image) if isinstance(image, Image.Image) else image
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3 or 4) uint8 array, got {rgba.shape} {rgba.dtype}")
    height, width = rgba.shape[:2]
    along_x, along_y = edge_profiles(rgba)
    fx, fy = fit_axes(along_x, along_y, width, height, rgba)
    return Grid(fx.bounds, fy.bounds, joint_confidence(fx, fy))
