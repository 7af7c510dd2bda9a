"""Export finished assets into game engines and tools.

``export`` reads finished assets (a sprite's PNG and sidecar, a set's
``manifest.json``) and writes the files an engine or tool loads as they are.
It never imports the engine. Each target is one module with one
``plan(asset, place)`` function that says which files an asset becomes;
:func:`write_files` is the only thing that writes them, confined to the
target folder, never replacing a file without ``force``, always atomically.

Targets, one module each: ``bevy``, ``godot``, ``aseprite``, ``tiled``,
``texturepacker`` (each format's details live beside its writer, and in
``docs/export.md``).

Errors come from :mod:`dgx_pixels.errors`::

    InputError          a bad asset, target or path (a name or link leaving the folder)
    OutputExistsError   a file would change and --force was not given
    DgxPixelsError      the disk refused a write (a read-only folder)
"""

from __future__ import annotations

from dgx_pixels.export._asset import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    Asset,
    Frame,
    Tag,
    Terrain,
    Tile,
    Tileset,
    load_asset,
)
from dgx_pixels.export._export import MAX_ASSETS, TARGETS, ExportResult, export
from dgx_pixels.export._target import Place, Target
from dgx_pixels.export._writer import OutFile, Written, check_name, write_files

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "MAX_ASSETS",
    "TARGETS",
    "Asset",
    "ExportResult",
    "Frame",
    "OutFile",
    "Place",
    "Tag",
    "Target",
    "Terrain",
    "Tile",
    "Tileset",
    "Written",
    "check_name",
    "export",
    "load_asset",
    "write_files",
]
