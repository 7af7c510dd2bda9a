"""The asset store: generated sprites on disk with their metadata, and asset folders.

:func:`save_result` writes each image of a
:class:`~dgx_pixels.engine.GenerationResult` as four files (sprite, preview,
raw drawing, JSON sidecar) atomically; :func:`read_metadata` and
:func:`request_from_metadata` read an output back into the request that
reproduces it.

Sets (animations, tiles, tilesets, sheets) are asset folders described by a
:class:`Manifest` (``manifest.json``, format ``dgx-pixels/asset@1``, see
``docs/assets.md``): :func:`write_asset` publishes one atomically and
:func:`read_manifest` reads one back. Importing this package does not import torch.
"""

from __future__ import annotations

from dgx_pixels.assets._copy import CopiedOutputs, copy_asset, copy_outputs
from dgx_pixels.assets._folder import AssetData, encode_gif, write_asset
from dgx_pixels.assets._manifest import (
    ASSET_FORMAT,
    KINDS,
    LAYOUTS,
    MANIFEST_NAME,
    Frame,
    Manifest,
    Sheet,
    Tag,
    Terrain,
    TileInfo,
    Tileset,
    read_manifest,
)
from dgx_pixels.assets._metadata import (
    FORMAT,
    PNG_KEY,
    a1111_parameters,
    read_metadata,
    request_from_metadata,
)
from dgx_pixels.assets._store import (
    PREVIEW_SCALE,
    AssetFiles,
    asset_stem,
    check_free,
    planned_files,
    save_result,
    slugify,
)

__all__ = [
    "ASSET_FORMAT",
    "FORMAT",
    "KINDS",
    "LAYOUTS",
    "MANIFEST_NAME",
    "PNG_KEY",
    "PREVIEW_SCALE",
    "AssetData",
    "AssetFiles",
    "CopiedOutputs",
    "Frame",
    "Manifest",
    "Sheet",
    "Tag",
    "Terrain",
    "TileInfo",
    "Tileset",
    "a1111_parameters",
    "asset_stem",
    "check_free",
    "copy_asset",
    "copy_outputs",
    "encode_gif",
    "planned_files",
    "read_manifest",
    "read_metadata",
    "request_from_metadata",
    "save_result",
    "slugify",
    "write_asset",
]
