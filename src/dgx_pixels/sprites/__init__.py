"""Game sprite sets: sheets, animations, seamless tiles, autotile tilesets.

Model-free operations are pure functions over images, like ``pixel/``:

- :func:`pack_sheet` packs frames into one atlas (grid or tight, padding,
  extrusion, power of two, trimming).
- :func:`build_asset` turns frames and their sheet into an asset folder's
  :class:`~dgx_pixels.assets.Manifest` and files (``docs/assets.md``).

Importing this package does not import torch.
"""

from __future__ import annotations

from dgx_pixels.sprites._asset import AssetBundle, build_asset, feet_pivot, palette_of
from dgx_pixels.sprites._sheet import PACKINGS, PackedSheet, opaque_bbox, pack_sheet

__all__ = [
    "PACKINGS",
    "AssetBundle",
    "PackedSheet",
    "build_asset",
    "feet_pivot",
    "opaque_bbox",
    "pack_sheet",
    "palette_of",
]
