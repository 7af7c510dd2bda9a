"""``tiles`` on random:sdxl-tiny: seamless tiles and variants sharing palette and border,
with a seam measure per tile; reproducible by seed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.assets import Manifest, read_manifest
from dgx_pixels.cli import cli
from dgx_pixels.cli._generate import load_engine
from dgx_pixels.request import GenerationRequest
from dgx_pixels.sprites import make_tiles

ROOT = Path(__file__).parents[2]
TINY = ["--model", "random:sdxl-tiny", "--steps", "2", "--size", "16", "--device", "cpu"]


@pytest.fixture(scope="module")
def tiles_asset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("tiles")
    args = ["tiles", "mossy cobblestone", *TINY, "--count", "3", "--seed", "4", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    folder = out / "mossy-cobblestone-4"
    return folder, read_manifest(folder)


def test_tiles_asset_structure(tiles_asset: tuple[Path, Manifest]) -> None:
    folder, manifest = tiles_asset
    schema = json.loads((ROOT / "docs" / "asset-manifest.schema.json").read_text())
    jsonschema.validate(json.loads((folder / "manifest.json").read_text()), schema)
    assert manifest.kind == "tiles"
    assert len(manifest.frames) == 3
    assert manifest.cell == (16, 16)
    assert manifest.request["tile"]["seamless"] == "xy"
    assert manifest.request["tile"]["palette"] == "auto:16"
    assert len(manifest.palette) <= 16
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in manifest.palette}
    tiles = [np.asarray(Image.open(folder / f.file).convert("RGBA")) for f in manifest.frames]
    for tile in tiles:
        assert tile.shape == (16, 16, 4)
        assert (tile[..., 3] == 255).all()  # binary alpha, and a tile fills its cell
        assert {tuple(c) for c in tile[..., :3].reshape(-1, 3).tolist()} <= palette
    # Variants share tile 0's border band exactly, and differ inside.
    band = np.ones((16, 16), dtype=bool)
    band[2:-2, 2:-2] = False
    assert manifest.consistency["shared_border_px"] == 2
    for variant in tiles[1:]:
        assert np.array_equal(variant[band], tiles[0][band])
        assert not np.array_equal(variant, tiles[0])
    seams = manifest.consistency["seam"]
    assert len(seams) == 3
    assert all(set(s) == {"left_right", "top_bottom"} for s in seams)
    with Image.open(folder / "preview.png") as preview:
        assert preview.size == ((3 * (48 + 4) - 4) * 4, 48 * 4)


def test_tiles_are_reproducible_by_seed(tiles_asset: tuple[Path, Manifest]) -> None:
    folder, manifest = tiles_asset
    engine = load_engine("random:sdxl-tiny", "cpu", None, None)
    request = GenerationRequest.from_dict(manifest.request["tile"])
    [again] = make_tiles(engine, request, count=1).tiles
    first = np.asarray(Image.open(folder / manifest.frames[0].file).convert("RGBA"))
    assert np.array_equal(np.asarray(again), first)


def test_tiles_bad_input_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tiles", "moss", *TINY, "--count", "17"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: --count must be 1-16 tiles, got 17"]
    result = CliRunner().invoke(cli, ["tiles", "moss", *TINY, "--palette", "nope-99"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
