"""Game sprite sets: sheets, animations, seamless tiles, autotile tilesets.

Model-free operations are pure functions over images, like ``pixel/``:

- :func:`pack_sheet` packs frames into one atlas (grid or tight, padding,
  extrusion, power of two, trimming).
- :func:`effect_frames` makes the frames of a model-free effect (:data:`EFFECTS`)
  from one sprite; :func:`animation_asset` turns frames by direction into an
  animation asset with its consistency measures (:func:`animation_consistency`).
- :func:`template_tiles` composes a ``blob47`` or ``wang16`` autotile set from
  an RPG Maker A2-style template by quarter-tile assembly; :func:`paint_map`
  paints a random map with a set by its adjacency rules; :func:`tileset_asset`
  makes the tileset asset with its wangids.
- :func:`build_asset` turns frames and their sheet into an asset folder's
  :class:`~dgx_pixels.assets.Manifest` and files (``docs/assets.md``).

Generated sets call the engine through its public interface only:

- :func:`make_animation` draws the frames of an action in 1, 4 or 8
  directions, one canvas per direction, in one palette.
- :func:`make_tiles` draws seamless tiles and variants that share palette and
  edges; :func:`tiles_asset` writes them with a seam measure per tile.
- :func:`make_terrain_set` generates a tileset: terrain A over terrain B.
- :func:`plan_set` checks a generated set (request and options, in one place
  for the commands and the worker's set jobs); :meth:`SetPlan.make` draws it
  into one asset, reporting each frame, tile or drawing as it is made.

Importing this package does not import torch.
"""

from __future__ import annotations

from dgx_pixels.sprites._animation import (
    DIRECTIONS,
    animation_asset,
    check_preview,
    preview_gif,
)
from dgx_pixels.sprites._asset import AssetBundle, build_asset, feet_pivot, palette_of
from dgx_pixels.sprites._autotile import (
    TEMPLATE_LAYOUTS,
    PaintedMap,
    TemplateSet,
    blob_masks,
    blob_wangid,
    paint_map,
    reduce_mask,
    template_tiles,
    wang16_wangid,
)
from dgx_pixels.sprites._consistency import animation_consistency
from dgx_pixels.sprites._effects import EFFECTS, Effect, effect_frames, foot_point
from dgx_pixels.sprites._generated import ACTIONS, animation_prompt, make_animation
from dgx_pixels.sprites._sets import (
    SET_OPTIONS,
    SET_TASKS,
    SetPlan,
    plan_set,
    set_request,
    terrain_names,
)
from dgx_pixels.sprites._sheet import PACKINGS, PackedSheet, opaque_bbox, pack_sheet
from dgx_pixels.sprites._terrain import GeneratedTerrain, make_terrain_set, mask_template
from dgx_pixels.sprites._tiles import (
    SeamlessTiles,
    make_tiles,
    seam_measure,
    tiles_asset,
    tiles_preview,
)
from dgx_pixels.sprites._tileset import mean_colour, tileset_asset

__all__ = [
    "ACTIONS",
    "DIRECTIONS",
    "EFFECTS",
    "PACKINGS",
    "SET_OPTIONS",
    "SET_TASKS",
    "TEMPLATE_LAYOUTS",
    "AssetBundle",
    "Effect",
    "GeneratedTerrain",
    "PackedSheet",
    "PaintedMap",
    "SeamlessTiles",
    "SetPlan",
    "TemplateSet",
    "animation_asset",
    "animation_consistency",
    "animation_prompt",
    "blob_masks",
    "blob_wangid",
    "build_asset",
    "check_preview",
    "effect_frames",
    "feet_pivot",
    "foot_point",
    "make_animation",
    "make_terrain_set",
    "make_tiles",
    "mask_template",
    "mean_colour",
    "opaque_bbox",
    "pack_sheet",
    "paint_map",
    "palette_of",
    "plan_set",
    "preview_gif",
    "reduce_mask",
    "seam_measure",
    "set_request",
    "template_tiles",
    "terrain_names",
    "tiles_asset",
    "tiles_preview",
    "tileset_asset",
    "wang16_wangid",
]
