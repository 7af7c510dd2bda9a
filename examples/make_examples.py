"""Make the offline examples: real sprites drawn the way AI generators draw them.

``make run`` restores these when no generation model is available, and the
README's before/after picture comes from them. Run from the repository root:

    .venv/bin/python examples/make_examples.py

The sprites are from Dungeon Crawl Stone Soup (CC0; see examples/CREDITS.md).
It also draws the README's before/after figure (docs/images/restore.png)
with dgx_pixels itself: the AI-style picture, what ``dgx-pixels restore
--background transparent`` makes of it, and the artist's original.

Each is degraded with the evaluation's "hard" recipe (dgx_pixels.metrics.degrade):
non-integer, uneven ~31 px cells, a phase offset, blur, noise, colour drift,
JPEG artefacts and a flat background.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageDraw

from dgx_pixels.metrics.degrade import DegradeParams, degrade
from dgx_pixels.pixel.preview import upscale
from dgx_pixels.pixel.restore import restore
from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art

ROOT = Path(__file__).resolve().parent
TILES = ROOT.parent.parent / "shared" / "data" / "dcss-rltiles"

EXAMPLES = {
    # name: (tile path, degradation)
    "hell_knight": (
        "mon/humanoids/humans/hell_knight.png",
        DegradeParams(
            scale_x=31.3,
            scale_y=31.7,
            edge_x=(0.8, 0.9),
            edge_y=(0.7, 1.0),
            warp=0.2,
            warp_waves=2,
            blur=1.2,
            noise=4.0,
            jpeg_quality=80,
            drift=(0.03, -0.02, 0.01),
            background=(214, 222, 230),
            seed=1,
        ),
    ),
    "fire_dragon": (
        "mon/dragons/fire_dragon.png",
        DegradeParams(
            scale_x=30.6,
            scale_y=30.9,
            edge_x=(0.7, 0.85),
            edge_y=(0.9, 0.75),
            warp=0.25,
            warp_waves=1,
            blur=1.0,
            noise=5.0,
            jpeg_quality=75,
            drift=(-0.02, 0.03, 0.0),
            background=(36, 40, 52),
            seed=2,
        ),
    ),
}


PANEL = 256
LABEL = 18


def _checkerboard(size: int, cell: int = 16) -> Image.Image:
    board = Image.new("RGBA", (size, size), (235, 235, 235, 255))
    draw = ImageDraw.Draw(board)
    for y in range(0, size, cell):
        for x in range((y // cell) % 2 * cell, size, 2 * cell):
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=(200, 200, 200, 255))
    return board


def _panel(image: Image.Image, caption: str) -> Image.Image:
    shown = _checkerboard(PANEL)
    shown.alpha_composite(image.convert("RGBA").resize((PANEL, PANEL), Image.Resampling.NEAREST))
    panel = Image.new("RGBA", (PANEL, PANEL + LABEL), (255, 255, 255, 255))
    panel.paste(shown, (0, LABEL))
    ImageDraw.Draw(panel).text((4, 3), caption, fill=(20, 20, 20, 255))
    return panel


def figure(names: list[str]) -> Image.Image:
    """Rows of: AI-style picture (detail), restored sprite, original sprite."""
    rows = []
    for name in names:
        drawing = Image.open(ROOT / f"{name}-ai.png").convert("RGBA")
        found = restore(drawing)
        spec = PixelSpec(
            size=found.image.size, sampling="nearest", background="transparent", cleanup=False
        )
        sprite = to_pixel_art(found.image, spec)
        w, h = drawing.size
        detail = drawing.crop((w // 4, h // 4, w // 4 + w // 3, h // 4 + h // 3))
        panels = [
            _panel(drawing, f"AI-style input {w}x{h}"),
            _panel(detail, "input, detail"),
            _panel(upscale(sprite, factor=8), f"restored {sprite.width}x{sprite.height}"),
            _panel(Image.open(ROOT / f"{name}.png"), "artist's original"),
        ]
        row = Image.new("RGBA", (len(panels) * (PANEL + 8), PANEL + LABEL), (255, 255, 255, 255))
        for i, p in enumerate(panels):
            row.paste(p, (i * (PANEL + 8), 0))
        rows.append(row)
    out = Image.new("RGBA", (rows[0].width, len(rows) * (rows[0].height + 8)), (255, 255, 255, 255))
    for i, row in enumerate(rows):
        out.paste(row, (0, i * (row.height + 8)))
    return out


def main() -> None:
    for name, (tile, params) in EXAMPLES.items():
        truth = ROOT / f"{name}.png"
        shutil.copyfile(TILES / tile, truth)
        with Image.open(truth) as sprite:
            degrade(sprite, params).save(ROOT / f"{name}-ai.png")
        print(f"wrote {name}.png (truth) and {name}-ai.png (AI-style drawing)")
    target = ROOT.parent / "docs" / "images" / "restore.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    figure(list(EXAMPLES)).save(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
