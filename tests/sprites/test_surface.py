"""The public surface of dgx_pixels.sprites is what we meant it to be."""

from __future__ import annotations

import dgx_pixels.sprites as sprites


def test_public_api() -> None:
    assert set(sprites.__all__) == {
        "PACKINGS", "AssetBundle", "PackedSheet", "build_asset", "feet_pivot", "opaque_bbox",
        "pack_sheet", "palette_of",
    }  # fmt: skip
