"""Tiled: a ``.tsx`` tileset (with a wangset for autotiles) and, for tilesets, an example map.

Files follow the TMX format reference
(https://doc.mapeditor.org/en/stable/reference/tmx-map-format/):

``NAME.tsx``
    ``<tileset>`` with ``tilewidth``, ``tileheight``, ``spacing``, ``margin``,
    ``tilecount``, ``columns`` and the sheet as ``<image>``. A tileset gets a
    ``<wangset>``: ``type="corner"`` for wang16, ``"mixed"`` for blob47, one
    ``<wangcolor>`` per terrain and a ``<wangtile tileid= wangid=>`` per tile
    (eight values: top, top-right, right, bottom-right, bottom, bottom-left,
    left, top-left; 0 unset, colours from 1). An animation's clips become tile
    animations (``<animation><frame tileid= duration=>``) on each clip's
    first tile.
``NAME.tmx`` (tilesets)
    An example map painted with the wangset, every cell the tile whose wangid
    fits its neighbours, so the set can be seen (and checked) working in
    Tiled at once: wang16, a pond of the second terrain in a field of the
    first; blob47, an island of the set's own terrain, the cells around it
    the plain tile of the other terrain (empty where the set has none).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections import Counter

from dgx_pixels.export._asset import Asset, Tileset
from dgx_pixels.export._target import Place, sheet_bytes
from dgx_pixels.export._writer import OutFile

__all__ = ["SUFFIX", "example_terrain", "paint_map", "plan"]

#: The main file a ``-o`` path may name.
SUFFIX = ".tsx"
_VERSION, _TILED = "1.10", "1.10.2"
_WANG_TYPE = {"wang16": "corner", "blob47": "mixed"}
#: The example map's size in tiles.
MAP_SIZE = (12, 10)


def plan(asset: Asset, place: Place) -> list[OutFile]:
    """The sheet, the ``.tsx`` and (for tilesets) an example ``.tmx``."""
    image = f"{place.stem}.png"
    tsx = f"{place.stem}{SUFFIX}"
    files = [
        OutFile(place.folder / image, sheet_bytes(asset), "sheet"),
        OutFile(place.folder / tsx, _tsx(asset, place.stem, image), _summary(asset)),
    ]
    if asset.tileset is not None:
        gids, missing = paint_map(asset, *MAP_SIZE)
        note = "example map" + (f", {missing} cells without a fitting tile" if missing else "")
        files.append(OutFile(place.folder / f"{place.stem}.tmx", _tmx(asset, tsx, gids), note))
    return files


def _summary(asset: Asset) -> str:
    if asset.tileset is not None:
        return f"tileset, {_WANG_TYPE[asset.tileset.layout]} wangset"
    return "tileset" + (f", {len(asset.tags)} tile animations" if asset.tags else "")


def _tile_ids(asset: Asset) -> list[int]:
    """Each frame's tile id: its cell on the sheet grid, as Tiled numbers them."""
    ids = []
    for i in range(len(asset.frames)):
        index = asset.grid_index(i)
        ids.append(i if index is None else index)  # composed sheets are grids: never None
    return ids


def _tsx(asset: Asset, name: str, image: str) -> bytes:
    w, h = asset.cell
    root = ET.Element(
        "tileset",
        version=_VERSION,
        tiledversion=_TILED,
        name=name,
        tilewidth=str(w),
        tileheight=str(h),
        spacing=str(asset.padding[0]),
        margin=str(asset.offset[0]),
        tilecount=str(asset.columns * asset.rows),
        columns=str(asset.columns),
    )
    ET.SubElement(
        root,
        "image",
        source=image,
        width=str(asset.sheet.width),
        height=str(asset.sheet.height),
    )
    ids = _tile_ids(asset)
    done: set[int] = set()
    for tag in asset.tags:
        first = ids[tag.first]
        if first in done:
            continue
        done.add(first)
        element = ET.SubElement(root, "tile", id=str(first))
        ET.SubElement(element, "properties").append(
            ET.Element("property", name="clip", value=tag.name)
        )
        animation = ET.SubElement(element, "animation")
        for i in range(tag.first, tag.last + 1):
            ET.SubElement(
                animation, "frame", tileid=str(ids[i]), duration=str(asset.frames[i].duration_ms)
            )
    if asset.tileset is not None:
        wangsets = ET.SubElement(root, "wangsets")
        wangset = ET.SubElement(
            wangsets, "wangset", name=name, type=_WANG_TYPE[asset.tileset.layout], tile="-1"
        )
        for terrain in asset.tileset.terrains:
            colour = {"name": terrain.name, "color": terrain.color, "tile": "-1"}
            ET.SubElement(wangset, "wangcolor", colour, probability="1")
        for tile in asset.tileset.tiles:
            wangid = ",".join(map(str, tile.wangid))
            ET.SubElement(wangset, "wangtile", tileid=str(ids[tile.index]), wangid=wangid)
    return _xml(root)


