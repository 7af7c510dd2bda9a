"""Godot 4: a ``SpriteFrames`` resource per sprite or animation, a ``TileSet`` per tileset.

Text resources (``.tres``, ``format=3``) as the Godot 4 editor saves them,
checked against the class reference
(https://docs.godotengine.org/en/stable/classes/class_spriteframes.html,
class_tileset.html, class_tilesetatlassource.html, class_tiledata.html):

``NAME.tres`` for a sprite or an animation (``SpriteFrames``)
    one ``ext_resource`` for the sheet, one ``AtlasTexture`` sub-resource per
    frame (``atlas``, ``region = Rect2(x, y, w, h)``), and ``animations``: one
    per tag (a sprite: one ``default``) with ``name`` (a ``StringName``,
    ``&"walk"``), ``speed`` (the tag's fps), ``loop`` and ``frames``, each
    ``{"duration": d, "texture": SubResource(...)}`` where ``d`` is relative:
    a frame shows for ``d / speed`` seconds, so ``d = ms * fps / 1000``.
    Godot plays forward only: a reverse tag lists its frames backwards, a
    ping-pong tag forwards then back.
``NAME.tres`` for a tileset (``TileSet``; seamless ``tiles`` get one without terrains)
    ``tile_size``; terrain set 0 with ``mode`` 0 (match corners and sides)
    for blob47 or 1 (match corners) for wang16, each terrain's ``name`` and
    ``color``; a ``TileSetAtlasSource`` (``texture``,
    ``texture_region_size``, ``margins``, ``separation``) whose tiles
    ``X:Y/0`` carry ``terrain_set``, ``terrain`` and
    ``terrains_peering_bit/<side or corner>``, so Godot's terrain painter
    works at once. Wangid value ``n`` is Godot terrain ``n - 1``; 0 sets no bit.

Paths are ``res://`` paths: relative to the folder holding ``project.godot``
(with ``--project``, the project itself). Nearest filtering is not part of
these files in Godot 4: set Project Settings > Rendering > Textures > Canvas
Textures > Default Texture Filter to Nearest (or ``texture_filter`` on the
node).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dgx_pixels.export._asset import Asset, Tile
from dgx_pixels.export._target import Place, engine_path, sheet_bytes
from dgx_pixels.export._writer import OutFile

__all__ = ["NOTE", "PEERING_BITS", "SUFFIX", "plan", "project_root"]

#: The main file a ``-o`` path may name.
SUFFIX = ".tres"
#: What the user must set once in Godot: the files cannot.
NOTE = (
    "Godot: set Project Settings > Rendering > Textures > Canvas Textures > "
    "Default Texture Filter to Nearest so pixel art stays sharp"
)
#: Godot's peering bit of each wangid position (Tiled's order).
PEERING_BITS = (
    "top_side",
    "top_right_corner",
    "right_side",
    "bottom_right_corner",
    "bottom_side",
    "bottom_left_corner",
    "left_side",
    "top_left_corner",
)
_MODE = {"blob47": 0, "wang16": 1}  # TileSet.TerrainMode: corners and sides, corners


def project_root(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` holding ``project.godot``: ``res://``."""
    for candidate in (folder, *folder.parents):
        if (candidate / "project.godot").is_file():
            return candidate
    return None


def plan(asset: Asset, place: Place) -> list[OutFile]:
    """The sheet PNG and its ``SpriteFrames`` or ``TileSet`` resource."""
    image = f"{place.stem}.png"
    texture = "res://" + engine_path(place, image)
    if asset.tileset is not None:
        resource, what = _tileset(asset, texture), "TileSet with terrains"
    elif asset.kind == "tiles":  # seamless tiles: a TileSet without terrain rules
        resource, what = _tileset(asset, texture), "TileSet"
    else:
        resource, what = _sprite_frames(asset, texture), "SpriteFrames"
    return [
        OutFile(place.folder / image, sheet_bytes(asset), "sheet"),
        OutFile(place.folder / f"{place.stem}{SUFFIX}", resource.encode(), what),
    ]


