"""Autotile sets from an RPG Maker A2-style template, by quarter-tile assembly.

The template is 2 tiles wide and 3 high (``2T x 3T`` pixels, ``T`` even),
read in quarter tiles (``T/2`` squares, 4 columns x 6 rows)::

    quarter column   0    1    2    3
    row 0-1          icon (unused)  inner corners: (2,0) TL  (3,0) TR
                                                   (2,1) BL  (3,1) BR
    rows 2-5         a 2x2-tile patch of terrain A: outer corners at the four
                     corners, edges between them, the fill in the middle

Each quarter of a tile is taken from the template by its two orthogonal
neighbours and the diagonal between them, exactly as RPG Maker's floor
autotiles (MV/MZ ``FLOOR_AUTOTILE_TABLE``) do: a missing side picks the
border column/row, a present one the inside; both present with the diagonal
missing picks the inner corner.

Terrain A is what the template draws; terrain B is what lies around it: the
optional ``base`` tile (composited under every tile) or transparency.

Layouts (wangids in Tiled's order top, top-right, right, bottom-right, bottom,
bottom-left, left, top-left; terrain A is 1, B is 2):

- ``blob47``: the 47 tiles of terrain A by their 8 neighbours (a corner counts
  only when both sides beside it are A), in ascending order of the neighbour
  mask (N=1, NE=2, E=4, SE=8, S=16, SW=32, W=64, NW=128), then the plain B
  tile: 48 frames.
- ``wang16``: the 16 tiles by which of their corners are A (NE=1, SE=2,
  SW=4, NW=8), in that order: tile 0 is all B, tile 15 all A.

>>> len(blob_masks()), blob_masks()[:6], blob_masks()[-1]
(47, (0, 1, 4, 5, 7, 16), 255)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.pixel._arrays import U8, check_image, rgba_array, to_image

__all__ = [
    "TEMPLATE_LAYOUTS",
    "PaintedMap",
    "TemplateSet",
    "blob_masks",
    "blob_wangid",
    "paint_map",
    "reduce_mask",
    "template_tiles",
    "wang16_wangid",
]

TEMPLATE_LAYOUTS = ("blob47", "wang16")
N, NE, E, SE, S, SW, W, NW = 1, 2, 4, 8, 16, 32, 64, 128
A, B = 1, 2  # wang colours of the two terrains
MAX_TILE = 256


def reduce_mask(mask: int) -> int:
    """Drop the corners that do not count: a corner needs both sides beside it.

    >>> reduce_mask(N | NE), reduce_mask(N | NE | E)
    (1, 7)
    """
    out = mask & (N | E | S | W)
    for corner, a, b in ((NE, N, E), (SE, S, E), (SW, S, W), (NW, N, W)):
        if mask & corner and mask & a and mask & b:
            out |= corner
    return out


def blob_masks() -> tuple[int, ...]:
    """The 47 distinct blob neighbour masks, ascending."""
    return tuple(sorted({reduce_mask(m) for m in range(256)}))


def blob_wangid(mask: int) -> tuple[int, int, int, int, int, int, int, int]:
    """The Tiled wangid of the blob tile of ``mask`` (A = 1, B = 2).

    >>> blob_wangid(0), blob_wangid(N | NE | E)
    ((2, 2, 2, 2, 2, 2, 2, 2), (1, 1, 1, 2, 2, 2, 2, 2))
    """
    m = reduce_mask(mask)
    t, tr, r, br, b, bl, left, tl = (A if m & bit else B for bit in (N, NE, E, SE, S, SW, W, NW))
    return t, tr, r, br, b, bl, left, tl


def wang16_wangid(index: int) -> tuple[int, int, int, int, int, int, int, int]:
    """The Tiled corner wangid of wang16 tile ``index`` (corners NE=1, SE=2, SW=4, NW=8).

    >>> wang16_wangid(0), wang16_wangid(1 | 8)
    ((0, 2, 0, 2, 0, 2, 0, 2), (0, 1, 0, 2, 0, 2, 0, 1))
    """
    tr, br, bl, tl = (A if index & bit else B for bit in (1, 2, 4, 8))
    return 0, tr, 0, br, 0, bl, 0, tl


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """The tiles composed from a template, in layout order, with their adjacency."""

    layout: str
    tiles: tuple[Image.Image, ...]
    wangids: tuple[tuple[int, int, int, int, int, int, int, int], ...]
    terrains: tuple[int, ...]  # each tile's own (centre) terrain; 0 for wang16
    keys: tuple[int, ...]  # the blob mask or the wang16 corner index of each tile
    fill: Image.Image  # a plain terrain-A tile, for display colours


def _quarter_source(quarter: str, side: bool, vertical: bool, diagonal: bool) -> tuple[int, int]:
    """Which template quarter (column, row) a tile quarter takes, RPG Maker's rule."""
    left, top = quarter[1] == "L", quarter[0] == "T"
    if side and vertical and not diagonal:
        return (2 if left else 3), (0 if top else 1)
    column = (2 if side else 0) if left else (1 if side else 3)
    row = (2 if vertical else 0) if top else (1 if vertical else 3)
    return column, row + 2


