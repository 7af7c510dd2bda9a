"""The asset manifest: what one asset folder holds, for exporters and games.

An asset (a sprite, an animation, a set of tiles, a tileset, a packed sheet)
is one folder with one ``manifest.json``. The manifest is the contract between
the writers (``dgx_pixels.sprites``) and the readers (``dgx_pixels.export``):
frozen dataclasses validated when they are made, with ``to_dict``/``from_dict``
for JSON. Every path in it is relative to the asset folder, with forward
slashes and never ``..``. The format is documented in ``docs/assets.md``.

>>> cell = (2, 2)
>>> frame = Frame("frames/idle_0.png", rect=(0, 0, 2, 2), duration_ms=100, pivot=(1, 1))
>>> m = Manifest(kind="animation", name="blob-idle", cell=cell, frames=(frame,),
...              tags=(Tag("idle", 0, 0),))
>>> Manifest.from_json(m.to_json()) == m
True
>>> Frame("../x.png", rect=(0, 0, 2, 2))
Traceback (most recent call last):
...
dgx_pixels.errors.ManifestError: frame file must stay inside the asset folder, got '../x.png'
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgx_pixels.errors import ManifestError

__all__ = [
    "ASSET_FORMAT",
    "KINDS",
    "LAYOUTS",
    "MANIFEST_NAME",
    "Frame",
    "Manifest",
    "Sheet",
    "Tag",
    "Terrain",
    "TileInfo",
    "Tileset",
    "read_manifest",
]

#: The format tag of a manifest; a reader refuses any other.
ASSET_FORMAT = "dgx-pixels/asset@1"
#: The manifest's file name inside an asset folder.
MANIFEST_NAME = "manifest.json"
#: What an asset can be.
KINDS = ("sprite", "animation", "tiles", "tileset", "sheet")
#: Autotile layouts: 16 corner tiles (Tiled "corner", Godot "match corners"),
#: 47 blob tiles (Tiled "mixed", Godot "match corners and sides").
LAYOUTS = ("wang16", "blob47")
#: How a sheet's frames are placed: a regular grid, or tightly packed rectangles.
SHEET_LAYOUTS = ("grid", "packed")
#: Aseprite's tag directions.
TAG_DIRECTIONS = ("forward", "reverse", "pingpong")

MAX_SIDE = 8192  # the largest sheet side (image_files.MAX_PIXELS is 8192 x 8192)
MAX_CELL = 1024
MAX_FRAMES = 4096
MAX_TAGS = 1024
MAX_COLOURS = 256
MAX_TERRAINS = 16
MAX_NAME = 100
MAX_PATH = 255
MAX_DURATION_MS = 65535  # Aseprite stores a frame's duration in a 16-bit WORD
MAX_MANIFEST_BYTES = 16 * 1024 * 1024

Rect = tuple[int, int, int, int]
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HEX = re.compile(r"#[0-9a-f]{6}")


def _fail(message: str) -> ManifestError:
    return ManifestError(message)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{what} must be a whole number, got {value!r}")
    return value


def _ints(value: Any, n: int, what: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise _fail(f"{what} must be {n} whole numbers, got {value!r}")
    return tuple(_int(v, what) for v in value)


def _pair(value: Any, what: str) -> tuple[int, int]:
    a, b = _ints(value, 2, what)
    return a, b


def _rect(value: Any, what: str) -> Rect:
    x, y, w, h = _ints(value, 4, what)
    if x < 0 or y < 0 or w < 1 or h < 1:
        raise _fail(f"{what} must have x, y >= 0 and w, h >= 1, got {[x, y, w, h]}")
    return x, y, w, h


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME or not _NAME.fullmatch(value):
        raise _fail(
            f"{what} must be 1-{MAX_NAME} letters, digits, '.', '_' or '-' "
            f"(starting with a letter or digit), got {value!r}"
        )
    return value


def _path(value: Any, what: str) -> str:
    """A relative POSIX path confined to the asset folder."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PATH:
        raise _fail(f"{what} must be a relative path of 1-{MAX_PATH} characters, got {value!r}")
    parts = value.split("/")
    if "\\" in value or ":" in value or any(p in ("", ".", "..") for p in parts):
        raise _fail(f"{what} must stay inside the asset folder, got {value!r}")
    return value


