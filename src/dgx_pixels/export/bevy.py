"""Bevy: the sheet PNG with a nearest-sampler ``.meta``, a bevy_asset_loader collection,
the clips of an animation, the terrain rules of a tileset, and ``.aseprite``.

Checked against Bevy 0.18 / 0.19 and the plugins released for Bevy 0.18
(bevy_asset_loader 0.26, bevy_aseprite_ultra 0.8). Asset paths are relative
to the project's ``assets/`` folder, as ``AssetServer::load`` takes them.
Files for an asset ``NAME`` (in ``assets/NAME/`` with ``--project``):

``NAME.png`` + ``NAME.png.meta``
    The sheet, and its asset meta file (RON): ``meta_format_version: "1.0"``
    and ``Load`` with ``bevy_image::image_loader::ImageLoader`` settings whose
    sampler is a nearest ``ImageSamplerDescriptor``, as in Bevy's own
    ``examples/asset/files/bevy_pixel_dark_with_meta.png.meta``. Pixel art
    stays sharp without ``ImagePlugin::default_nearest()``.
``NAME.assets.ron``
    A bevy_asset_loader dynamic collection
    (``StandardDynamicAssetCollection``): ``"NAME.image": File(path: ...)``
    and ``"NAME.layout": TextureAtlasLayout(tile_size_x:, tile_size_y:,
    columns:, rows:, padding_x:, padding_y:, offset_x:, offset_y:)``, the
    arguments of ``TextureAtlasLayout::from_grid``.
``NAME.clips.ron`` (assets with clips)
    Bevy has no clip asset, so: ``clips: {"walk": (first:, last:, fps:,
    looping:, direction:, frames: [...], durations_ms: [...])}``; indices are
    atlas indices (left to right, top to bottom), ``frames`` the clip's
    indices in play order.
``NAME.terrain.ron`` (tilesets)
    The autotile rules: ``layout``, ``terrains`` and each tile's atlas index
    and wangid (Tiled's order, see ``docs/export.md``), for the game's own
    autotiler or bevy_ecs_tilemap code.
``NAME.aseprite`` (sprites and animations)
    For bevy_aseprite_ultra (``AseAnimation`` / ``AseSlice``), the same file
    as the ``aseprite`` target writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from dgx_pixels.errors import InputError
from dgx_pixels.export._asset import Asset
from dgx_pixels.export._target import Place, engine_path, sheet_bytes
from dgx_pixels.export._writer import OutFile
from dgx_pixels.export.aseprite import aseprite_bytes

__all__ = ["SUFFIX", "assets_folder", "plan"]

#: No single main file: ``-o`` names a folder (inside the game's ``assets/``).
SUFFIX = ""

# Bevy's own example meta, with the nearest filter on all three filters.
_META = """\
(
    meta_format_version: "1.0",
    asset: Load(
        loader: "bevy_image::image_loader::ImageLoader",
        settings: (
            format: FromExtension,
            is_srgb: true,
            sampler: Descriptor(ImageSamplerDescriptor(
                label: None,
                address_mode_u: ClampToEdge,
                address_mode_v: ClampToEdge,
                address_mode_w: ClampToEdge,
                mag_filter: Nearest,
                min_filter: Nearest,
                mipmap_filter: Nearest,
                lod_min_clamp: 0.0,
                lod_max_clamp: 32.0,
                compare: None,
                anisotropy_clamp: 1,
                border_color: None,
            )),
            asset_usage: RenderAssetUsages("MAIN_WORLD | RENDER_WORLD"),
        ),
    ),
)
"""


def assets_folder(folder: Path) -> Path | None:
    """The nearest folder named ``assets`` at or above ``folder``: Bevy's asset root."""
    for candidate in (folder, *folder.parents):
        if candidate.name == "assets":
            return candidate
    return None


