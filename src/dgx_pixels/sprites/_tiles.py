"""Seamless tiles from a prompt: one tile drawn on a torus, and variants that share its
palette and its edges, so any of them can sit next to any other on a map.

1. Tile 0 is drawn with ``seamless`` set: the engine wraps every convolution
   and the pixel step treats the tile as a torus.
2. Each variant repaints tile 0's interior by inpainting (seamless too), in
   tile 0's exact palette, with its own seed; the border band (``border``
   pixels wide) is tile 0's, pixel for pixel, so every variant meets every
   other exactly as tile 0 meets itself.
3. Each tile's seam is measured on the true-resolution tile: the colour step
   across the wrap edge over the mean step between neighbours inside
   (:func:`dgx_pixels.pixel.metrics.tile_seam_score`; about 1 is seamless).

The engine is used through its public interface only (``Engine.generate``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.image_files import write_png
from dgx_pixels.pixel._arrays import rgba_array, to_image
from dgx_pixels.pixel.metrics import tile_seam_score
from dgx_pixels.request import GenerationRequest

__all__ = [
    "VARIANT_STRENGTH",
    "SeamlessTiles",
    "make_tiles",
    "seam_measure",
    "tiles_asset",
    "tiles_preview",
]

#: How much of tile 0's interior a variant repaints.
VARIANT_STRENGTH = 0.8


@dataclass(frozen=True, slots=True)
class SeamlessTiles:
    """Tile 0 and its variants, the requests that made them, and the border they share."""

    tiles: tuple[Image.Image, ...]
    request: GenerationRequest  # tile 0's
    variants: GenerationRequest | None  # the variants' (init and mask are tile 0 and its band)
    palette: str | None  # the exact palette all tiles share
    border: int
    results: tuple[Any, ...]  # the engine's GenerationResults


def seam_measure(tile: Image.Image) -> dict[str, float]:
    """The seam of a tile across its wrap edges (rounded), as the manifest carries it."""
    s = tile_seam_score(tile)
    return {"left_right": round(s.left_right, 4), "top_bottom": round(s.top_bottom, 4)}


def border_width(size: tuple[int, int]) -> int:
    """The width of the shared border band: an eighth of the shorter side, at least 1."""
    return max(1, min(size) // 8)


def make_tiles(
    engine: Any,
    request: GenerationRequest,
    *,
    count: int,
    on_step: Callable[[Any], None] | None = None,
) -> SeamlessTiles:
    """Draw ``count`` seamless tiles for ``request`` (its ``seamless`` must be set).

    ``request.count`` is ignored: tile 0 uses ``request.seed``, variant *i*
    ``seed + i``.
    """
    if request.seamless == "none":
        raise InputError("seamless tiles need seamless x, y or xy")
    if not 1 <= count <= 16:
        raise InputError(f"count must be 1-16 tiles, got {count}")
    # 1. Tile 0, on a torus.
    base = request.replace(count=1)
    [first] = engine.generate([base], on_step=on_step)
    tile0 = first.images[0].sprite
    locked = first.pixel_spec.get("palette")
    tiles = [tile0]
    results = [first]
    variants_request = None
    b = border_width(tile0.size)
    # 2. Variants: tile 0's interior repainted, its border band kept.
    if count > 1:
        assert request.seed is not None
        w, h = tile0.size
        mask = np.full((h, w), 255, dtype=np.uint8)
        mask[:b] = mask[-b:] = 0
        mask[:, :b] = mask[:, -b:] = 0
        with tempfile.TemporaryDirectory(prefix="dgx-pixels-tiles-") as tmp:
            init_path = write_png(tile0.convert("RGB"), Path(tmp) / "tile0.png")
            mask_path = write_png(Image.fromarray(mask), Path(tmp) / "band.png")
            variants_request = request.replace(
                count=count - 1,
                seed=request.seed + 1,
                init=str(init_path),
                mask=str(mask_path),
                strength=VARIANT_STRENGTH,
                palette=locked if isinstance(locked, str) else request.palette,
            )
            [more] = engine.generate([variants_request], on_step=on_step)
        results.append(more)
        ring = mask == 0
        t0 = rgba_array(tile0)
        for image in more.images:
            v = rgba_array(image.sprite)
            v[ring] = t0[ring]
            tiles.append(to_image(v))
    return SeamlessTiles(
        tiles=tuple(tiles),
        request=base,
        variants=variants_request,
        palette=locked if isinstance(locked, str) else None,
        border=b,
        results=tuple(results),
    )


def tiles_preview(tiles: tuple[Image.Image, ...], seamless: str, *, scale: int = 4) -> Image.Image:
    """Each tile repeated 3 times along each seamless axis, side by side, scaled up (nearest)."""
    from dgx_pixels.pixel.preview import upscale

    w, h = tiles[0].size
    nx, ny = (3 if "x" in seamless else 1), (3 if "y" in seamless else 1)
    gap = max(2, w // 4)
    canvas = Image.new("RGBA", (len(tiles) * (nx * w + gap) - gap, ny * h))
    for i, tile in enumerate(tiles):
        for ty in range(ny):
            for tx in range(nx):
                canvas.paste(tile, (i * (nx * w + gap) + tx * w, ty * h))
    return upscale(canvas, factor=scale)


def tiles_asset(made: SeamlessTiles, *, name: str, preview_scale: int = 4) -> Any:
    """The ``tiles`` asset: every tile, the sheet, a repeated preview and the seam of each."""
    from dgx_pixels.sprites._asset import build_asset, palette_of
    from dgx_pixels.sprites._consistency import animation_consistency
    from dgx_pixels.sprites._sheet import pack_sheet

    tiles = list(made.tiles)
    packed = pack_sheet(tiles, columns=len(tiles))
    colours = palette_of(tiles)
    agreement = animation_consistency([tiles], palette=colours, pivot=(0, 0))["palette_agreement"]
    request: dict[str, Any] = {"tile": made.request.to_dict()}
    if made.variants is not None:
        request["variants"] = {
            "count": made.variants.count,
            "seed": made.variants.seed,
            "strength": made.variants.strength,
            "palette": made.variants.palette,
            "border_px": made.border,
        }
    return build_asset(
        kind="tiles",
        name=name,
        frames=tiles,
        frame_names=[f"tiles/{name}_{i}.png" for i in range(len(tiles))],
        packed=packed,
        durations_ms=[100] * len(tiles),
        pivot=(0, 0),
        palette=colours,
        previews={
            "preview.png": tiles_preview(made.tiles, made.request.seamless, scale=preview_scale)
        },
        request=request,
        consistency={
            "seam": [seam_measure(t) for t in tiles],
            "palette_agreement": agreement,
            "shared_border_px": made.border if len(tiles) > 1 else 0,
        },
    )