def _colour(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise _fail(f"{what} must be a lower-case colour like #1a1c2c, got {value!r}")
    return value


def _plain(value: Any, what: str) -> dict[str, Any]:
    """A JSON-able mapping with string keys (the request, the consistency measures)."""
    if not isinstance(value, Mapping):
        raise _fail(f"{what} must be a mapping, got {type(value).__name__}")
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{what} must be plain JSON data ({exc})") from None
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _keys(data: Any, what: str, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _fail(f"{what} must be a JSON object, got {type(data).__name__}")
    missing = sorted(required - set(data))
    if missing:
        raise _fail(f"{what} lacks {', '.join(missing)}")
    unknown = sorted(set(map(str, data)) - required - optional)
    if unknown:
        raise _fail(f"{what} has unknown key(s) {', '.join(unknown)}")
    return data


def _seq(value: Any, what: str, limit: int) -> Sequence[Any]:
    if not isinstance(value, (list, tuple)):
        raise _fail(f"{what} must be a list, got {type(value).__name__}")
    if len(value) > limit:
        raise _fail(f"{what} must have at most {limit} entries, got {len(value)}")
    return value


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame (or tile) of an asset.

    ``file`` is the frame alone at true resolution, ``rect`` where it lies in
    the sheet (``x, y, w, h``). A trimmed frame keeps only the opaque part of
    its cell: ``source_rect`` is where that part lies inside the cell, and
    ``rect``'s size equals ``source_rect``'s. ``pivot`` is in cell pixels
    (for characters, the feet: bottom centre). ``source_rect`` ``None`` means
    the whole cell; a :class:`Manifest` fills it in.
    """

    file: str
    rect: Rect
    duration_ms: int = 100
    pivot: tuple[int, int] = (0, 0)
    trimmed: bool = False
    source_rect: Rect | None = None

    def __post_init__(self) -> None:
        _path(self.file, "frame file")
        object.__setattr__(self, "rect", _rect(self.rect, "frame rect"))
        object.__setattr__(self, "pivot", _pair(self.pivot, "frame pivot"))
        if not 1 <= _int(self.duration_ms, "duration_ms") <= MAX_DURATION_MS:
            raise _fail(f"duration_ms must be 1-{MAX_DURATION_MS}, got {self.duration_ms}")
        if not isinstance(self.trimmed, bool):
            raise _fail(f"trimmed must be true or false, got {self.trimmed!r}")
        if self.source_rect is not None:
            src = _rect(self.source_rect, "source_rect")
            object.__setattr__(self, "source_rect", src)
            if src[2:] != self.rect[2:]:
                raise _fail(
                    f"{self.file}: source_rect size {src[2]}x{src[3]} differs from "
                    f"rect size {self.rect[2]}x{self.rect[3]}"
                )

    def to_dict(self, cell: tuple[int, int]) -> dict[str, Any]:
        return {
            "file": self.file,
            "rect": list(self.rect),
            "duration_ms": self.duration_ms,
            "pivot": list(self.pivot),
            "trimmed": self.trimmed,
            "source_rect": list(self.source_rect or (0, 0, *cell)),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Frame:
        d = _keys(
            data, "a frame", {"file", "rect"}, {"duration_ms", "pivot", "trimmed", "source_rect"}
        )
        return cls(
            file=d["file"],
            rect=_rect(d["rect"], "frame rect"),
            duration_ms=d.get("duration_ms", 100),
            pivot=_pair(d.get("pivot", [0, 0]), "frame pivot"),
            trimmed=d.get("trimmed", False),
            source_rect=None
            if d.get("source_rect") is None
            else _rect(d["source_rect"], "source_rect"),
        )


@dataclass(frozen=True, slots=True)
class Tag:
    """An animation clip: frames ``from_`` to ``to`` (inclusive), as in Aseprite."""

    name: str
    from_: int
    to: int
    direction: str = "forward"
    loop: bool = True
    fps: float = 10.0

    def __post_init__(self) -> None:
        _name(self.name, "tag name")
        _int(self.from_, "tag from")
        _int(self.to, "tag to")
        if not 0 <= self.from_ <= self.to:
            raise _fail(f"tag {self.name}: from must be 0..to, got {self.from_}..{self.to}")
        if self.direction not in TAG_DIRECTIONS:
            raise _fail(
                f"tag direction must be one of {', '.join(TAG_DIRECTIONS)}, got {self.direction!r}"
            )
        if not isinstance(self.loop, bool):
            raise _fail(f"tag loop must be true or false, got {self.loop!r}")
        if (
            isinstance(self.fps, bool)
            or not isinstance(self.fps, (int, float))
            or not math.isfinite(self.fps)
            or not 0 < self.fps <= 1000
        ):
            raise _fail(f"tag fps must be in (0, 1000], got {self.fps!r}")
        object.__setattr__(self, "fps", float(self.fps))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from": self.from_,
            "to": self.to,
            "direction": self.direction,
            "loop": self.loop,
            "fps": self.fps,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Tag:
        d = _keys(data, "a tag", {"name", "from", "to"}, {"direction", "loop", "fps"})
        return cls(
            d["name"],
            d["from"],
            d["to"],
            d.get("direction", "forward"),
            d.get("loop", True),
            d.get("fps", 10.0),
        )


@dataclass(frozen=True, slots=True)
class Sheet:
    """The packed image: all frames in one PNG.

    For ``layout == "grid"``, frame *i* sits in column ``i % columns``, row
    ``i // columns``; the cell at column *c* has its top-left pixel at
    ``offset + c * (cell + 2 * extrude + padding) + extrude`` (same for rows).
    ``extrude`` pixels of each frame's edge are repeated around it against
    texture bleeding; ``padding`` transparent pixels lie between extruded
    cells; ``offset`` is the outer margin. ``packed`` sheets have no columns or
    rows: read each frame's ``rect``.
    """

    image: str
    size: tuple[int, int]
    layout: str = "grid"
    columns: int | None = None
    rows: int | None = None
    padding: int = 0
    extrude: int = 0
    offset: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        _path(self.image, "sheet image")
        w, h = _pair(self.size, "sheet size")
        if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
            raise _fail(f"sheet size must be 1-{MAX_SIDE} a side, got {w}x{h}")
        object.__setattr__(self, "size", (w, h))
        if self.layout not in SHEET_LAYOUTS:
            raise _fail(f"sheet layout must be grid or packed, got {self.layout!r}")
        if self.layout == "grid":
            if self.columns is None or self.rows is None:
                raise _fail("a grid sheet needs columns and rows")
            if _int(self.columns, "columns") < 1 or _int(self.rows, "rows") < 1:
                raise _fail(f"columns and rows must be >= 1, got {self.columns}x{self.rows}")
        elif self.columns is not None or self.rows is not None:
            raise _fail("a packed sheet has no columns or rows (give null)")
        for what, v in (("padding", self.padding), ("extrude", self.extrude)):
            if not 0 <= _int(v, what) <= 64:
                raise _fail(f"{what} must be 0-64, got {v}")
        ox, oy = _pair(self.offset, "sheet offset")
        if ox < 0 or oy < 0:
            raise _fail(f"sheet offset must be >= 0, got {[ox, oy]}")
        object.__setattr__(self, "offset", (ox, oy))

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "size": list(self.size),
            "layout": self.layout,
            "columns": self.columns,
            "rows": self.rows,
            "padding": self.padding,
            "extrude": self.extrude,
            "offset": list(self.offset),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Sheet:
        d = _keys(
            data,
            "the sheet",
            {"image", "size"},
            {"layout", "columns", "rows", "padding", "extrude", "offset"},
        )
        return cls(
            image=d["image"],
            size=_pair(d["size"], "sheet size"),
            layout=d.get("layout", "grid"),
            columns=d.get("columns"),
            rows=d.get("rows"),
            padding=d.get("padding", 0),
            extrude=d.get("extrude", 0),
            offset=_pair(d.get("offset", [0, 0]), "sheet offset"),
        )


@dataclass(frozen=True, slots=True)
class Terrain:
    """A terrain of a tileset; its wang colour number is its position + 1."""

    name: str
    color: str

    def __post_init__(self) -> None:
        _name(self.name, "terrain name")
        _colour(self.color, "terrain color")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "color": self.color}

    @classmethod
    def from_dict(cls, data: Any) -> Terrain:
        d = _keys(data, "a terrain", {"name", "color"}, set())
        return cls(d["name"], d["color"])


@dataclass(frozen=True, slots=True)
class TileInfo:
    """The adjacency of one tile: frame ``index``, its Tiled wangid and its own terrain.

    ``wangid`` lists the terrain at top, top-right, right, bottom-right,
    bottom, bottom-left, left, top-left (Tiled's order); 0 is unset and
    terrains count from 1. ``terrain`` is the tile's own (centre) terrain,
    Godot's ``terrain`` of a tile; 0 when the layout has none (``wang16``).
    """

    index: int
    wangid: tuple[int, int, int, int, int, int, int, int]
    terrain: int = 0

    def __post_init__(self) -> None:
        if _int(self.index, "tile index") < 0:
            raise _fail(f"tile index must be >= 0, got {self.index}")
        w = _ints(self.wangid, 8, "wangid")
        object.__setattr__(self, "wangid", w)
        if _int(self.terrain, "tile terrain") < 0:
            raise _fail(f"tile terrain must be >= 0, got {self.terrain}")

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "wangid": list(self.wangid), "terrain": self.terrain}

    @classmethod
    def from_dict(cls, data: Any) -> TileInfo:
        d = _keys(data, "a tile", {"index", "wangid"}, {"terrain"})
        a, b, c, e, f, g, h, i = _ints(d["wangid"], 8, "wangid")
        return cls(d["index"], (a, b, c, e, f, g, h, i), d.get("terrain", 0))


@dataclass(frozen=True, slots=True)
class Tileset:
    """Autotile data: the layout, the terrains and each tile's wangid.

    ``wang16`` tiles set only the corners (odd positions of the wangid, the
    sides are 0); ``blob47`` tiles set all eight.
    """

    layout: str
    terrains: tuple[Terrain, ...]
    tiles: tuple[TileInfo, ...]

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise _fail(f"tileset layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        object.__setattr__(self, "terrains", tuple(self.terrains))
        object.__setattr__(self, "tiles", tuple(self.tiles))
        if not 1 <= len(self.terrains) <= MAX_TERRAINS:
            raise _fail(f"a tileset needs 1-{MAX_TERRAINS} terrains, got {len(self.terrains)}")
        names = [t.name for t in self.terrains]
        if len(set(names)) != len(names):
            raise _fail(f"terrain names must differ, got {names}")
        seen: set[int] = set()
        for tile in self.tiles:
            if tile.index in seen:
                raise _fail(f"tile index {tile.index} is listed twice")
            seen.add(tile.index)
            if tile.terrain > len(self.terrains):
                raise _fail(
                    f"tile {tile.index}: terrain must be 0-{len(self.terrains)}, got {tile.terrain}"
                )
            for pos, v in enumerate(tile.wangid):
                if not 0 <= v <= len(self.terrains):
                    raise _fail(
                        f"tile {tile.index}: wangid values must be 0-{len(self.terrains)}, "
                        f"got {list(tile.wangid)}"
                    )
                corner = pos % 2 == 1
                if self.layout == "wang16" and (v == 0) == corner:
                    raise _fail(
                        f"tile {tile.index}: a wang16 wangid sets the 4 corners only, "
                        f"got {list(tile.wangid)}"
                    )
                if self.layout == "blob47" and v == 0:
                    raise _fail(
                        f"tile {tile.index}: a blob47 wangid sets all 8 positions, "
                        f"got {list(tile.wangid)}"
                    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "terrains": [t.to_dict() for t in self.terrains],
            "tiles": [t.to_dict() for t in self.tiles],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Tileset:
        d = _keys(data, "the tileset", {"layout", "terrains", "tiles"}, set())
        return cls(
            d["layout"],
            tuple(Terrain.from_dict(t) for t in _seq(d["terrains"], "terrains", MAX_TERRAINS)),
            tuple(TileInfo.from_dict(t) for t in _seq(d["tiles"], "tiles", MAX_FRAMES)),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """One asset: its frames (or tiles), the sheet they are packed in, and how to use them.

    ``cell`` is the size of every frame before trimming. ``tags`` are the
    animation clips; ``palette`` the colours every frame uses (``#rrggbb``);
    ``tileset`` the adjacency data (only, and always, for ``kind ==
    "tileset"``); ``previews`` files for people (an animated GIF, a painted
    map). ``request`` is what made the asset (a ``GenerationRequest.to_dict()``
    or a set command's parameters), ``consistency`` what was measured on it.
    """

    kind: str
    name: str
    cell: tuple[int, int]
    frames: tuple[Frame, ...]
    sheet: Sheet | None = None
    tags: tuple[Tag, ...] = ()
    palette: tuple[str, ...] = ()
    tileset: Tileset | None = None
    previews: tuple[str, ...] = ()
    request: Mapping[str, Any] = field(default_factory=dict)
    consistency: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        # 1. What the asset is.
        if self.kind not in KINDS:
            raise _fail(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        _name(self.name, "asset name")
        cw, ch = _pair(self.cell, "cell")
        if not (1 <= cw <= MAX_CELL and 1 <= ch <= MAX_CELL):
            raise _fail(f"cell must be 1-{MAX_CELL} a side, got {cw}x{ch}")
        set_(self, "cell", (cw, ch))
        # 2. Frames, each inside its cell and (if packed) inside the sheet.
        frames = tuple(
            f if f.source_rect is not None else dataclasses.replace(f, source_rect=(0, 0, cw, ch))
            for f in self.frames
        )
        set_(self, "frames", frames)
        if not 1 <= len(frames) <= MAX_FRAMES:
            raise _fail(f"an asset has 1-{MAX_FRAMES} frames, got {len(frames)}")
        for f in frames:
            src = f.source_rect or (0, 0, cw, ch)
            if src[0] + src[2] > cw or src[1] + src[3] > ch:
                raise _fail(f"{f.file}: source_rect {list(src)} leaves the {cw}x{ch} cell")
            if not f.trimmed and src != (0, 0, cw, ch):
                raise _fail(f"{f.file}: an untrimmed frame's source_rect is the whole cell")
            if not (0 <= f.pivot[0] <= cw and 0 <= f.pivot[1] <= ch):
                raise _fail(f"{f.file}: pivot {list(f.pivot)} lies outside the {cw}x{ch} cell")
            if self.sheet is not None:
                x, y, w, h = f.rect
                if x + w > self.sheet.size[0] or y + h > self.sheet.size[1]:
                    raise _fail(
                        f"{f.file}: rect {list(f.rect)} leaves the "
                        f"{self.sheet.size[0]}x{self.sheet.size[1]} sheet"
                    )
        if self.sheet is not None and self.sheet.layout == "grid":
            columns, rows = self.sheet.columns or 0, self.sheet.rows or 0
            if len(frames) > columns * rows:
                raise _fail(
                    f"{len(frames)} frames do not fit a {self.sheet.columns}x{self.sheet.rows} grid"
                )
        # 3. Tags, palette, tileset, previews.
        tags = tuple(self.tags)
        set_(self, "tags", tags)
        if len(tags) > MAX_TAGS:
            raise _fail(f"an asset has at most {MAX_TAGS} tags, got {len(tags)}")
        names = [t.name for t in tags]
        if len(set(names)) != len(names):
            raise _fail(f"tag names must differ, got {names}")
        for t in tags:
            if t.to >= len(frames):
                raise _fail(f"tag {t.name} ends at frame {t.to}, but there are {len(frames)}")
        palette = tuple(self.palette)
        set_(self, "palette", palette)
        if len(palette) > MAX_COLOURS:
            raise _fail(f"a palette has at most {MAX_COLOURS} colours, got {len(palette)}")
        for c in palette:
            _colour(c, "palette colour")
        if len(set(palette)) != len(palette):
            raise _fail("palette colours must differ")
        if (self.kind == "tileset") != (self.tileset is not None):
            raise _fail("a tileset asset, and only a tileset asset, has tileset data")
        if self.tileset is not None:
            for tile in self.tileset.tiles:
                if tile.index >= len(frames):
                    raise _fail(f"tile index {tile.index} has no frame ({len(frames)} frames)")
        previews = tuple(_path(p, "preview") for p in self.previews)
        set_(self, "previews", previews)
        files = self.files()
        if len(set(files)) != len(files):
            raise _fail("every file of an asset must have its own path")
        if MANIFEST_NAME in files:
            raise _fail(f"no file of an asset may be called {MANIFEST_NAME}")
        # 4. Free-form parts, as plain JSON.
        set_(self, "request", _plain(self.request, "request"))
        set_(self, "consistency", _plain(self.consistency, "consistency"))

    def files(self) -> tuple[str, ...]:
        """Every file the manifest names: the sheet, the frames, the previews."""
        head = (self.sheet.image,) if self.sheet is not None else ()
        return head + tuple(f.file for f in self.frames) + self.previews

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON, in the documented key order."""
        return {
            "format": ASSET_FORMAT,
            "kind": self.kind,
            "name": self.name,
            "cell": list(self.cell),
            "sheet": None if self.sheet is None else self.sheet.to_dict(),
            "frames": [f.to_dict(self.cell) for f in self.frames],
            "tags": [t.to_dict() for t in self.tags],
            "palette": list(self.palette),
            "tileset": None if self.tileset is None else self.tileset.to_dict(),
            "previews": list(self.previews),
            "request": dict(self.request),
            "consistency": dict(self.consistency),
        }

    def to_json(self) -> str:
        """The ``manifest.json`` text: indented, short lists on one line, ending in a newline."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        return _FLAT_LIST.sub(_one_line, text) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """Read :meth:`to_dict` output; unknown keys and other formats are an error."""
        d = _keys(
            data,
            "a manifest",
            {"format", "kind", "name", "cell", "frames"},
            {"sheet", "tags", "palette", "tileset", "previews", "request", "consistency"},
        )
        if d["format"] != ASSET_FORMAT:
            raise _fail(f"not a dgx-pixels asset manifest ({ASSET_FORMAT}), got {d['format']!r}")
        return cls(
            kind=d["kind"],
            name=d["name"],
            cell=_pair(d["cell"], "cell"),
            frames=tuple(Frame.from_dict(f) for f in _seq(d["frames"], "frames", MAX_FRAMES)),
            sheet=None if d.get("sheet") is None else Sheet.from_dict(d["sheet"]),
            tags=tuple(Tag.from_dict(t) for t in _seq(d.get("tags", []), "tags", MAX_TAGS)),
            palette=tuple(_seq(d.get("palette", []), "palette", MAX_COLOURS)),
            tileset=None if d.get("tileset") is None else Tileset.from_dict(d["tileset"]),
            previews=tuple(_seq(d.get("previews", []), "previews", 64)),
            request=d.get("request", {}),
            consistency=d.get("consistency", {}),
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a ``manifest.json`` text."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(f"a manifest must be JSON ({exc})") from None
        return cls.from_dict(data)


# A list of scalars as json.dumps indents it: "[" then a newline (so the bracket is JSON's,
# never part of a string, which holds no raw newline), items without brackets or braces.
_FLAT_LIST = re.compile(r"\[\n\s+([^\[\]{}\n]*(?:\n\s+[^\[\]{}\n]*)*)\n\s*\]")


def _one_line(match: re.Match[str]) -> str:
    items = [line.strip() for line in match.group(1).split("\n")]
    return "[" + " ".join(items) + "]"


def read_manifest(path: str | Path) -> Manifest:
    """The manifest of an asset folder (or of a ``manifest.json`` given directly).

    The files it names must exist in the folder; they are not opened.
    """
    p = Path(path)
    file = p / MANIFEST_NAME if p.is_dir() else p
    if not file.is_file():
        raise ManifestError(f"{file}: no such manifest", path=str(file))
    if file.stat().st_size > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{file}: larger than {MAX_MANIFEST_BYTES} bytes", path=str(file))
    try:
        text = file.read_text(encoding="utf-8")
        manifest = Manifest.from_json(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{file}: cannot read it ({exc})", path=str(file)) from None
    except ManifestError as exc:
        raise ManifestError(f"{file}: {exc.message}", path=str(file)) from None
    folder = file.parent.resolve()
    for name in manifest.files():
        target = (folder / name).resolve()
        if not target.is_relative_to(folder):
            raise ManifestError(f"{file}: {name} links outside the asset folder", path=str(file))
        if not target.is_file():
            raise ManifestError(f"{file}: names {name}, which is missing", path=str(file))
    return manifest
