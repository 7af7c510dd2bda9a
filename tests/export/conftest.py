"""Real assets to export, built once per test session from DCSS sprites (CC0).

- ``sprite``: a generated-sprite's four files (written by ``assets.save_result``)
  with the DCSS wolf as its sprite;
- ``animation``: the four DCSS boomerang frames on a 2x2 sheet with 2 px
  padding, two clips, uneven durations and pivots;
- ``wang16`` and ``blob47``: tilesets painted from the DCSS grass and dirt
  floors, a quadrant (wang16) or an edge/corner band (blob47) per terrain.

Sets are written as ``manifest.json`` by :func:`write_manifest`, in the
``dgx-pixels/asset@1`` layout the sprite-set work writes.
"""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"
EXPORT_DATA = DATA / "export"
CELL = 32


def write_manifest(folder: Path, document: dict[str, Any], sheet: Image.Image) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sheet.save(folder / document["sheet"]["image"])
    path = folder / "manifest.json"
    path.write_text(json.dumps({"format": "dgx-pixels/asset@1", **document}, indent=2))
    return folder


def make_sprite(base: Path) -> Path:
    from dgx_pixels.assets import save_result
    from dgx_pixels.engine import GeneratedImage, GenerationResult, Timings
    from dgx_pixels.request import GenerationRequest

    wolf = Image.open(DATA / "dcss-wolf.png").convert("RGBA")
    request = GenerationRequest("a wolf", size=wolf.size, seed=7, model="random:sdxl-tiny")
    result = GenerationResult(
        request=request,
        images=[GeneratedImage(7, wolf, wolf.convert("RGB").resize((256, 256)))],
        timings=Timings(1.0, 1.0, 0.0, 1),
        drawing_size=(256, 256),
        factor=8,
        scheduler="euler",
        device="CPU",
        dtype="fp32",
        model={"id": "random:sdxl-tiny", "kind": "random", "source": "sdxl-tiny"},
        loras=[],
        versions={"dgx_pixels": "0.1.0"},
        pixel_spec={"size": list(wolf.size)},
    )
    (files,) = save_result(result, base / "sprite")
    return files.metadata


def make_animation(base: Path) -> Path:
    pad = 2
    frames = [Image.open(EXPORT_DATA / f"boomerang{i}.png").convert("RGBA") for i in range(4)]
    sheet = Image.new("RGBA", (2 * CELL + pad, 2 * CELL + pad), (0, 0, 0, 0))
    records = []
    for i, frame in enumerate(frames):
        x, y = (i % 2) * (CELL + pad), (i // 2) * (CELL + pad)
        sheet.paste(frame, (x, y))
        records.append(
            {
                "file": f"frames/spin_{i}.png",
                "rect": [x, y, CELL, CELL],
                "duration_ms": [80, 80, 120, 60][i],
                "pivot": [16, 28] if i < 3 else [15, 27],
            }
        )
    document = {
        "kind": "animation",
        "name": "boomerang-spin",
        "cell": [CELL, CELL],
        "sheet": {
            "image": "sheet.png",
            "size": list(sheet.size),
            "columns": 2,
            "rows": 2,
            "padding": pad,
            "extrude": 0,
            "offset": [0, 0],
        },
        "frames": records,
        "tags": [
            {"name": "spin", "from": 0, "to": 3, "direction": "forward", "loop": True, "fps": 12},
            {
                "name": "wobble",
                "from": 1,
                "to": 2,
                "direction": "pingpong",
                "loop": False,
                "fps": 8,
            },
        ],
    }
    return write_manifest(base / "boomerang-spin", document, sheet)


def wang16_tiles() -> list[list[int]]:
    """The 16 corner tiles: wangid (Tiled order) with corners grass (1) or dirt (2)."""
    tiles = []
    for tl, tr, br, bl in product((1, 2), repeat=4):
        tiles.append([0, tr, 0, br, 0, bl, 0, tl])
    return tiles


def blob47_tiles() -> list[list[int]]:
    """The 47 blob tiles: a corner is grass only where both edges beside it are."""
    seen = []
    for bits in product((1, 2), repeat=8):
        top, tr, right, br, bottom, bl, left, tl = bits
        tr = tr if top == right == 1 else 2
        br = br if bottom == right == 1 else 2
        bl = bl if bottom == left == 1 else 2
        tl = tl if top == left == 1 else 2
        wangid = [top, tr, right, br, bottom, bl, left, tl]
        if wangid not in seen:
            seen.append(wangid)
    assert len(seen) == 47
    return seen


def paint_tile(wangid: list[int], grass: Image.Image, dirt: Image.Image) -> Image.Image:
    """A tile whose 3x3 regions (sides, corners, centre) show the terrain the wangid names."""
    tile = grass.copy()
    third = [(0, 10), (10, 22), (22, 32)]
    regions = {
        0: (1, 0),
        1: (2, 0),
        2: (2, 1),
        3: (2, 2),
        4: (1, 2),
        5: (0, 2),
        6: (0, 1),
        7: (0, 0),
    }
    for position, value in enumerate(wangid):
        if value != 2:
            continue
        (x0, x1), (y0, y1) = third[regions[position][0]], third[regions[position][1]]
        tile.paste(dirt.crop((x0, y0, x1, y1)), (x0, y0))
    return tile


def make_tileset(base: Path, layout: str) -> Path:
    grass = Image.open(EXPORT_DATA / "grass0.png").convert("RGBA")
    dirt = Image.open(EXPORT_DATA / "dirt0.png").convert("RGBA")
    wangids = wang16_tiles() if layout == "wang16" else blob47_tiles()
    columns = 4 if layout == "wang16" else 8
    rows = -(-len(wangids) // columns)
    sheet = Image.new("RGBA", (columns * CELL, rows * CELL), (0, 0, 0, 0))
    frames = []
    for i, wangid in enumerate(wangids):
        x, y = (i % columns) * CELL, (i // columns) * CELL
        sheet.paste(paint_tile(wangid, grass, dirt), (x, y))
        frames.append({"rect": [x, y, CELL, CELL], "duration_ms": 100})
    document = {
        "kind": "tileset",
        "name": f"grass-dirt-{layout}",
        "cell": [CELL, CELL],
        "sheet": {"image": "sheet.png", "size": list(sheet.size), "columns": columns, "rows": rows},
        "frames": frames,
        "tags": [],
        "tileset": {
            "layout": layout,
            "terrains": [
                {"name": "grass", "color": "#38b764"},
                {"name": "dirt", "color": "#a7702c"},
            ],
            "tiles": [{"index": i, "wangid": w} for i, w in enumerate(wangids)],
        },
    }
    return write_manifest(base / f"grass-dirt-{layout}", document, sheet)


@pytest.fixture(scope="session")
def made_assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("made-assets")
    return {
        "sprite": make_sprite(base),
        "animation": make_animation(base),
        "wang16": make_tileset(base, "wang16"),
        "blob47": make_tileset(base, "blob47"),
    }


KINDS = ["sprite", "animation", "wang16", "blob47"]