def plan(asset: Asset, place: Place) -> list[OutFile]:
    """The sheet and its ``.meta``, the collection, the clips or terrain, and ``.aseprite``."""
    stem, folder = place.stem, place.folder
    indices = _atlas_indices(asset)
    image = f"{stem}.png"
    files = [
        OutFile(folder / image, sheet_bytes(asset), "sheet"),
        OutFile(folder / f"{image}.meta", _META.encode(), "nearest sampler"),
        OutFile(
            folder / f"{stem}.assets.ron",
            _collection(asset, stem, engine_path(place, image)),
            "bevy_asset_loader collection",
        ),
    ]
    if asset.tags:
        files.append(
            OutFile(
                folder / f"{stem}.clips.ron",
                _clips(asset, engine_path(place, image), indices),
                f"{len(asset.tags)} clip{'' if len(asset.tags) == 1 else 's'}",
            )
        )
    if asset.tileset is not None:
        files.append(
            OutFile(folder / f"{stem}.terrain.ron", _terrain(asset, indices), "terrain rules")
        )
    else:
        files.append(
            OutFile(folder / f"{stem}.aseprite", aseprite_bytes(asset), "for bevy_aseprite_ultra")
        )
    return files


def _atlas_indices(asset: Asset) -> list[int]:
    indices = []
    for i in range(len(asset.frames)):
        index = asset.grid_index(i)
        if index is None:
            raise InputError(
                f"{asset.source}: frame {i} at {list(asset.frames[i].rect)} is not on the "
                f"sheet's {asset.columns}x{asset.rows} grid; a Bevy atlas layout cannot name it"
            )
        indices.append(index)
    return indices


def _collection(asset: Asset, stem: str, image_path: str) -> bytes:
    w, h = asset.cell
    layout = [
        f"tile_size_x: {w}",
        f"tile_size_y: {h}",
        f"columns: {asset.columns}",
        f"rows: {asset.rows}",
    ]
    if asset.padding != (0, 0):
        layout += [f"padding_x: {asset.padding[0]}", f"padding_y: {asset.padding[1]}"]
    if asset.offset != (0, 0):
        layout += [f"offset_x: {asset.offset[0]}", f"offset_y: {asset.offset[1]}"]
    body = ",\n".join(f"        {item}" for item in layout)
    text = (
        "({\n"
        f"    {_string(stem + '.image')}: File(\n        path: {_string(image_path)},\n    ),\n"
        f"    {_string(stem + '.layout')}: TextureAtlasLayout(\n{body},\n    ),\n"
        "})\n"
    )
    return text.encode()


def _clips(asset: Asset, image_path: str, indices: list[int]) -> bytes:
    lines = ["(", f"    image: {_string(image_path)},", "    clips: {"]
    for tag in asset.tags:
        frames = [indices[i] for i in range(tag.first, tag.last + 1)]
        durations = [asset.frames[i].duration_ms for i in range(tag.first, tag.last + 1)]
        if tag.direction in ("reverse", "pingpong_reverse"):
            frames.reverse()
            durations.reverse()
        lines += [
            f"        {_string(tag.name)}: (",
            f"            first: {frames[0]},",
            f"            last: {frames[-1]},",
            f"            fps: {_float(tag.fps)},",
            f"            looping: {'true' if tag.loop else 'false'},",
            f"            direction: {_string(tag.direction)},",
            f"            frames: [{', '.join(map(str, frames))}],",
            f"            durations_ms: [{', '.join(map(str, durations))}],",
            "        ),",
        ]
    lines += ["    },", ")", ""]
    return "\n".join(lines).encode()


def _terrain(asset: Asset, indices: list[int]) -> bytes:
    tileset = asset.tileset
    assert tileset is not None
    lines = ["(", f"    layout: {_string(tileset.layout)},", "    terrains: ["]
    lines += [
        f"        (name: {_string(t.name)}, color: {_string(t.color)})," for t in tileset.terrains
    ]
    lines += ["    ],", "    tiles: ["]
    lines += [
        f"        (index: {indices[t.index]}, wangid: [{', '.join(map(str, t.wangid))}]),"
        for t in tileset.tiles
    ]
    lines += ["    ],", ")", ""]
    return "\n".join(lines).encode()


def _string(text: str) -> str:
    """A RON string literal (JSON's escapes are valid RON)."""
    return json.dumps(text, ensure_ascii=False)


def _float(value: float) -> str:
    text = repr(float(value))
    return text if "." in text or "e" in text else text + ".0"