def example_terrain(width: int, height: int, inside: int = 2, outside: int = 1) -> list[list[int]]:
    """A ``height`` x ``width`` map of terrains: ``inside`` in an oval, ``outside`` around it."""
    cx, cy = (width - 1) / 2, (height - 1) / 2
    rx, ry = max(1.0, width / 3), max(1.0, height / 3)
    return [
        [inside if math.hypot((x - cx) / rx, (y - cy) / ry) <= 1 else outside for x in range(width)]
        for y in range(height)
    ]


def paint_map(asset: Asset, width: int, height: int) -> tuple[list[list[int]], int]:
    """The example map's gids (0 = empty) and how many cells no tile fits.

    wang16: the terrain grid gives the corners, one value per vertex. blob47:
    it gives each cell's terrain; a cell of the set's own terrain takes the
    tile whose sides and corners match its neighbours (a corner counts only
    where both sides beside it do, the blob rule), a cell of the other
    terrain the plain tile of that terrain, where the set has one.
    """
    tileset = asset.tileset
    assert tileset is not None
    ids = _tile_ids(asset)
    by_wangid: dict[tuple[int, tuple[int, ...]], int] = {}
    for tile in tileset.tiles:
        by_wangid.setdefault((_centre(tile.terrain, tileset), tile.wangid), ids[tile.index] + 1)
    gids = [[0] * width for _ in range(height)]
    missing = 0
    if tileset.layout == "wang16":
        v = example_terrain(width + 1, height + 1)
        for y in range(height):
            for x in range(width):
                tl, tr, br, bl = v[y][x], v[y][x + 1], v[y + 1][x + 1], v[y + 1][x]
                gid = by_wangid.get((0, (0, tr, 0, br, 0, bl, 0, tl)), 0)
                gids[y][x] = gid
                missing += gid == 0
        return gids, missing
    own = Counter(_centre(t.terrain, tileset) for t in tileset.tiles).most_common(1)[0][0]
    other = next((n for n in range(1, len(tileset.terrains) + 1) if n != own), own)
    cells = example_terrain(width, height, inside=own, outside=other)
    for y in range(height):
        for x in range(width):
            wangid = _blob_wangid(cells, x, y, own, other)
            gid = by_wangid.get((cells[y][x], wangid), 0)
            gids[y][x] = gid
            missing += gid == 0 and _has_centre(tileset, cells[y][x])
    return gids, missing


def _centre(terrain: int, tileset: Tileset) -> int:
    """A tile's own terrain: the manifest's; a blob tile without one is of the first terrain."""
    if tileset.layout == "wang16":
        return 0
    return terrain or 1


def _has_centre(tileset: Tileset, terrain: int) -> bool:
    return any(_centre(t.terrain, tileset) == terrain for t in tileset.tiles)


def _blob_wangid(
    cells: list[list[int]], x: int, y: int, own: int, other: int
) -> tuple[int, int, int, int, int, int, int, int]:
    """The blob wangid of cell ``x, y``: a side is ``own`` where both cells are, a
    corner where all four around it are; a cell of the other terrain is that
    terrain all round (blob sets draw the whole transition inside their own tiles)."""
    if cells[y][x] != own:
        return (other, other, other, other, other, other, other, other)

    def is_own(dx: int, dy: int) -> bool:
        nx, ny = x + dx, y + dy
        if 0 <= ny < len(cells) and 0 <= nx < len(cells[0]):
            return cells[ny][nx] == own
        return True  # beyond the edge: more of the same

    def value(*offsets: tuple[int, int]) -> int:
        return own if all(is_own(dx, dy) for dx, dy in offsets) else other

    top, right, bottom, left = (0, -1), (1, 0), (0, 1), (-1, 0)
    return (
        value(top),
        value(top, right, (1, -1)),
        value(right),
        value(bottom, right, (1, 1)),
        value(bottom),
        value(bottom, left, (-1, 1)),
        value(left),
        value(top, left, (-1, -1)),
    )


def _tmx(asset: Asset, tsx: str, gids: list[list[int]]) -> bytes:
    w, h = asset.cell
    height, width = len(gids), len(gids[0])
    root = ET.Element(
        "map",
        version=_VERSION,
        tiledversion=_TILED,
        orientation="orthogonal",
        renderorder="right-down",
        width=str(width),
        height=str(height),
        tilewidth=str(w),
        tileheight=str(h),
        infinite="0",
        nextlayerid="2",
        nextobjectid="1",
    )
    ET.SubElement(root, "tileset", firstgid="1", source=tsx)
    layer = ET.SubElement(
        root, "layer", id="1", name="terrain", width=str(width), height=str(height)
    )
    data = ET.SubElement(layer, "data", encoding="csv")
    data.text = "\n" + ",\n".join(",".join(map(str, row)) for row in gids) + "\n"
    return _xml(root)


def _xml(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    text: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return text + b"\n"
