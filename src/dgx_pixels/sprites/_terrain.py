"""Generated tilesets: terrain A over terrain B from two prompts, in one palette.

1. **Two seamless textures**, one per terrain, drawn on a torus
   (:func:`~dgx_pixels.sprites.make_tiles`); each gets half the palette's
   colours and the union is the set's one locked palette.
2. **A template by mask.** :func:`mask_template` is an A2-style template of
   where terrain A lies: a rounded patch whose border crosses every quarter
   line at the same depth, so any two pieces that can meet agree along their
   shared line. The two textures are composited by it, at the tile grid's
   phase.
3. **Transitions by inpainting** a band along the border, leaving a margin
   along every quarter line untouched (pixels outside the band are put back
   exactly), so the pieces still agree where they meet.
4. **Quarter assembly** (:func:`~dgx_pixels.sprites.template_tiles`) makes
   the ``blob47`` or ``wang16`` set from that template, terrain B under it.

The engine is used through its public interface only (``Engine.generate``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.image_files import write_png
from dgx_pixels.pixel._arrays import rgba_array, to_image
from dgx_pixels.request import GenerationRequest
from dgx_pixels.sprites._autotile import TemplateSet, template_tiles
from dgx_pixels.sprites._tiles import make_tiles

__all__ = ["GeneratedTerrain", "make_terrain_set", "mask_template"]


def mask_template(tile: int) -> np.ndarray:
    """Where terrain A lies in an A2 template for ``tile``-pixel tiles (``3T x 2T`` booleans).

    The border runs at depth ``T/4`` inside every outer side of the patch and
    rounds its outer corners; an inner corner is a ``T/4`` square notch.

    >>> m = mask_template(8)
    >>> m.shape, bool(m[8:, :].any()), bool(m[8, 0]), bool(m[12, 4])
    ((24, 16), True, False, True)
    """
    if tile % 4 or tile < 4:
        raise InputError(f"a generated tileset's tile side must be a multiple of 4, got {tile}")
    q = tile // 2
    d = max(1, tile // 4)
    r = max(
        1, q - d
    )  # the corner radius, so the curve meets the straight sides at the quarter line
    yy, xx = np.mgrid[0:q, 0:q] + 0.5

    def outer() -> np.ndarray:  # a top-left outer corner quarter: A away from both outer sides
        inside = (xx >= d) & (yy >= d)
        cx = cy = d + r
        corner = (xx < cx) & (yy < cy)
        piece: np.ndarray = inside & (~corner | ((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r))
        return piece

    tl = outer()
    edge_top = np.broadcast_to(yy >= d, (q, q))
    full = np.ones((q, q), dtype=bool)
    inner_tl = ~((xx < d) & (yy < d))  # B only in a square notch at the top-left corner

    def turned(piece: np.ndarray, quarter: str) -> np.ndarray:
        """A top-left piece flipped to the quarter it serves."""
        out = piece
        if quarter[1] == "R":
            out = out[:, ::-1]
        if quarter[0] == "B":
            out = out[::-1, :]
        return np.ascontiguousarray(out)

    m = np.zeros((3 * tile, 2 * tile), dtype=bool)

    def put(column: int, row: int, piece: np.ndarray) -> None:
        m[row * q : (row + 1) * q, column * q : (column + 1) * q] = piece

    for column, row, quarter in ((0, 0, "TL"), (1, 0, "TR"), (0, 1, "BL"), (1, 1, "BR")):
        put(column, row, turned(tl, quarter))  # the icon: an island
    for column, row, quarter in ((2, 0, "TL"), (3, 0, "TR"), (2, 1, "BL"), (3, 1, "BR")):
        put(column, row, turned(inner_tl, quarter))
    for by in range(4):
        for bx in range(4):
            quarter = ("T" if by in (0, 1) else "B") + ("L" if bx in (0, 1) else "R")
            x_border, y_border = bx in (0, 3), by in (0, 3)
            if x_border and y_border:
                piece = turned(tl, quarter)
            elif y_border:
                piece = turned(edge_top, quarter)
            elif x_border:
                piece = turned(np.ascontiguousarray(edge_top.T), quarter)
            else:
                piece = full
            put(bx, by + 2, piece)
    return m


def _band(mask: np.ndarray, tile: int) -> np.ndarray:
    """Pixels within 1 px of the A/B border, away from every quarter line by 1 px."""
    border = np.zeros_like(mask)
    border[:, 1:] |= mask[:, 1:] != mask[:, :-1]
    border[:, :-1] |= mask[:, 1:] != mask[:, :-1]
    border[1:] |= mask[1:] != mask[:-1]
    border[:-1] |= mask[1:] != mask[:-1]
    grown = border.copy()
    grown[1:] |= border[:-1]
    grown[:-1] |= border[1:]
    grown[:, 1:] |= border[:, :-1]
    grown[:, :-1] |= border[:, 1:]
    q = tile // 2
    h, w = mask.shape
    keep = np.zeros_like(mask)
    for x in range(0, w + 1, q):
        keep[:, max(0, x - 1) : x + 1] = True
    for y in range(0, h + 1, q):
        keep[max(0, y - 1) : y + 1] = True
    band: np.ndarray = grown & ~keep
    return band


@dataclass(frozen=True, slots=True)
class GeneratedTerrain:
    """A generated tileset: the tiles, the template they came from, the two textures."""

    tiles: TemplateSet
    template: Image.Image
    textures: tuple[Image.Image, Image.Image]
    palette: str
    requests: tuple[GenerationRequest, ...]


def make_terrain_set(
    engine: Any,
    request: GenerationRequest,
    *,
    over: str,
    layout: str,
    on_step: Callable[[Any], None] | None = None,
) -> GeneratedTerrain:
    """Terrain ``request.prompt`` over terrain ``over``, as a ``layout`` set of
    ``request.size`` tiles."""
    w, h = request.size
    if w != h:
        raise InputError(f"tiles of a tileset are square, got {w}x{h}")
    template_mask = mask_template(w)  # checks the side
    if not over.strip() or len(over) > 500:
        raise InputError(f"--over must be 1-500 characters, got {len(over)}")
    # 1. Two seamless textures; their palettes joined into the set's one palette.
    half = request.palette or "auto:8"
    a = make_tiles(engine, request.replace(seamless="xy", palette=half), count=1, on_step=on_step)
    b_request = request.replace(prompt=over, seamless="xy", palette=half)
    b = make_tiles(engine, b_request, count=1, on_step=on_step)
    texture_a, texture_b = a.tiles[0], b.tiles[0]
    colours = sorted({c for t in (texture_a, texture_b) for c in _hex_colours(t)})
    palette = ",".join(colours)
    # 2. The template: the textures composited by the mask, at the tiles' phase.
    ta = np.tile(rgba_array(texture_a), (3, 2, 1))
    tb = np.tile(rgba_array(texture_b), (3, 2, 1))
    composite = np.where(template_mask[..., None], ta, tb)
    band = _band(template_mask, w)
    # 3. Transitions: inpaint the band in the set's palette; everything else exactly kept.
    inpaint = request.replace(
        prompt=f"{request.prompt} meeting {over}, terrain transition",
        size=(2 * w, 3 * h),
        count=1,
        palette=palette,
        seamless="none",
        strength=0.9,
    )
    with tempfile.TemporaryDirectory(prefix="dgx-pixels-tileset-") as tmp:
        init = write_png(to_image(composite).convert("RGB"), Path(tmp) / "template.png")
        mask = write_png(Image.fromarray((band * 255).astype(np.uint8)), Path(tmp) / "band.png")
        inpaint = inpaint.replace(init=str(init), mask=str(mask))
        [result] = engine.generate([inpaint], on_step=on_step)
    drawn = rgba_array(result.images[0].sprite)
    drawn[..., 3] = 255
    template = np.where(band[..., None], drawn, composite)
    template_image = to_image(template)
    # 4. Quarter assembly.
    made = template_tiles(template_image, layout=layout, base=texture_b)
    return GeneratedTerrain(
        tiles=made,
        template=template_image,
        textures=(texture_a, texture_b),
        palette=palette,
        requests=(a.request, b.request, inpaint.replace(init=None, mask=None)),
    )


def _hex_colours(image: Image.Image) -> set[str]:
    a = rgba_array(image)
    rgb = a[a[..., 3] >= 128][:, :3]
    return {f"#{r:02x}{g:02x}{b:02x}" for r, g, b in np.unique(rgb, axis=0).tolist()}
