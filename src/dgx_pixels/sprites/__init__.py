"""Game sprite sets: sheets, animations, seamless tiles, autotile tilesets.

Model-free operations are pure functions over images, like ``pixel/``:

- :func:`pack_sheet` packs frames into one atlas (grid or tight, padding,
  extrusion, power of two, trimming).
- :func:`effect_frames` makes the frames of a model-free effect (:data:`EFFECTS`)
  from one sprite; :func:`animation_asset` turns frames by direction into an
  animation asset with its consistency measures (:func:`animation_consistency`).
- :func:`build_asset` turns frames and their sheet into an asset folder's
  :class:`~dgx_pixels.assets.Manifest` and files (``docs/assets.md``).

Importing this package does not import torch.
"""

from __future__ import annotations

from dgx_pixels.sprites._animation import DIRECTIONS, animation_asset, preview_gif
from dgx_pixels.sprites._asset import AssetBundle, build_asset, feet_pivot, palette_of
from dgx_pixels.sprites._consistency import animation_consistency
from dgx_pixels.sprites._effects import EFFECTS, Effect, effect_frames, foot_point
from dgx_pixels.sprites._sheet import PACKINGS, PackedSheet, opaque_bbox, pack_sheet

__all__ = [
    "DIRECTIONS",
    "EFFECTS",
    "PACKINGS",
    "AssetBundle",
    "Effect",
    "PackedSheet",
    "animation_asset",
    "animation_consistency",
    "build_asset",
    "effect_frames",
    "feet_pivot",
    "foot_point",
    "opaque_bbox",
    "pack_sheet",
    "palette_of",
    "preview_gif",
]
