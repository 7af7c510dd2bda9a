"""Generic: the sheet with TexturePacker-style JSON, hash and array, for Phaser, PixiJS, LÖVE.

The JSON is TexturePacker's "JSON (Hash)" and "JSON (Array)" data format
(https://www.codeandweb.com/texturepacker/documentation), the one most 2D
engines read (Phaser ``this.load.atlas``, PixiJS ``Assets.load`` of a
spritesheet, LÖVE libraries):

``NAME.json`` (hash)
    ``frames``: frame name -> ``{frame: {x, y, w, h}, rotated, trimmed,
    spriteSourceSize, sourceSize, duration}`` (plus ``pivot`` in 0..1 where
    the asset has pivots); ``animations``: clip name -> its frame names in
    order (PixiJS reads these as ``sheet.animations``); ``meta``: ``app``,
    ``version``, ``image``, ``format``, ``size``, ``scale``.
``NAME.array.json`` (array)
    the same records as a list, each with its ``filename``.

Frame names are the frames' own file stems (``spin_0``), so they stay the
same between exports. The record format itself is written by
:mod:`dgx_pixels.export._sheet_json`, which Aseprite's JSON shares.
"""

from __future__ import annotations

from dgx_pixels.export._asset import Asset
from dgx_pixels.export._sheet_json import texturepacker_sheet
from dgx_pixels.export._target import Place, sheet_bytes
from dgx_pixels.export._writer import OutFile

__all__ = ["SUFFIX", "plan"]

#: The main file a ``-o`` path may name.
SUFFIX = ".json"


def plan(asset: Asset, place: Place) -> list[OutFile]:
    """The sheet and its JSON, hash and array."""
    image = f"{place.stem}.png"
    return [
        OutFile(place.folder / image, sheet_bytes(asset), "sheet"),
        OutFile(
            place.folder / f"{place.stem}{SUFFIX}",
            texturepacker_sheet(asset, image=image, style="hash"),
            "JSON hash",
        ),
        OutFile(
            place.folder / f"{place.stem}.array{SUFFIX}",
            texturepacker_sheet(asset, image=image, style="array"),
            "JSON array",
        ),
    ]
