"""The asset store: generated sprites on disk with their metadata.

:func:`save_result` writes each image of a
:class:`~dgx_pixels.engine.GenerationResult` as four files (sprite, preview,
raw drawing, JSON sidecar) atomically; :func:`read_metadata` and
:func:`request_from_metadata` read an output back into the request that
reproduces it. Importing this package does not import torch.
"""

from __future__ import annotations

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
    "FORMAT",
    "PNG_KEY",
    "PREVIEW_SCALE",
    "AssetFiles",
    "a1111_parameters",
    "asset_stem",
    "check_free",
    "planned_files",
    "read_metadata",
    "request_from_metadata",
    "save_result",
    "slugify",
]
