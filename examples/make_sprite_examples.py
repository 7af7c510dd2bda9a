"""Make the sprite-set examples and pictures from real DCSS tiles, with dgx_pixels itself.

Run from the repository root (the DCSS tiles are in ../shared/data/dcss-rltiles)::

    .venv/bin/python examples/make_sprite_examples.py

It writes:

- ``tests/data/dcss-sand-grass-a2.png``: an RPG Maker A2-style autotile
  template (sand over grass) assembled from DCSS's nine sand/grass edge tiles
  (``dngn/floor/grass/grass_{n,ne,e,se,s,sw,w,nw,full}.png``). DCSS has no
  inner corners; each is the overlap of the two edges that meet there.
- ``tests/data/dcss-grass0.png``: the plain grass tile (the template's terrain B).
- ``docs/images/a2-template.png``: that template with its quarter grid, labelled.
- ``docs/images/blob47.png`` and ``docs/images/wang16.png``: every tile of
  each layout composed from the template, with its number, and a painted map.
- ``docs/images/tileset-preview.png``: a random map painted with the blob47 set.
- ``docs/images/sheet-layout.png``: a grid sheet with padding and extrusion.
- ``docs/images/animation-layout.png``: which cell of an animation sheet is which frame.
- ``docs/images/agnes-effects.gif``: DCSS's Agnes with four model-free effects.

Everything is made by the project's own functions (``dgx_pixels.sprites``),
from CC0 tiles (credited in tests/data/CREDITS.md).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from dgx_pixels.assets import encode_gif
from dgx_pixels.image_files import read_image
from dgx_pixels.pixel.preview import upscale
from dgx_pixels.sprites import effect_frames, pack_sheet, paint_map, template_tiles

ROOT = Path(__file__).resolve().parent.parent
TILES = ROOT.parent.parent / "shared" / "data" / "dcss-rltiles"
DATA = ROOT / "tests" / "data"
IMAGES = ROOT / "docs" / "images"
BACKDROP = (46, 52, 64, 255)


def a2_template_from_edges(folder: Path, stem: str) -> Image.Image:
    """An A2 template from a DCSS nine-tile edge set ``<stem>_{n,ne,...,full}.png``."""
    tiles = {
        name: np.asarray(read_image(folder / f"{stem}_{name}.png"))
        for name in ("n", "ne", "e", "se", "s", "sw", "w", "nw", "full")
    }
    size = tiles["full"].shape[0]
    q = size // 2
    out = np.zeros((3 * size, 2 * size, 4), dtype=np.uint8)

    def quarter(name: str, qx: int, qy: int) -> np.ndarray:
        return tiles[name][qy * q : (qy + 1) * q, qx * q : (qx + 1) * q]

    def put(column: int, row: int, piece: np.ndarray) -> None:
        out[row * q : (row + 1) * q, column * q : (column + 1) * q] = piece

    # The 2x2-tile patch (quarter rows 2-5): border tiles on the border quarters.
    for by in range(4):
        for bx in range(4):
            name = ("n" if by == 0 else "s" if by == 3 else "") + (
                "w" if bx == 0 else "e" if bx == 3 else ""
            )
            put(bx, by + 2, quarter(name or "full", bx % 2, by % 2))
    # The icon: an island of four outer corners.
    for qx, qy, name in ((0, 0, "nw"), (1, 0, "ne"), (0, 1, "sw"), (1, 1, "se")):
        put(qx, qy, quarter(name, qx, qy))
    # Inner corners: the border drawn where both edges that meet at the corner draw it.
    for column, row, qx, qy, vertical, side in (
        (2, 0, 0, 0, "n", "w"),
        (3, 0, 1, 0, "n", "e"),
        (2, 1, 0, 1, "s", "w"),
        (3, 1, 1, 1, "s", "e"),
    ):
        fill = quarter("full", qx, qy)
        a, b = quarter(vertical, qx, qy), quarter(side, qx, qy)
        both = (a != fill).any(-1) & (b != fill).any(-1)
        put(column, row, np.where(both[..., None], a, fill))
    return Image.fromarray(out)


def labelled(image: Image.Image, scale: int, labels: list[tuple[int, int, str]]) -> Image.Image:
    big = Image.new("RGBA", (image.width * scale, image.height * scale), BACKDROP)
    big.alpha_composite(upscale(image, factor=scale))
    draw = ImageDraw.Draw(big)
    for x, y, text in labels:
        draw.text((x * scale + 2, y * scale + 1), text, fill=(255, 255, 255, 255),
                  stroke_width=2, stroke_fill=(0, 0, 0, 255))  # fmt: skip
    return big


def template_picture(template: Image.Image) -> Image.Image:
    q = template.width // 4
    scale = 4
    names = {(2, 0): "in TL", (3, 0): "in TR", (2, 1): "in BL", (3, 1): "in BR",
             (0, 0): "icon", (0, 2): "out TL", (3, 2): "out TR", (0, 5): "out BL",
             (3, 5): "out BR", (1, 2): "top", (2, 2): "top", (0, 3): "left", (0, 4): "left",
             (3, 3): "right", (3, 4): "right", (1, 5): "bottom", (2, 5): "bottom",
             (1, 3): "fill", (2, 3): "fill", (1, 4): "fill", (2, 4): "fill"}  # fmt: skip
    big = labelled(template, scale, [(c * q, r * q, f"{c},{r} {n}") for (c, r), n in names.items()])
    draw = ImageDraw.Draw(big)
    for i in range(1, 6):
        draw.line([(0, i * q * scale), (big.width, i * q * scale)], fill=(255, 255, 0, 160))
    for i in range(1, 4):
        draw.line([(i * q * scale, 0), (i * q * scale, big.height)], fill=(255, 255, 0, 160))
    return big


def layout_picture(template: Image.Image, base: Image.Image, layout: str) -> Image.Image:
    made = template_tiles(template, layout=layout, base=base)
    columns = 8 if layout == "blob47" else 4
    packed = pack_sheet(list(made.tiles), columns=columns, padding=2)
    labels = [(x, y, str(i)) for i, (x, y, _, _) in enumerate(packed.rects)]
    sheet = labelled(packed.image, 2, labels)
    painted = paint_map(made, layout=layout, columns=12, rows=6, seed=3).image
    painted = upscale(painted, factor=2)
    out = Image.new(
        "RGBA", (sheet.width + 16 + painted.width, max(sheet.height, painted.height)), BACKDROP
    )
    out.alpha_composite(sheet)
    out.alpha_composite(painted, (sheet.width + 16, 0))
    return out


def sheet_picture() -> Image.Image:
    names = ("floor.png", "sprites/dngn__floor__black_cobalt03.png",
             "sprites/dngn__wall__stone2_dark3.png", "sprites/dngn__floor__crypt4.png")  # fmt: skip
    packed = pack_sheet([read_image(DATA / n) for n in names], columns=2, padding=2, extrude=2)
    scale = 5
    big = labelled(
        packed.image, scale, [(x, y, f"rect {x},{y},32,32") for x, y, _, _ in packed.rects]
    )
    draw = ImageDraw.Draw(big)
    for x, y, w, h in packed.rects:  # the frame's rect; the 2 px around it are its extruded edge
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1],
                       outline=(255, 230, 0, 255))  # fmt: skip
    return big


def animation_layout_picture() -> Image.Image:
    """The sheet of a 4-frame, 4-direction animation: which cell is which frame and tag."""
    rows = ("down", "left", "right", "up")
    shades = ((70, 110, 160), (90, 140, 90), (160, 120, 70), (140, 90, 140))
    frames = [Image.new("RGBA", (32, 32), (*shades[d], 255)) for d in range(4) for _ in range(4)]
    packed = pack_sheet(frames, columns=4, padding=1)
    labels = [(x, y, f"#{i} walk_{rows[i // 4]}\nframe {i % 4}") for i, (x, y, _, _) in
              enumerate(packed.rects)]  # fmt: skip
    return labelled(packed.image, 4, labels)


def effects_gif(sprite: Image.Image) -> bytes:
    effects = ("idle-bob", "hit-flash", "squash-stretch", "outline-pulse")
    rows = [effect_frames(sprite, e, frames=6) for e in effects]
    frames = []
    for i in range(6):
        strip = Image.new("RGBA", (len(rows) * 36 - 4, 32))
        for k, row in enumerate(rows):
            strip.paste(row[i], (k * 36, 0))
        frames.append(upscale(strip, factor=4))
    return encode_gif(frames, [120] * 6)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    grass = TILES / "dngn" / "floor" / "grass"
    template = a2_template_from_edges(grass, "grass")
    base = read_image(grass / "grass0.png")
    template.save(DATA / "dcss-sand-grass-a2.png")
    base.save(DATA / "dcss-grass0.png")
    template_picture(template).save(IMAGES / "a2-template.png")
    for layout in ("blob47", "wang16"):
        layout_picture(template, base, layout).save(IMAGES / f"{layout}.png")
    made = template_tiles(template, layout="blob47", base=base)
    painted = paint_map(made, layout="blob47", columns=16, rows=6, seed=7).image
    upscale(painted, factor=2).save(IMAGES / "tileset-preview.png")
    sheet_picture().save(IMAGES / "sheet-layout.png")
    animation_layout_picture().save(IMAGES / "animation-layout.png")
    (IMAGES / "agnes-effects.gif").write_bytes(effects_gif(read_image(DATA / "dcss-agnes.png")))
    with Image.open(io.BytesIO((IMAGES / "agnes-effects.gif").read_bytes())) as gif:
        print("agnes-effects.gif", gif.size, gif.n_frames, "frames")
    print("wrote", DATA / "dcss-sand-grass-a2.png", "and the pictures in", IMAGES)


if __name__ == "__main__":
    main()
