"""Aseprite: a real ``.aseprite`` file, and the sheet PNG with Aseprite's JSON data.

The binary follows the Aseprite file format
(https://github.com/aseprite/aseprite/blob/main/docs/ase-file-specs.md),
little-endian throughout:

- a 128-byte header (magic ``0xA5E0``, frame count, canvas = one cell,
  32 bpp RGBA, the palette's colour count, the cell as the grid);
- per frame a 16-byte header (magic ``0xF1FA``, chunk count, duration in ms)
  and its chunks. Frame 0 carries the sprite-wide chunks: colour profile
  (``0x2007``, sRGB), palette (``0x2019``), the one layer (``0x2004``), tags
  (``0x2018``: from, to, direction, repeat, name) and a slice (``0x2022``)
  whose keys carry each frame's pivot. Every frame has one cel (``0x2005``,
  type 2: zlib-compressed RGBA rows).

Tags: a looping clip has repeat 0 (Aseprite: "infinite"), a one-shot clip
repeat 1. ``bevy_aseprite_ultra`` and the Aseprite editor read these files;
the tests read them back with two independent readers from PyPI.

The JSON is Aseprite's own ``--data`` format (``json-hash``): ``frames``
keyed ``"<name> <i>.aseprite"`` and ``meta`` with ``frameTags``, ``layers``
and ``slices``, as ``aseprite --batch --sheet`` writes it.
"""

from __future__ import annotations

import struct
import zlib

from dgx_pixels.export._asset import DIRECTIONS, Asset
from dgx_pixels.export._sheet_json import aseprite_sheet
from dgx_pixels.export._target import Place, sheet_bytes
from dgx_pixels.export._writer import OutFile

__all__ = ["SUFFIX", "aseprite_bytes", "plan"]

#: The main file a ``-o`` path may name.
SUFFIX = ".aseprite"

_HEADER_MAGIC = 0xA5E0
_FRAME_MAGIC = 0xF1FA
_LAYER, _CEL, _COLOR_PROFILE, _TAGS, _PALETTE, _SLICE = (
    0x2004,
    0x2005,
    0x2007,
    0x2018,
    0x2019,
    0x2022,
)
_LAYER_VISIBLE_EDITABLE = 1 | 2
_FLAG_LAYER_OPACITY_VALID = 1
_SLICE_HAS_PIVOT = 2


def plan(asset: Asset, place: Place) -> list[OutFile]:
    """The ``.aseprite`` file, the sheet PNG and its Aseprite JSON."""
    folder = place.folder
    image = f"{place.stem}.png"
    return [
        OutFile(folder / f"{place.stem}{SUFFIX}", aseprite_bytes(asset), _summary(asset)),
        OutFile(folder / image, sheet_bytes(asset), "sheet"),
        OutFile(
            folder / f"{place.stem}.json",
            aseprite_sheet(asset, image=image, title=place.stem),
            "Aseprite JSON sheet data",
        ),
    ]


def aseprite_bytes(asset: Asset) -> bytes:
    """The whole ``.aseprite`` file of ``asset``: one frame per cell, one layer."""
    w, h = asset.cell
    frames = []
    for index, frame in enumerate(asset.frames):
        chunks = _sprite_chunks(asset) if index == 0 else []
        chunks.append(_cel(asset, index))
        frames.append(_frame(chunks, frame.duration_ms))
    body = b"".join(frames)
    colours = len(asset.palette)
    header = struct.pack(
        "<IHHHHHIHIIB3xHBBhhHH84x",
        128 + len(body),
        _HEADER_MAGIC,
        len(asset.frames),
        w,
        h,
        32,  # RGBA
        _FLAG_LAYER_OPACITY_VALID,
        asset.frames[0].duration_ms,  # deprecated speed field: the first frame's duration
        0,
        0,
        0,  # transparent index: only for indexed sprites
        colours if 0 < colours < 256 else 0,  # 0 reads as 256
        1,
        1,  # square pixels
        0,
        0,
        w,
        h,  # the grid: one cell
    )
    assert len(header) == 128
    return header + body


def _summary(asset: Asset) -> str:
    parts = [f"{len(asset.frames)} frame{'s' if len(asset.frames) != 1 else ''}"]
    if asset.tags:
        parts.append(f"{len(asset.tags)} tag{'s' if len(asset.tags) != 1 else ''}")
    return ", ".join(parts)


def _frame(chunks: list[bytes], duration_ms: int) -> bytes:
    data = b"".join(chunks)
    n = len(chunks)
    return (
        struct.pack("<IHHH2xI", 16 + len(data), _FRAME_MAGIC, min(n, 0xFFFF), duration_ms, n) + data
    )


def _chunk(kind: int, data: bytes) -> bytes:
    return struct.pack("<IH", 6 + len(data), kind) + data


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("<H", len(raw)) + raw


def _sprite_chunks(asset: Asset) -> list[bytes]:
    """Frame 0's sprite-wide chunks: colour profile, palette, layer, tags, slice."""
    chunks = [_chunk(_COLOR_PROFILE, struct.pack("<HHi8x", 1, 0, 0))]  # sRGB
    if asset.palette:
        entries = b"".join(
            struct.pack("<HBBBB", 0, *bytes.fromhex(c[1:]), 255) for c in asset.palette
        )
        n = len(asset.palette)
        chunks.append(_chunk(_PALETTE, struct.pack("<III8x", n, 0, n - 1) + entries))
    w, h = asset.cell
    chunks.append(
        _chunk(
            _LAYER,
            struct.pack("<HHHHHHB3x", _LAYER_VISIBLE_EDITABLE, 0, 0, w, h, 0, 255)
            + _string(asset.name),
        )
    )
    if asset.tags:
        tags = b"".join(
            struct.pack(
                "<HHBH6x3Bx",
                tag.first,
                tag.last,
                DIRECTIONS.index(tag.direction),
                0 if tag.loop else 1,
                0,
                0,
                0,
            )
            + _string(tag.name)
            for tag in asset.tags
        )
        chunks.append(_chunk(_TAGS, struct.pack("<H8x", len(asset.tags)) + tags))
    slice_chunk = _pivot_slice(asset)
    if slice_chunk:
        chunks.append(slice_chunk)
    return chunks


def _pivot_slice(asset: Asset) -> bytes:
    """One slice over the whole cell, named after the asset, keyed where the pivot changes."""
    keys = asset.pivot_keys()
    if not keys:
        return b""
    w, h = asset.cell
    data = struct.pack("<III", len(keys), _SLICE_HAS_PIVOT, 0) + _string(asset.name)
    for index, (px, py) in keys:
        data += struct.pack("<IiiIIii", index, 0, 0, w, h, px, py)
    return _chunk(_SLICE, data)


def _cel(asset: Asset, index: int) -> bytes:
    image = asset.frame_image(index)
    w, h = image.size
    pixels = zlib.compress(image.tobytes("raw", "RGBA"), 9)
    head = struct.pack("<HhhBHh5xHH", 0, 0, 0, 255, 2, 0, w, h)
    return _chunk(_CEL, head + pixels)
