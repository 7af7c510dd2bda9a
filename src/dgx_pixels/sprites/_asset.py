"""From frames to one asset: the packed sheet, the frame files and the manifest.

Every set command ends here, so every asset folder is built the same way:
:func:`build_asset` packs the frames (:func:`~dgx_pixels.sprites.pack_sheet`),
names the files and returns the :class:`~dgx_pixels.assets.Manifest` with the
files it names, ready for :func:`~dgx_pixels.assets.write_asset`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.assets import AssetData, Frame, Manifest, Sheet, Tag, Tileset, write_asset
from dgx_pixels.pixel._arrays import opaque_mask, rgba_array
from dgx_pixels.sprites._sheet import PackedSheet

__all__ = ["AssetBundle", "build_asset", "feet_pivot", "palette_of"]

SHEET_FILE = "sheet.png"


@dataclass(frozen=True, slots=True)
class AssetBundle:
    """A finished asset in memory: its manifest and every file it names."""

    manifest: Manifest
    files: Mapping[str, AssetData] = field(default_factory=dict)

    def write(self, folder: str | Path, *, force: bool = False) -> Path:
        """Publish the asset folder atomically (see :func:`~dgx_pixels.assets.write_asset`)."""
        return write_asset(folder, self.manifest, self.files, force=force)


def feet_pivot(cell: tuple[int, int]) -> tuple[int, int]:
    """The pivot of a character: bottom centre of the cell, in cell pixels.

    >>> feet_pivot((32, 32)), feet_pivot((15, 20))
    ((16, 31), (7, 19))
    """
    return cell[0] // 2, cell[1] - 1


def palette_of(frames: Sequence[Image.Image], *, limit: int = 256) -> tuple[str, ...]:
    """The colours of the opaque pixels of ``frames``, most used first (``()`` above ``limit``).

    >>> from PIL import Image
    >>> im = Image.new("RGBA", (3, 1), (255, 0, 0, 255)); im.putpixel((0, 0), (0, 0, 0, 0))
    >>> palette_of([im])
    ('#ff0000',)
    """
    keys = []
    for f in frames:
        a = rgba_array(f)
        rgb = a[opaque_mask(a)][:, :3].astype(np.int64)
        keys.append((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2])
    values, counts = np.unique(np.concatenate(keys), return_counts=True)
    if values.size > limit:
        return ()
    order = sorted(range(values.size), key=lambda i: (-int(counts[i]), int(values[i])))
    return tuple(f"#{int(values[i]):06x}" for i in order)


def build_asset(
    *,
    kind: str,
    name: str,
    frames: Sequence[Image.Image],
    frame_names: Sequence[str],
    packed: PackedSheet,
    durations_ms: Sequence[int],
    pivot: tuple[int, int],
    tags: Sequence[Tag] = (),
    palette: Sequence[str] | None = None,
    tileset: Tileset | None = None,
    previews: Mapping[str, AssetData] | None = None,
    request: Mapping[str, Any] | None = None,
    consistency: Mapping[str, Any] | None = None,
) -> AssetBundle:
    """The manifest and files of an asset whose frames ``packed`` holds, in order.

    ``frame_names`` are the frame files' paths inside the folder (for example
    ``frames/walk_down_0.png``); ``palette`` defaults to :func:`palette_of`.
    """
    manifest_frames = tuple(
        Frame(
            file=file,
            rect=rect,
            duration_ms=int(duration),
            pivot=pivot,
            trimmed=packed.trimmed,
            source_rect=source,
        )
        for file, rect, source, duration in zip(
            frame_names, packed.rects, packed.source_rects, durations_ms, strict=True
        )
    )
    manifest = Manifest(
        kind=kind,
        name=name,
        cell=packed.cell,
        frames=manifest_frames,
        sheet=_sheet_of(packed),
        tags=tuple(tags),
        palette=tuple(palette_of(frames) if palette is None else palette),
        tileset=tileset,
        previews=tuple(previews or {}),
        request=dict(request or {}),
        consistency=dict(consistency or {}),
    )
    files: dict[str, AssetData] = {SHEET_FILE: packed.image}
    files.update(zip(frame_names, frames, strict=True))
    files.update(previews or {})
    return AssetBundle(manifest, files)


def _sheet_of(packed: PackedSheet) -> Sheet:
    return Sheet(
        image=SHEET_FILE,
        size=packed.image.size,
        layout="grid" if packed.packing == "grid" else "packed",
        columns=packed.columns,
        rows=packed.rows,
        padding=packed.padding,
        extrude=packed.extrude,
    )