def _sprite_frames(asset: Asset, texture: str) -> str:
    count = len(asset.frames)
    lines = [
        f'[gd_resource type="SpriteFrames" load_steps={count + 2} format=3]',
        "",
        f'[ext_resource type="Texture2D" path={_string(texture)} id="1_sheet"]',
        "",
    ]
    for i, frame in enumerate(asset.frames):
        x, y, w, h = frame.rect
        lines += [
            f'[sub_resource type="AtlasTexture" id="AtlasTexture_{i}"]',
            'atlas = ExtResource("1_sheet")',
            f"region = Rect2({x}, {y}, {w}, {h})",
            "",
        ]
    clips = [(t.name, _order(t.first, t.last, t.direction), t.fps, t.loop) for t in asset.tags]
    if not clips:
        clips = [("default", list(range(count)), 1000 / asset.frames[0].duration_ms, True)]
    animations = []
    for name, order, fps, loop in clips:
        frames = ", ".join(
            "{\n"
            f'"duration": {_float(asset.frames[i].duration_ms * fps / 1000)},\n'
            f'"texture": SubResource("AtlasTexture_{i}")\n'
            "}"
            for i in order
        )
        animations.append(
            "{\n"
            f'"frames": [{frames}],\n'
            f'"loop": {"true" if loop else "false"},\n'
            f'"name": &{_string(name)},\n'
            f'"speed": {_float(fps)}\n'
            "}"
        )
    lines += ["[resource]", f"animations = [{', '.join(animations)}]", ""]
    return "\n".join(lines)


def _order(first: int, last: int, direction: str) -> list[int]:
    forward = list(range(first, last + 1))
    if direction == "reverse":
        return forward[::-1]
    if direction == "pingpong":
        return forward + forward[-2:0:-1]
    if direction == "pingpong_reverse":
        back = forward[::-1]
        return back + back[-2:0:-1]
    return forward


def _tileset(asset: Asset, texture: str) -> str:
    tileset = asset.tileset
    w, h = asset.cell
    lines = [
        '[gd_resource type="TileSet" load_steps=3 format=3]',
        "",
        f'[ext_resource type="Texture2D" path={_string(texture)} id="1_sheet"]',
        "",
        '[sub_resource type="TileSetAtlasSource" id="TileSetAtlasSource_0"]',
        'texture = ExtResource("1_sheet")',
        f"texture_region_size = Vector2i({w}, {h})",
    ]
    if asset.offset != (0, 0):
        lines.append(f"margins = Vector2i({asset.offset[0]}, {asset.offset[1]})")
    if asset.padding != (0, 0):
        lines.append(f"separation = Vector2i({asset.padding[0]}, {asset.padding[1]})")
    by_frame = {t.index: t for t in tileset.tiles} if tileset is not None else {}
    for i in range(len(asset.frames)):
        grid = asset.grid_index(i)
        if grid is None:  # composed sheets are always grids; a plain grid's frames are on it
            continue
        key = f"{grid % asset.columns}:{grid // asset.columns}/0"
        lines.append(f"{key} = 0")
        tile = by_frame.get(i)
        if tile is None or tileset is None:
            continue
        lines += [f"{key}/terrain_set = 0", f"{key}/terrain = {_centre(tile)}"]
        for bit, value in zip(PEERING_BITS, tile.wangid, strict=True):
            if value:
                lines.append(f"{key}/terrains_peering_bit/{bit} = {value - 1}")
    lines += ["", "[resource]", f"tile_size = Vector2i({w}, {h})"]
    if tileset is not None:
        lines.append(f"terrain_set_0/mode = {_MODE[tileset.layout]}")
        for n, terrain in enumerate(tileset.terrains):
            lines += [
                f"terrain_set_0/terrain_{n}/name = {_string(terrain.name)}",
                f"terrain_set_0/terrain_{n}/color = {_colour(terrain.color)}",
            ]
    lines += ['sources/0 = SubResource("TileSetAtlasSource_0")', ""]
    return "\n".join(lines)


def _centre(tile: Tile) -> int:
    """Godot's ``terrain`` of a tile: the manifest's, else (wang16) its most common corner."""
    if tile.terrain:
        return tile.terrain - 1
    corners = [v for v in tile.wangid if v]
    if not corners:
        return -1
    counts = Counter(corners)
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best) - 1  # a tie: the first terrain


def _colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return f"Color({r:.6g}, {g:.6g}, {b:.6g}, 1)"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _float(value: float) -> str:
    text = f"{value:.6g}"
    return text if any(c in text for c in ".e") else text + ".0"
