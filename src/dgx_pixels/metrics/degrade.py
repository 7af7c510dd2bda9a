"""Degrading true pixel art the way image generators draw it.

A diffusion model asked for a 32x32 sprite paints a large picture whose
"pixels" are cells of about 32 px: not an integer size, slightly uneven
(31 and 32 px mixed, drifting across the image), cut at the image border
(a phase offset), blurred at their edges, noisy, JPEG-compressed, shifted in
colour, on a flat background. :func:`degrade` does that to a real sprite, so a
restore tool can be scored against the sprite it should find.

Six levels, each a range from which :func:`draw_params` picks one case:

========  =====================================================================
easy      integer scale 2-16, cells start at the image corner, nothing else
medium    non-integer scale 4-20, border cells cut to 65-100 %, blur 0.3-1 px
hard      non-integer scale 8-32 (x and y up to 3 % apart), uneven drifting
          cells (boundaries move by up to 0.3 cell), border cells 65-100 %,
          blur 0.5-1.5 px, colour drift (+-4 % gain across the image), noise
          (sigma 2-6 levels), JPEG quality 70-92, on a flat random background
low-      hard, with the sprite's colours pulled to 15-35 % of their contrast
contrast  around a dark colour, on a background of nearly that colour (a dark
          green wall tile: cells of almost equal colour)
half-     hard, with a band of 25-50 % of the rows drawn half a cell to the
cell      side (blocks on two lattices: edges at half a cell)
textured  hard, with a fine canvas-like texture over every cell, the
          background too (grain of 1-2 px, 4-10 levels): a painted scene
========  =====================================================================

``truth`` gives the sprite a picture shows (the low-contrast colours); the
others show the sprite itself.

Easy and medium keep the sprite's alpha; hard is an opaque RGB picture, as
generators make them.

>>> import numpy as np
>>> from PIL import Image
>>> sprite = Image.new("RGBA", (8, 8), (200, 30, 30, 255))
>>> params = draw_params("hard", 8, 8, np.random.default_rng(0))
>>> big = degrade(sprite, params)
>>> big.mode, big.width > 8 * 7
('RGB', True)
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

__all__ = ["LEVELS", "DegradeParams", "Level", "cell_bounds", "degrade", "draw_params", "truth"]

Level = Literal["easy", "medium", "hard", "low-contrast", "half-cell", "textured"]
LEVELS: tuple[Level, ...] = ("easy", "medium", "hard", "low-contrast", "half-cell", "textured")


@dataclass(frozen=True)
class DegradeParams:
    """One concrete degradation (see the module docstring for the ranges)."""

    scale_x: float
    scale_y: float
    #: Width of the first and last cell along x and y, as a share of a cell.
    edge_x: tuple[float, float] = (1.0, 1.0)
    edge_y: tuple[float, float] = (1.0, 1.0)
    #: Boundary drift: amplitude (share of a cell) and half-waves across the sprite.
    warp: float = 0.0
    warp_waves: int = 1
    blur: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None
    #: Relative gain change from one side of the image to the other, per channel.
    drift: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: Composite on this flat colour (the result is RGB); None keeps alpha.
    background: tuple[int, int, int] | None = None
    seed: int = 0
    #: Share of the sprite's contrast kept, around the colour ``tint``.
    contrast: float = 1.0
    tint: tuple[int, int, int] = (0, 0, 0)
    #: Rows (share of the sprite, from, to) drawn half a cell to the right.
    half_rows: tuple[float, float] | None = None
    #: Amplitude (levels) and grain (px) of a canvas-like texture; 0: none.
    texture: float = 0.0
    texture_grain: float = 1.0


def draw_params(level: Level, width: int, height: int, rng: np.random.Generator) -> DegradeParams:
    """Pick one case of ``level`` for a ``width`` x ``height`` sprite."""
    if level == "easy":
        s = float(rng.integers(2, 17))
        return DegradeParams(s, s, seed=int(rng.integers(2**31)))
    if level == "medium":
        s = float(rng.uniform(4.0, 20.0))
        return DegradeParams(
            s,
            s,
            edge_x=(float(rng.uniform(0.65, 1.0)), float(rng.uniform(0.65, 1.0))),
            edge_y=(float(rng.uniform(0.65, 1.0)), float(rng.uniform(0.65, 1.0))),
            blur=float(rng.uniform(0.3, 1.0)),
            seed=int(rng.integers(2**31)),
        )
    if level in ("low-contrast", "half-cell", "textured"):
        base = draw_params("hard", width, height, rng)
        if level == "low-contrast":
            tint = (int(rng.integers(15, 50)), int(rng.integers(40, 90)), int(rng.integers(15, 50)))
            ground = tuple(int(v) for v in np.asarray(tint) + rng.integers(-8, 9, 3))
            return replace(
                base,
                contrast=float(rng.uniform(0.15, 0.35)),
                tint=tint,
                background=ground,  # type: ignore[arg-type]
            )
        if level == "half-cell":
            start = float(rng.uniform(0.1, 0.5))
            return replace(base, half_rows=(start, start + float(rng.uniform(0.25, 0.5))))
        return replace(
            base,
            texture=float(rng.uniform(4.0, 10.0)),
            texture_grain=float(rng.uniform(1.0, 2.0)),
        )
    if level == "hard":
        s = float(rng.uniform(8.0, 32.0))
        return DegradeParams(
            s,
            s * float(rng.uniform(0.97, 1.03)),
            edge_x=(float(rng.uniform(0.65, 1.0)), float(rng.uniform(0.65, 1.0))),
            edge_y=(float(rng.uniform(0.65, 1.0)), float(rng.uniform(0.65, 1.0))),
            warp=float(rng.uniform(0.1, 0.3)),
            warp_waves=int(rng.integers(1, 3)),
            blur=float(rng.uniform(0.5, 1.5)),
            noise=float(rng.uniform(2.0, 6.0)),
            jpeg_quality=int(rng.integers(70, 93)),
            drift=tuple(float(v) for v in rng.uniform(-0.04, 0.04, 3)),  # type: ignore[arg-type]
            background=tuple(int(v) for v in rng.integers(0, 256, 3)),  # type: ignore[arg-type]
            seed=int(rng.integers(2**31)),
        )
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def cell_bounds(
    cells: int, scale: float, edges: tuple[float, float], warp: float, waves: int, phase: float
) -> NDArray[np.intp]:
    """Pixel boundaries of ``cells`` cells: ``cells + 1`` increasing integers from 0.

    The first and last cells are ``edges`` of a full cell wide; the interior
    boundaries drift by ``warp * scale * sin(pi * waves * i / cells + phase)``,
    zero at both ends when ``phase`` is 0.

    >>> cell_bounds(4, 10.0, (1.0, 1.0), 0.0, 1, 0.0).tolist()
    [0, 10, 20, 30, 40]
    >>> cell_bounds(4, 10.0, (0.5, 1.0), 0.0, 1, 0.0).tolist()
    [0, 5, 15, 25, 35]
    """
    if cells == 1:
        return np.array([0, max(1, round(scale * edges[0]))])
    i = np.arange(cells + 1, dtype=np.float64)
    pos = (i - 1 + edges[0]) * scale
    pos += warp * scale * np.sin(math.pi * waves * i / cells + phase)
    pos[0] = 0.0
    pos[-1] = (cells - 2 + edges[0] + edges[1]) * scale
    bounds = np.rint(pos).astype(np.intp)
    # Keep every cell at least one pixel wide.
    for k in range(1, cells + 1):
        bounds[k] = max(bounds[k], bounds[k - 1] + 1)
    return bounds


def truth(sprite: Image.Image, params: DegradeParams) -> Image.Image:
    """The sprite the picture of ``params`` shows: ``sprite``, its contrast reduced.

    >>> sprite = Image.new("RGBA", (2, 1), (200, 100, 0, 255))
    >>> sprite.putpixel((1, 0), (0, 100, 200, 255))
    >>> truth(sprite, DegradeParams(1.0, 1.0, contrast=0.5, tint=(20, 60, 20))).getpixel((0, 0))
    (70, 60, 0, 255)
    """
    rgba = np.asarray(sprite.convert("RGBA"))
    if params.contrast == 1.0:
        return Image.fromarray(rgba.copy(), "RGBA")
    opaque = rgba[..., 3] > 0
    rgb = rgba[..., :3].astype(np.float64)
    mean = rgb[opaque].mean(axis=0) if opaque.any() else np.zeros(3)
    low = np.asarray(params.tint) + params.contrast * (rgb - mean)
    out = rgba.copy()
    out[..., :3] = np.clip(np.rint(low), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGBA")


def degrade(sprite: Image.Image, params: DegradeParams) -> Image.Image:
    """Draw ``sprite`` as a large, imperfect picture described by ``params``.

    The picture shows :func:`truth` of the sprite. Returns RGBA when
    ``params.background`` is None, else RGB. Deterministic: the noise comes
    from ``params.seed``.
    """
    rgba = np.asarray(truth(sprite, params))
    h, w = rgba.shape[:2]
    xb = cell_bounds(w, params.scale_x, params.edge_x, params.warp, params.warp_waves, 0.0)
    yb = cell_bounds(h, params.scale_y, params.edge_y, params.warp, params.warp_waves, 0.0)
    cols = np.searchsorted(xb, np.arange(xb[-1]), side="right") - 1
    rows = np.searchsorted(yb, np.arange(yb[-1]), side="right") - 1
    drawn = rgba[rows][:, cols]
    if params.half_rows is not None:
        # Blocks on a second lattice: these rows drawn half a cell to the right.
        top, bottom = (int(yb[min(h, round(f * h))]) for f in params.half_rows)
        half = round(params.scale_x / 2)
        drawn = drawn.copy()
        drawn[top:bottom, half:] = drawn[top:bottom, :-half].copy()
    big = Image.fromarray(np.ascontiguousarray(drawn), "RGBA")

    if params.background is not None:
        canvas = Image.new("RGBA", big.size, (*params.background, 255))
        big = Image.alpha_composite(canvas, big).convert("RGB")
    if params.blur > 0:
        big = big.filter(ImageFilter.GaussianBlur(params.blur))

    arr = np.asarray(big).astype(np.float64)
    if params.texture > 0:
        # Canvas grain: fine noise, blurred to the grain size, the same in every channel.
        grain_rng = np.random.default_rng([params.seed, 1])
        noise = np.clip(grain_rng.normal(128.0, 40.0, arr.shape[:2]), 0, 255).astype(np.uint8)
        blur = ImageFilter.GaussianBlur(params.texture_grain / 2)
        blurred = Image.fromarray(noise, "L").filter(blur)
        grain = np.asarray(blurred).astype(np.float64) - 128.0
        arr[..., :3] += (params.texture * grain / (grain.std() or 1.0))[..., None]
    if any(params.drift):
        ramp = np.linspace(-0.5, 0.5, arr.shape[1])[None, :, None]
        arr[..., :3] *= 1.0 + ramp * np.asarray(params.drift)[None, None, :]
    if params.noise > 0:
        rng = np.random.default_rng(params.seed)
        arr[..., :3] += rng.normal(0.0, params.noise, arr[..., :3].shape)
    out = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), big.mode)

    if params.jpeg_quality is not None:
        buf = io.BytesIO()
        out.convert("RGB").save(buf, format="JPEG", quality=params.jpeg_quality)
        buf.seek(0)
        with Image.open(buf) as jpeg:
            out = jpeg.convert(out.mode)
    return out
