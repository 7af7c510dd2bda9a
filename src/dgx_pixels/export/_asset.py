"""A finished asset as the exporters see it: one sheet image, its frames, clips and tiles.

Every asset becomes one :class:`Asset`, whatever wrote it:

- a single sprite (``NAME.png`` with its ``NAME.json`` sidecar from
  :func:`dgx_pixels.assets.save_result`): a one-frame sheet;
- a set (animation, sheet, tiles, tileset): its folder's ``manifest.json``
  (the asset manifest, ``dgx-pixels/asset@1``; see ``docs/assets.md``).

An asset is named by its folder, its manifest, its sidecar or its PNG.
Everything read is bounded (file size, frame, tag and tile counts, name
lengths) and every path a manifest names stays inside the asset's folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.errors import InputError, PaletteError
from dgx_pixels.image_files import read_image

__all__ = [
    "DIRECTIONS",
    "LAYOUTS",
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

#: The format tag of an asset manifest.
MANIFEST_FORMAT = "dgx-pixels/asset@1"
#: The manifest's file name inside an asset folder.
MANIFEST_NAME = "manifest.json"
#: Tag playback directions (Aseprite's four).
DIRECTIONS = ("forward", "reverse", "pingpong", "pingpong_reverse")
#: Autotile layouts of a tileset.
LAYOUTS = ("wang16", "blob47")

_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_MAX_FRAMES = 4096
_MAX_TAGS = 1024
_MAX_TERRAINS = 64
_MAX_NAME = 64
_MAX_DURATION_MS = 65535  # Aseprite stores a frame's duration in a WORD
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame (or tile) of a sheet: where it is and how long it shows."""

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
    sheet_path: Path
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
            return _from_manifest(p, document)
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


def _from_manifest(path: Path, document: Mapping[str, Any] | None = None) -> Asset:
    doc = _read_json(path) if document is None else document
    where = str(path)
    if doc.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{path}: not an asset manifest (format {MANIFEST_FORMAT})", path=where)
    kind = _str(doc, "kind", path)
    name = _check_name(_str(doc, "name", path), path, "name")
    cell = _pair(doc.get("cell"), path, "cell", minimum=1)
    sheet_doc = doc.get("sheet")
    if not isinstance(sheet_doc, Mapping):
        raise InputError(f"{path}: 'sheet' must be an object", path=where)
    sheet_path = _inside(path.parent, _str(sheet_doc, "image", path, "sheet.image"), path, "sheet")
    sheet = read_image(sheet_path)
    columns = _int(sheet_doc.get("columns"), path, "sheet.columns", 1, _MAX_FRAMES)
    rows = _int(sheet_doc.get("rows"), path, "sheet.rows", 1, _MAX_FRAMES)
    padding = _padding(sheet_doc.get("padding", 0), path)
    offset = _pair(sheet_doc.get("offset", [0, 0]), path, "sheet.offset", minimum=0)
    frames = _frames(doc.get("frames"), path, sheet.size, cell, name)
    tags = _tags(doc.get("tags", []), path, len(frames))
    palette = _palette(doc.get("palette", []), path)
    tileset = _tileset(doc.get("tileset"), path, len(frames)) if kind == "tileset" else None
    if kind == "tileset" and tileset is None:
        raise InputError(f"{path}: a tileset manifest needs a 'tileset' object", path=where)
    return Asset(
        name=name,
        kind=kind,
        source=path,
        sheet_path=sheet_path,
        sheet=sheet,
        cell=cell,
        columns=columns,
        rows=rows,
        padding=padding,
        offset=offset,
        frames=frames,
        tags=tags,
        palette=palette or _image_colours(sheet),
        tileset=tileset,
    )


def _frames(
    value: object, path: Path, size: tuple[int, int], cell: tuple[int, int], name: str
) -> tuple[Frame, ...]:
    if not isinstance(value, list) or not value:
        raise InputError(f"{path}: 'frames' must be a non-empty list", path=str(path))
    if len(value) > _MAX_FRAMES:
        raise InputError(f"{path}: {len(value)} frames, more than {_MAX_FRAMES}", path=str(path))
    frames = []
    for i, item in enumerate(value):
        key = f"frames[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{path}: {key} must be an object", path=str(path))
        x, y, w, h = _ints(item.get("rect"), path, f"{key}.rect", 4)
        if (w, h) != cell:
            raise InputError(
                f"{path}: {key}.rect {[x, y, w, h]} is not one {cell[0]}x{cell[1]} cell"
            )
        if x < 0 or y < 0 or x + w > size[0] or y + h > size[1]:
            raise InputError(
                f"{path}: {key}.rect {[x, y, w, h]} is not inside the {size[0]}x{size[1]} sheet",
                path=str(path),
            )
        duration = _int(
            item.get("duration_ms", 100), path, f"{key}.duration_ms", 1, _MAX_DURATION_MS
        )
        pivot = item.get("pivot")
        pivot_xy = None if pivot is None else _pair(pivot, path, f"{key}.pivot", minimum=0)
        file = item.get("file")
        label = PurePosixPath(file).stem if isinstance(file, str) and file else ""
        frames.append(Frame((x, y, w, h), duration, pivot_xy, label[:_MAX_NAME] or f"{name}-{i}"))
    return tuple(frames)


