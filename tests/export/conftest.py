"""Real assets to export, built once per test session from DCSS sprites (CC0).

- ``sprite``: a generated-sprite's four files (written by ``assets.save_result``)
  with the DCSS wolf as its sprite;
- ``animation``: the four DCSS boomerang frames on a 2x2 sheet with 2 px
  padding, two clips, uneven durations and pivots;
- ``wang16`` and ``blob47``: tilesets painted from the DCSS grass and dirt
  floors, a quadrant (wang16) or an edge/corner band (blob47) per terrain;
  the blob set also has the plain dirt tile (48 tiles, as ``tileset`` makes).

Sets are written by the asset store's own writer (``assets.write_asset``
with a ``Manifest``), as the sprite-set commands write them; ``packed`` is
the animation again as a tight, trimmed sheet.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"
EXPORT_DATA = DATA / "export"
CELL = 32


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


def make_animation(base: Path, *, packed: bool = False) -> Path:
    from dgx_pixels.assets import Frame, Manifest, Sheet, Tag, write_asset

    pad = 2
    cells = [Image.open(EXPORT_DATA / f"boomerang{i}.png").convert("RGBA") for i in range(4)]
    files: dict[str, Image.Image] = {f"frames/spin_{i}.png": c for i, c in enumerate(cells)}
    durations, pivots = [80, 80, 120, 60], [(16, 28), (16, 28), (16, 28), (15, 27)]
    frames = []
    if packed:  # each frame trimmed to its opaque box, packed in one row
        boxes = [c.getbbox() or (0, 0, 1, 1) for c in cells]
        width = sum(b[2] - b[0] for b in boxes)
        sheet = Image.new("RGBA", (width, max(b[3] - b[1] for b in boxes)), (0, 0, 0, 0))
        x = 0
        for i, (c, b) in enumerate(zip(cells, boxes, strict=True)):
            w, h = b[2] - b[0], b[3] - b[1]
            sheet.paste(c.crop(b), (x, 0))
            frames.append(
                Frame(
                    f"frames/spin_{i}.png",
                    (x, 0, w, h),
                    durations[i],
                    pivots[i],
                    trimmed=True,
                    source_rect=(b[0], b[1], w, h),
                )
            )
            x += w
        layout = Sheet("sheet.png", sheet.size, "packed")
    else:
        sheet = Image.new("RGBA", (2 * CELL + pad, 2 * CELL + pad), (0, 0, 0, 0))
        for i, c in enumerate(cells):
            x, y = (i % 2) * (CELL + pad), (i // 2) * (CELL + pad)
            sheet.paste(c, (x, y))
            frames.append(
                Frame(f"frames/spin_{i}.png", (x, y, CELL, CELL), durations[i], pivots[i])
            )
        layout = Sheet("sheet.png", sheet.size, "grid", columns=2, rows=2, padding=pad)
    files["sheet.png"] = sheet
    manifest = Manifest(
        kind="animation" if not packed else "sheet",
        name="boomerang-spin" if not packed else "boomerang-packed",
        cell=(CELL, CELL),
        frames=tuple(frames),
        sheet=layout,
        tags=(
            Tag("spin", 0, 3, "forward", loop=True, fps=12),
            Tag("wobble", 1, 2, "pingpong", loop=False, fps=8),
        ),
    )
    return write_asset(base / manifest.name, manifest, files)


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
    """A tile showing the terrains its wangid names.

    wang16 (corners only): each quadrant is its corner's terrain. blob47: the
    centre is grass and each side or corner region of the 3x3 is its terrain.
    """
    tile = grass.copy()
    if not any(wangid[k] for k in (0, 2, 4, 6)):  # wang16
        quadrants = {1: (16, 0), 3: (16, 16), 5: (0, 16), 7: (0, 0)}
        for position, (x, y) in quadrants.items():
            if wangid[position] == 2:
                tile.paste(dirt.crop((x, y, x + 16, y + 16)), (x, y))
        return tile
    third = [(0, 10), (10, 22), (22, 32)]
    # wangid position -> (column, row) of its region in the 3x3
    regions = [(1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1), (0, 0)]
    for position, value in enumerate(wangid):
        if value != 2:
            continue
        (x0, x1), (y0, y1) = third[regions[position][0]], third[regions[position][1]]
        tile.paste(dirt.crop((x0, y0, x1, y1)), (x0, y0))
    return tile


def make_tileset(base: Path, layout: str) -> Path:
    from dgx_pixels.assets import Frame, Manifest, Sheet, Terrain, TileInfo, Tileset, write_asset

    grass = Image.open(EXPORT_DATA / "grass0.png").convert("RGBA")
    dirt = Image.open(EXPORT_DATA / "dirt0.png").convert("RGBA")
    wangids = wang16_tiles() if layout == "wang16" else blob47_tiles()
    columns = 4 if layout == "wang16" else 8
    rows = -(-len(wangids) // columns)
    sheet = Image.new("RGBA", (columns * CELL, rows * CELL), (0, 0, 0, 0))
    frames, files = [], {}
    centres = [1 if layout == "blob47" else 0] * len(wangids)
    if layout == "blob47":
        wangids.append([2] * 8)  # the plain ground tile: dirt all round
        centres.append(2)
    for i, wangid in enumerate(wangids):
        x, y = (i % columns) * CELL, (i // columns) * CELL
        tile = dirt.copy() if centres[i] == 2 else paint_tile(wangid, grass, dirt)
        sheet.paste(tile, (x, y))
        files[f"tiles/{i}.png"] = tile
        frames.append(Frame(f"tiles/{i}.png", (x, y, CELL, CELL)))
    files["sheet.png"] = sheet
    manifest = Manifest(
        kind="tileset",
        name=f"grass-dirt-{layout}",
        cell=(CELL, CELL),
        frames=tuple(frames),
        sheet=Sheet("sheet.png", sheet.size, "grid", columns=columns, rows=rows),
        tileset=Tileset(
            layout,
            (Terrain("grass", "#38b764"), Terrain("dirt", "#a7702c")),
            tuple(
                TileInfo(i, tuple(w), centres[i])  # type: ignore[arg-type]
                for i, w in enumerate(wangids)
            ),
        ),
    )
    return write_asset(base / manifest.name, manifest, files)


@pytest.fixture(scope="session")
def made_assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("made-assets")
    return {
        "sprite": make_sprite(base),
        "animation": make_animation(base),
        "wang16": make_tileset(base, "wang16"),
        "blob47": make_tileset(base, "blob47"),
        "packed": make_animation(base, packed=True),
    }


KINDS = ["sprite", "animation", "wang16", "blob47"]
