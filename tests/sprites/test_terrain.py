"""Generated tilesets: the mask template joins exactly at every painted edge (model-free), and
``tileset PROMPT --over PROMPT`` on random:sdxl-tiny gives a full set in one palette."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.assets import read_manifest
from dgx_pixels.cli import cli
from dgx_pixels.errors import InputError
from dgx_pixels.sprites import mask_template, paint_map, template_tiles

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("layout", ["blob47", "wang16"])
@pytest.mark.parametrize("tile", [8, 16, 32])
def test_the_mask_template_joins_exactly_at_every_edge(layout: str, tile: int) -> None:
    m = mask_template(tile)
    image = Image.fromarray(np.where(m[..., None], 255, 0).astype(np.uint8).repeat(4, -1))
    made = template_tiles(image, layout=layout, base=Image.new("RGBA", (tile, tile)))
    masks = [np.asarray(t)[..., 3] > 0 for t in made.tiles]
    for seed in range(3):
        grid = paint_map(made, layout=layout, columns=9, rows=6, seed=seed).indices
        for y, row in enumerate(grid):
            for x, index in enumerate(row):
                if x + 1 < len(row):  # the terrain continues across the line, pixel for pixel
                    assert np.array_equal(masks[index][:, -1], masks[row[x + 1]][:, 0])
                if y + 1 < len(grid):
                    assert np.array_equal(masks[index][-1], masks[grid[y + 1][x]][0])
    assert masks[made.keys.index(255)].all() if layout == "blob47" else masks[15].all()


def test_mask_template_sides() -> None:
    with pytest.raises(InputError, match="multiple of 4, got 6"):
        mask_template(6)


def test_a_generated_tileset(tmp_path: Path) -> None:
    args = ["tileset", "grass", "--over", "dirt path", "--layout", "blob47", "--size", "8",
            "--model", "random:sdxl-tiny", "--steps", "2", "--device", "cpu", "--seed", "2",
            "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "grass-2-blob47"
    manifest = read_manifest(folder)
    schema = json.loads((ROOT / "docs" / "asset-manifest.schema.json").read_text())
    jsonschema.validate(json.loads((folder / "manifest.json").read_text()), schema)
    assert manifest.tileset is not None
    assert [t.name for t in manifest.tileset.terrains] == ["grass", "dirt-path"]
    assert len(manifest.frames) == 48
    assert 2 <= len(manifest.palette) <= 16  # two textures of auto:8, joined
    assert len(manifest.request["requests"]) == 3  # two textures and the transitions
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in manifest.palette}
    for frame in manifest.frames:
        a = np.asarray(Image.open(folder / frame.file).convert("RGBA"))
        assert a.shape == (8, 8, 4)
        assert (a[..., 3] == 255).all()
        assert {tuple(c) for c in a[..., :3].reshape(-1, 3).tolist()} <= palette
    result = CliRunner().invoke(cli, ["tileset", "grass", "--over", "dirt", "--size", "6"])
    assert result.exit_code == 2
    assert "multiple of 4, got 6" in result.output