def _tags(value: object, path: Path, count: int) -> tuple[Tag, ...]:
    if not isinstance(value, list) or len(value) > _MAX_TAGS:
        raise InputError(f"{path}: 'tags' must be a list of at most {_MAX_TAGS}", path=str(path))
    tags = []
    names: set[str] = set()
    for i, item in enumerate(value):
        key = f"tags[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{path}: {key} must be an object", path=str(path))
        name = _check_name(_str(item, "name", path, f"{key}.name"), path, f"{key}.name")
        if name in names:
            raise InputError(f"{path}: tag name {name!r} appears twice", path=str(path))
        names.add(name)
        first = _int(item.get("from"), path, f"{key}.from", 0, count - 1)
        last = _int(item.get("to"), path, f"{key}.to", first, count - 1)
        direction = item.get("direction", "forward")
        if direction not in DIRECTIONS:
            raise InputError(
                f"{path}: {key}.direction must be one of {', '.join(DIRECTIONS)}, "
                f"got {direction!r}",
                path=str(path),
            )
        loop = item.get("loop", True)
        if not isinstance(loop, bool):
            raise InputError(f"{path}: {key}.loop must be true or false, got {loop!r}")
        fps = item.get("fps", 10)
        if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= 1000:
            raise InputError(f"{path}: {key}.fps must be in (0, 1000], got {fps!r}")
        tags.append(Tag(name, first, last, str(direction), loop, float(fps)))
    return tuple(tags)


def _tileset(value: object, path: Path, count: int) -> Tileset | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InputError(f"{path}: 'tileset' must be an object", path=str(path))
    layout = value.get("layout")
    if layout not in LAYOUTS:
        raise InputError(
            f"{path}: tileset.layout must be one of {', '.join(LAYOUTS)}, got {layout!r}"
        )
    raw_terrains = value.get("terrains")
    if not isinstance(raw_terrains, list) or not 1 <= len(raw_terrains) <= _MAX_TERRAINS:
        raise InputError(f"{path}: tileset.terrains must list 1 to {_MAX_TERRAINS} terrains")
    terrains = []
    for i, item in enumerate(raw_terrains):
        key = f"tileset.terrains[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{path}: {key} must be an object", path=str(path))
        name = _str(item, "name", path, f"{key}.name")
        if len(name) > _MAX_NAME or not name.isprintable():
            raise InputError(f"{path}: {key}.name must be printable, at most {_MAX_NAME} chars")
        color = item.get("color", "#808080")
        if not isinstance(color, str) or not _COLOUR.fullmatch(color):
            raise InputError(f"{path}: {key}.color must look like #rrggbb, got {color!r}")
        terrains.append(Terrain(name, color.lower()))
    raw_tiles = value.get("tiles")
    if not isinstance(raw_tiles, list) or not raw_tiles or len(raw_tiles) > count:
        raise InputError(f"{path}: tileset.tiles must list 1 to {count} tiles", path=str(path))
    tiles = []
    seen: set[int] = set()
    for i, item in enumerate(raw_tiles):
        key = f"tileset.tiles[{i}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{path}: {key} must be an object", path=str(path))
        index = _int(item.get("index"), path, f"{key}.index", 0, count - 1)
        if index in seen:
            raise InputError(f"{path}: tile {index} is listed twice", path=str(path))
        seen.add(index)
        wangid = _ints(item.get("wangid"), path, f"{key}.wangid", 8)
        if any(not 0 <= v <= len(terrains) for v in wangid):
            raise InputError(
                f"{path}: {key}.wangid values must be 0 to {len(terrains)}, got {list(wangid)}"
            )
        if layout == "wang16" and any(wangid[k] for k in (0, 2, 4, 6)):
            raise InputError(f"{path}: {key}: a wang16 tile sets corners only, got {list(wangid)}")
        tiles.append(Tile(index, (*wangid,)))  # type: ignore[arg-type]  # length checked
    return Tileset(str(layout), tuple(terrains), tuple(tiles))


def _palette(value: object, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 256:
        raise InputError(f"{path}: 'palette' must list at most 256 colours", path=str(path))
    for colour in value:
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            raise InputError(f"{path}: palette colours look like #rrggbb, got {colour!r}")
    return tuple(c.lower() for c in value)


def _padding(value: object, path: Path) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    return _pair(value, path, "sheet.padding", minimum=0)


# -- small checks -----------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > _MAX_MANIFEST_BYTES:
            raise InputError(f"{path}: {size:,} bytes, larger than a manifest may be")
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


def _str(doc: Mapping[str, Any], key: str, path: Path, label: str | None = None) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"{path}: '{label or key}' must be a non-empty string, got {value!r}")
    return value


def _int(value: object, path: Path, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{path}: {key} must be a whole number {low} to {high}, got {value!r}")
    return value


def _ints(value: object, path: Path, key: str, n: int) -> tuple[int, ...]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != n
        or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
    ):
        raise InputError(f"{path}: {key} must be {n} whole numbers, got {value!r}")
    return tuple(int(v) for v in value)


def _pair(value: object, path: Path, key: str, *, minimum: int) -> tuple[int, int]:
    a, b = _ints(value, path, key, 2)
    if a < minimum or b < minimum or a > 65535 or b > 65535:
        raise InputError(f"{path}: {key} must be two numbers {minimum} to 65535, got {[a, b]}")
    return a, b
