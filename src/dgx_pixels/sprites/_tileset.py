"""A tileset asset: composed tiles -> sheet, tile files, painted preview and adjacency data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.assets import Terrain, TileInfo, Tileset
from dgx_pixels.pixel._arrays import opaque_mask, rgba_array
from dgx_pixels.sprites._asset import AssetBundle, build_asset
from dgx_pixels.sprites._autotile import TemplateSet, paint_map
from dgx_pixels.sprites._sheet import pack_sheet

__all__ = ["PREVIEW_MAP", "mean_colour", "tileset_asset"]

PREVIEW_MAP = "preview.png"
_COLUMNS = {"blob47": 8, "wang16": 4}


def mean_colour(image: Image.Image | None) -> str:
    """The mean colour of the opaque pixels as ``#rrggbb`` (``#000000`` when there are none).

    >>> from PIL import Image
    >>> mean_colour(Image.new("RGBA", (2, 2), (10, 20, 30, 255))), mean_colour(None)
    ('#0a141e', '#000000')
    """
    if image is None:
        return "#000000"
    a = rgba_array(image)
    rgb = a[opaque_mask(a)][:, :3]
    if rgb.size == 0:
        return "#000000"
    r, g, b = (int(v) for v in np.rint(rgb.mean(axis=0)))
    return f"#{r:02x}{g:02x}{b:02x}"


def tileset_asset(
    made: TemplateSet,
    *,
    name: str,
    terrain_names: tuple[str, str],
    base: Image.Image | None,
    preview_size: tuple[int, int] = (12, 8),
    seed: int = 0,
    request: Mapping[str, Any] | None = None,
    consistency: Mapping[str, Any] | None = None,
    palette: tuple[str, ...] | None = None,
) -> AssetBundle:
    """The asset of a composed tileset: every tile, its wangid, and a painted map."""
    tiles = list(made.tiles)
    packed = pack_sheet(tiles, columns=_COLUMNS[made.layout])
    data = Tileset(
        layout=made.layout,
        terrains=(
            Terrain(terrain_names[0], mean_colour(made.fill)),
            Terrain(terrain_names[1], mean_colour(base)),
        ),
        tiles=tuple(
            TileInfo(i, wangid, terrain)
            for i, (wangid, terrain) in enumerate(zip(made.wangids, made.terrains, strict=True))
        ),
    )
    painted = paint_map(
        made, layout=made.layout, columns=preview_size[0], rows=preview_size[1], seed=seed
    )
    return build_asset(
        kind="tileset",
        name=name,
        frames=tiles,
        frame_names=[f"tiles/{made.layout}_{i:02d}.png" for i in range(len(tiles))],
        packed=packed,
        durations_ms=[100] * len(tiles),
        pivot=(0, 0),
        tileset=data,
        previews={PREVIEW_MAP: painted.image},
        palette=palette,
        request=request,
        consistency=consistency,
    )
