"""A finished asset as the exporters see it: one sheet image, its frames, clips and tiles.

Every asset becomes one :class:`Asset`, whatever wrote it:

- a single sprite (``NAME.png`` with its ``NAME.json`` sidecar from
  :func:`dgx_pixels.assets.save_result`): a one-frame sheet;
- a set (animation, sheet, tiles, tileset): its folder's ``manifest.json``
  (``dgx-pixels/asset@1``, read and checked by
  :func:`dgx_pixels.assets.read_manifest`; see ``docs/assets.md``).

A plain grid sheet is exported as it is (its extrusion becomes padding and
offset); a packed or trimmed sheet, or none, is laid out afresh as a grid of
full cells, so every target sees whole frames on a grid.

An asset is named by its folder, its manifest, its sidecar or its PNG.
Everything read is bounded (file size, frame, tag and tile counts, name
lengths) and every path a manifest names stays inside the asset's folder.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError, PaletteError
from dgx_pixels.image_files import read_image

if TYPE_CHECKING:
    from dgx_pixels.assets import Manifest

__all__ = [
    "DIRECTIONS",
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "Asset",
    "Frame",
    "Tag",
    "Terrain",
    "Tile",
    "Tileset",
    "load_asset",
]

#: The format tag of an asset manifest (``dgx_pixels.assets.ASSET_FORMAT``).
MANIFEST_FORMAT = "dgx-pixels/asset@1"
#: The manifest's file name inside an asset folder.
MANIFEST_NAME = "manifest.json"
#: Tag playback directions: the manifest's three, and Aseprite's fourth.
DIRECTIONS = ("forward", "reverse", "pingpong", "pingpong_reverse")

_MAX_JSON_BYTES = 16 * 1024 * 1024
_MAX_NAME = 100
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame (or tile) of the sheet: where it is and how long it shows."""

    rect: tuple[int, int, int, int]  # x, y, w, h in the sheet
    duration_ms: int = 100
    pivot: tuple[int, int] | None = None  # in the frame's own pixels
    label: str = ""  # a name for atlas formats: the frame file's stem, or "<asset>-<i>"


@dataclass(frozen=True, slots=True)
class Tag:
    """An animation clip: frames ``first`` to ``last`` (inclusive, sheet order)."""

    name: str
    first: int
    last: int
    direction: str = "forward"
    loop: bool = True
    fps: float = 10.0


@dataclass(frozen=True, slots=True)
class Terrain:
    """One terrain of a tileset; wangid value ``n`` means ``terrains[n - 1]``."""

    name: str
    color: str  # "#rrggbb"


@dataclass(frozen=True, slots=True)
class Tile:
    """One autotile: which terrain touches each of its 8 sides and corners.

    ``wangid`` is in Tiled's order: top, top-right, right, bottom-right,
    bottom, bottom-left, left, top-left; 0 is unset, terrains count from 1.
    """

    index: int
    wangid: tuple[int, int, int, int, int, int, int, int]
    terrain: int = 0  # the tile's own (centre) terrain; 0 when the layout has none (wang16)


@dataclass(frozen=True, slots=True)
class Tileset:
    """The autotile rules of a tileset asset."""

    layout: str  # "wang16" | "blob47"
    terrains: tuple[Terrain, ...]
    tiles: tuple[Tile, ...]


@dataclass(frozen=True, slots=True)
class Asset:
    """A finished asset: one sheet image cut into equal cells, with its clips and tiles."""

    name: str
    kind: str
    source: Path  # the manifest or sidecar it was read from
    sheet_path: Path | None  # the sheet as it is on disk, or None: ``sheet`` was composed
    sheet: Image.Image = field(repr=False, compare=False)
    cell: tuple[int, int]
    columns: int
    rows: int
    padding: tuple[int, int] = (0, 0)
    offset: tuple[int, int] = (0, 0)
    frames: tuple[Frame, ...] = ()
    tags: tuple[Tag, ...] = ()
    palette: tuple[str, ...] = ()
    tileset: Tileset | None = None

    def grid_index(self, index: int) -> int | None:
        """The sheet-grid cell (left to right, top to bottom) of frame ``index``, if on the grid."""
        x, y, _, _ = self.frames[index].rect
        step_x = self.cell[0] + self.padding[0]
        step_y = self.cell[1] + self.padding[1]
        col, dx = divmod(x - self.offset[0], step_x)
        row, dy = divmod(y - self.offset[1], step_y)
        if dx or dy or not (0 <= col < self.columns and 0 <= row < self.rows):
            return None
        return row * self.columns + col

    def pivot_keys(self) -> list[tuple[int, tuple[int, int]]]:
        """``(frame, pivot)`` for the first frame and each frame whose pivot changes."""
        keys: list[tuple[int, tuple[int, int]]] = []
        for index, frame in enumerate(self.frames):
            if frame.pivot is not None and (not keys or keys[-1][1] != frame.pivot):
                keys.append((index, frame.pivot))
        return keys

    def frame_image(self, index: int) -> Image.Image:
        """Frame ``index`` cut out of the sheet (a new RGBA image)."""
        x, y, w, h = self.frames[index].rect
        return self.sheet.crop((x, y, x + w, y + h))