def _check_template(template: Image.Image) -> int:
    check_image(template, name="template")
    w, h = template.size
    tile = w // 2
    if w % 2 or h * 2 != w * 3 or tile % 2 or not 2 <= tile <= MAX_TILE:
        raise InputError(
            "a template is 2 tiles wide and 3 high, with an even tile side up to "
            f"{MAX_TILE} (for example 64x96 for 32x32 tiles), got {w}x{h}"
        )
    return tile


def template_tiles(
    template: Image.Image, *, layout: str, base: Image.Image | None = None
) -> TemplateSet:
    """Compose every tile of ``layout`` from an A2-style ``template``.

    Parameters
    ----------
    template : PIL.Image.Image
        ``2T x 3T`` pixels (see the module docstring).
    layout : {"blob47", "wang16"}
    base : PIL.Image.Image, optional
        A ``T x T`` tile of terrain B, drawn under every tile; without it
        terrain B is transparent (an overlay set, as RPG Maker layers them).

    Examples
    --------
    >>> t = Image.new("RGBA", (8, 12), (10, 200, 10, 255))
    >>> s = template_tiles(t, layout="wang16")
    >>> len(s.tiles), s.tiles[0].getpixel((0, 0)), s.tiles[15].size
    (16, (0, 0, 0, 0), (4, 4))
    """
    # 1. Inputs.
    tile = _check_template(template)
    if layout not in TEMPLATE_LAYOUTS:
        raise InputError(f"layout must be blob47 or wang16, got {layout!r}")
    if base is not None:
        check_image(base, name="base")
        if base.size != (tile, tile):
            raise InputError(
                f"the base tile must be {tile}x{tile} like the template's tiles, "
                f"got {base.width}x{base.height}"
            )
    q = tile // 2
    src = rgba_array(template)
    ground = rgba_array(base) if base is not None else np.zeros((tile, tile, 4), dtype=np.uint8)

    def piece(column: int, row: int) -> U8:
        return src[row * q : (row + 1) * q, column * q : (column + 1) * q]

    def over_ground(a: U8) -> Image.Image:
        return Image.alpha_composite(to_image(ground), to_image(a))

    # 2. The tiles.
    tiles: list[Image.Image] = []
    wangids = []
    terrains: list[int] = []
    keys: list[int] = []
    if layout == "blob47":
        for mask in blob_masks():
            out = np.zeros((tile, tile, 4), dtype=np.uint8)
            for quarter, (y, x), (side, vert, diag) in (
                ("TL", (0, 0), (W, N, NW)),
                ("TR", (0, q), (E, N, NE)),
                ("BL", (q, 0), (W, S, SW)),
                ("BR", (q, q), (E, S, SE)),
            ):
                c, r = _quarter_source(
                    quarter, bool(mask & side), bool(mask & vert), bool(mask & diag)
                )
                out[y : y + q, x : x + q] = piece(c, r)
            tiles.append(over_ground(out))
            wangids.append(blob_wangid(mask))
            terrains.append(A)
            keys.append(mask)
        tiles.append(to_image(ground))
        wangids.append((B,) * 8)
        terrains.append(B)
        keys.append(-1)
    else:
        for index in range(16):
            ne, se, sw, nw = (bool(index & bit) for bit in (1, 2, 4, 8))
            out = np.zeros((tile, tile, 4), dtype=np.uint8)
            # A tile quarter lies in the cell of its corner's terrain: it is the opposite
            # quarter of that cell, whose neighbours are the tile's other corners.
            for corner, (y, x), quarter, (side, vert, diag) in (
                (nw, (0, 0), "BR", (ne, sw, se)),
                (ne, (0, q), "BL", (nw, se, sw)),
                (sw, (q, 0), "TR", (se, nw, ne)),
                (se, (q, q), "TL", (sw, ne, nw)),
            ):
                if corner:
                    c, r = _quarter_source(quarter, side, vert, diag)
                    out[y : y + q, x : x + q] = piece(c, r)
            tiles.append(over_ground(out))
            wangids.append(wang16_wangid(index))
            terrains.append(0)
            keys.append(index)
    fill = np.concatenate(
        [
            np.concatenate([piece(2, 4), piece(1, 4)], 1),
            np.concatenate([piece(2, 3), piece(1, 3)], 1),
        ]
    )
    return TemplateSet(
        layout=layout,
        tiles=tuple(tiles),
        wangids=tuple(wangids),
        terrains=tuple(terrains),
        keys=tuple(keys),
        fill=over_ground(fill),
    )


