"""The public surface of dgx_pixels.sprites is what we meant it to be."""

from __future__ import annotations

import dgx_pixels.sprites as sprites


def test_public_api() -> None:
    assert set(sprites.__all__) == {
        "DIRECTIONS", "EFFECTS", "PACKINGS", "AssetBundle", "Effect", "PackedSheet",
        "animation_asset", "animation_consistency", "build_asset", "effect_frames",
        "feet_pivot", "foot_point", "opaque_bbox", "pack_sheet", "palette_of", "preview_gif",
        "TEMPLATE_LAYOUTS", "PaintedMap", "TemplateSet", "blob_masks", "blob_wangid",
        "paint_map", "reduce_mask", "template_tiles", "wang16_wangid", "mean_colour",
        "tileset_asset", "SeamlessTiles", "make_tiles", "seam_measure", "tiles_asset",
        "tiles_preview", "ACTIONS", "animation_prompt", "make_animation",
        "GeneratedTerrain", "make_terrain_set", "mask_template", "check_preview",
        "SET_OPTIONS", "SET_TASKS", "SetPlan", "plan_set", "set_request", "terrain_names",
    }  # fmt: skip


def test_the_cli_lists_every_effect() -> None:
    from dgx_pixels.cli._animate import _EFFECT_NAMES

    assert tuple(sprites.EFFECTS) == _EFFECT_NAMES