def load_asset(path: str | Path) -> Asset:
    """Read the asset named by ``path``: a folder, a manifest, a sidecar or a sprite PNG.

    Raises :class:`~dgx_pixels.errors.InputError` naming the file and the bad
    value when the asset cannot be used.
    """
    p = Path(path)
    if p.is_dir():
        manifest = p / MANIFEST_NAME
        if manifest.is_file():
            return _from_manifest(manifest)
        sidecars = sorted(q for q in p.glob("*.json") if _is_sidecar(q))
        if len(sidecars) == 1:
            return _from_sidecar(sidecars[0])
        raise InputError(
            f"{p}: no {MANIFEST_NAME} and "
            + ("no sprite sidecar" if not sidecars else f"{len(sidecars)} sprite sidecars")
            + "; name the asset's manifest, sidecar or PNG",
            path=str(p),
        )
    if not p.is_file():
        raise InputError(f"{p}: no such file or folder", path=str(p))
    if p.suffix.lower() == ".json":
        document = _read_json(p)
        if document.get("format") == MANIFEST_FORMAT:
            return _from_manifest(p)
        return _from_sidecar(p)
    if p.suffix.lower() == ".png":
        sidecar = p.with_suffix(".json")
        if sidecar.is_file():
            return _from_sidecar(sidecar)
        return _from_sprite_png(p)
    raise InputError(f"{p}: not an asset (give a folder, manifest.json, sidecar or PNG)")


# -- single sprites ---------------------------------------------------------------


def _is_sidecar(path: Path) -> bool:
    from dgx_pixels.assets import FORMAT

    try:
        return _read_json(path).get("format") == FORMAT
    except InputError:
        return False


def _from_sidecar(path: Path) -> Asset:
    from dgx_pixels.assets import read_metadata

    metadata = read_metadata(path)
    files = metadata.get("files")
    name = path.stem
    image_name = f"{name}.png"
    if isinstance(files, Mapping) and isinstance(files.get("sprite"), Mapping):
        image_name = str(files["sprite"].get("file", image_name))
    image_path = _inside(path.parent, image_name, path, "files.sprite.file")
    return _single(name, path, image_path, metadata.get("pixel_spec"))


def _from_sprite_png(path: Path) -> Asset:
    from dgx_pixels.assets import read_metadata

    metadata = read_metadata(path)  # the PNG's own dgx-pixels chunk
    return _single(path.stem, path, path, metadata.get("pixel_spec"))


def _single(name: str, source: Path, image_path: Path, pixel_spec: object) -> Asset:
    sheet = read_image(image_path)
    w, h = sheet.size
    palette: tuple[str, ...] = ()
    if isinstance(pixel_spec, Mapping) and isinstance(pixel_spec.get("palette"), str):
        palette = _named_palette(str(pixel_spec["palette"]))
    return Asset(
        name=_check_name(name, source, "name"),
        kind="sprite",
        source=source,
        sheet_path=image_path,
        sheet=sheet,
        cell=(w, h),
        columns=1,
        rows=1,
        frames=(Frame((0, 0, w, h), 100, None, name),),
        palette=palette or _image_colours(sheet),
    )


def _named_palette(spec: str) -> tuple[str, ...]:
    from dgx_pixels.pixel.palette import parse_auto, resolve_palette

    if parse_auto(spec) is not None:
        return ()  # auto:N was extracted from the image: its colours are the image's
    try:
        return tuple(resolve_palette(spec).hex_codes())
    except PaletteError:
        return ()  # a palette file that has moved since: fall back to the image's colours


def _image_colours(image: Image.Image) -> tuple[str, ...]:
    """The opaque colours of ``image`` in order of first use, if there are 256 or fewer."""
    pixels = np.asarray(image.convert("RGBA")).reshape(-1, 4)
    rgb = pixels[pixels[:, 3] > 0, :3]
    colours, first = np.unique(rgb, axis=0, return_index=True)
    if len(colours) > 256:
        return ()
    return tuple("#{:02x}{:02x}{:02x}".format(*colours[i]) for i in np.argsort(first))


# -- manifests --------------------------------------------------------------------