@dataclass(frozen=True, slots=True)
class PaintedMap:
    """A map painted with a tileset: the picture and the tile index of each cell."""

    image: Image.Image
    indices: tuple[tuple[int, ...], ...]  # rows of tile indices
    terrain: tuple[tuple[bool, ...], ...]  # the random terrain it was painted from


def _random_terrain(rows: int, columns: int, seed: int) -> np.ndarray:
    """Blobs of terrain A: seeded noise, smoothed once by a 3x3 majority."""
    rng = np.random.default_rng(seed)
    grid = rng.random((rows, columns)) < 0.5
    for _ in range(1):
        padded = np.pad(grid.astype(int), 1, mode="edge")
        votes = np.zeros((rows, columns), dtype=int)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                votes += padded[1 + dy : 1 + dy + rows, 1 + dx : 1 + dx + columns]
        grid = votes >= 5
    return grid


def paint_map(
    tileset: TemplateSet | Sequence[Image.Image],
    *,
    layout: str,
    columns: int = 12,
    rows: int = 8,
    seed: int = 0,
) -> PaintedMap:
    """Paint a random map with a tileset by its adjacency rules.

    ``blob47``: each cell is terrain A or B; an A cell takes the tile of its
    neighbour mask (cells beyond the map repeat the edge), a B cell the plain
    B tile. ``wang16``: each grid vertex is A or B and a tile takes its four
    corners. Tiles are in the order :func:`template_tiles` returns them.
    """
    tiles = tileset.tiles if isinstance(tileset, TemplateSet) else tuple(tileset)
    if layout not in TEMPLATE_LAYOUTS:
        raise InputError(f"layout must be blob47 or wang16, got {layout!r}")
    if len(tiles) != (48 if layout == "blob47" else 16):
        raise InputError(
            f"a {layout} set has {48 if layout == 'blob47' else 16} tiles, got {len(tiles)}"
        )
    if not (1 <= columns <= 64 and 1 <= rows <= 64):
        raise InputError(f"a preview map is 1-64 tiles a side, got {columns}x{rows}")
    w, h = tiles[0].size
    canvas = Image.new("RGBA", (columns * w, rows * h))
    indices: list[list[int]] = []
    if layout == "blob47":
        terrain = _random_terrain(rows, columns, seed)
        padded = np.pad(terrain, 1, mode="edge")
        position = {mask: i for i, mask in enumerate(blob_masks())}
        offsets = (
            (N, -1, 0),
            (NE, -1, 1),
            (E, 0, 1),
            (SE, 1, 1),
            (S, 1, 0),
            (SW, 1, -1),
            (W, 0, -1),
            (NW, -1, -1),
        )
        for y in range(rows):
            row = []
            for x in range(columns):
                if not terrain[y, x]:
                    row.append(47)
                    continue
                mask = sum(bit for bit, dy, dx in offsets if padded[1 + y + dy, 1 + x + dx])
                row.append(position[reduce_mask(mask)])
            indices.append(row)
    else:
        terrain = _random_terrain(rows + 1, columns + 1, seed)
        for y in range(rows):
            indices.append(
                [
                    int(terrain[y, x + 1]) * 1
                    + int(terrain[y + 1, x + 1]) * 2
                    + int(terrain[y + 1, x]) * 4
                    + int(terrain[y, x]) * 8
                    for x in range(columns)
                ]
            )
    for y, row in enumerate(indices):
        for x, index in enumerate(row):
            canvas.paste(tiles[index], (x * w, y * h))
    return PaintedMap(
        image=canvas,
        indices=tuple(tuple(r) for r in indices),
        terrain=tuple(tuple(bool(v) for v in r) for r in terrain),
    )