def _from_manifest(path: Path) -> Asset:
    """An asset folder's manifest (read and checked by :func:`assets.read_manifest`)."""
    from dgx_pixels.assets import read_manifest

    manifest = read_manifest(path)
    folder = (path if path.is_dir() else path.parent).resolve()
    source = folder / MANIFEST_NAME
    cell = manifest.cell
    pivots = [f.pivot for f in manifest.frames]
    has_pivots = any(p != (0, 0) for p in pivots)  # (0, 0) everywhere: none was set
    sheet = manifest.sheet
    if sheet is not None and sheet.layout == "grid" and not any(f.trimmed for f in manifest.frames):
        # A plain grid: exported as it is, extrusion and all.
        sheet_path = folder / sheet.image
        image = read_image(sheet_path)
        step = sheet.padding + 2 * sheet.extrude
        columns, rows = sheet.columns or 1, sheet.rows or 1
        padding = (step, step)
        offset = (sheet.offset[0] + sheet.extrude, sheet.offset[1] + sheet.extrude)
        rects = [f.rect for f in manifest.frames]
    else:
        # Packed, trimmed or no sheet: every frame at full cell size on a fresh grid.
        cells = _cell_images(manifest, folder)
        columns = sheet.columns if sheet is not None and sheet.columns else _columns(len(cells))
        rows = -(-len(cells) // columns)
        image = Image.new("RGBA", (columns * cell[0], rows * cell[1]), (0, 0, 0, 0))
        rects = []
        for i, picture in enumerate(cells):
            x, y = (i % columns) * cell[0], (i // columns) * cell[1]
            image.paste(picture, (x, y))
            rects.append((x, y, *cell))
        sheet_path, padding, offset = None, (0, 0), (0, 0)
    frames = tuple(
        Frame(
            (rect[0], rect[1], rect[2], rect[3]),
            f.duration_ms,
            f.pivot if has_pivots else None,
            PurePosixPath(f.file).stem,
        )
        for rect, f in zip(rects, manifest.frames, strict=True)
    )
    tags = tuple(Tag(t.name, t.from_, t.to, t.direction, t.loop, t.fps) for t in manifest.tags)
    tileset = None
    if manifest.tileset is not None:
        tileset = Tileset(
            manifest.tileset.layout,
            tuple(Terrain(t.name, t.color) for t in manifest.tileset.terrains),
            tuple(Tile(t.index, t.wangid, t.terrain) for t in manifest.tileset.tiles),
        )
    return Asset(
        name=manifest.name,
        kind=manifest.kind,
        source=source,
        sheet_path=sheet_path,
        sheet=image,
        cell=cell,
        columns=columns,
        rows=rows,
        padding=padding,
        offset=offset,
        frames=frames,
        tags=tags,
        palette=manifest.palette or _image_colours(image),
        tileset=tileset,
    )


def _cell_images(manifest: Manifest, folder: Path) -> list[Image.Image]:
    """Each frame at its full cell size: cut from the sheet (re-placing trimmed frames)."""
    w, h = manifest.cell
    if manifest.sheet is None:
        cells = []
        for f in manifest.frames:
            picture = read_image(folder / f.file)
            if picture.size != (w, h):
                raise InputError(
                    f"{folder / f.file}: is {picture.size[0]}x{picture.size[1]}, "
                    f"not the manifest's {w}x{h} cell"
                )
            cells.append(picture)
        return cells
    sheet = read_image(folder / manifest.sheet.image)
    cells = []
    for f in manifest.frames:
        x, y, fw, fh = f.rect
        if x + fw > sheet.width or y + fh > sheet.height:
            raise InputError(f"{folder}: frame {f.file} at {list(f.rect)} is outside the sheet")
        sx, sy, _, _ = f.source_rect or (0, 0, w, h)
        picture = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        picture.paste(sheet.crop((x, y, x + fw, y + fh)), (sx, sy))
        cells.append(picture)
    return cells


def _columns(count: int) -> int:
    """Columns of a near-square grid for ``count`` cells."""
    return max(1, math.ceil(math.sqrt(count)))


# -- small checks -----------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > _MAX_JSON_BYTES:
            raise InputError(f"{path}: {size:,} bytes, larger than a sidecar may be")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a JSON object", path=str(path))
    return data


def _inside(folder: Path, name: str, source: Path, key: str) -> Path:
    """``folder / name``, refusing names that leave ``folder`` (absolute, ``..``, links out)."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or not name:
        raise InputError(f"{source}: {key} {name!r} must be a relative path inside the asset")
    target = folder / pure
    if not target.resolve().is_relative_to(folder.resolve()):
        raise InputError(f"{source}: {key} {name!r} leads outside the asset folder (a link?)")
    return target


def _check_name(name: str, source: Path, key: str) -> str:
    if len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        raise InputError(
            f"{source}: {key} must be 1 to {_MAX_NAME} letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit, got {name!r}",
            path=str(source),
        )
    return name
