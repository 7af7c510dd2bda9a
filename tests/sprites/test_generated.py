"""Generated animations on random:sdxl-tiny: structure, one palette, mirrored directions,
pivots; ``--from`` keeps the sprite's palette exactly and is reproducible by seed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.assets import Manifest, read_manifest
from dgx_pixels.cli import cli

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]
TINY = ["--model", "random:sdxl-tiny", "--steps", "2", "--device", "cpu", "--seed", "3"]


def run(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["animate", *args, *TINY])
    assert result.exit_code == 0, result.output


def frames_of(folder: Path, manifest: Manifest) -> list[np.ndarray]:
    return [np.asarray(Image.open(folder / f.file).convert("RGBA")) for f in manifest.frames]


def colours(a: np.ndarray) -> Counter[tuple[int, ...]]:
    return Counter(tuple(c) for c in a[a[..., 3] >= 128][:, :3].tolist())


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("walk")
    run(["a knight", "--action", "walk", "--frames", "2", "--directions", "4", "--size", "8",
         "--out", str(out)])  # fmt: skip
    folder = out / "a-knight-3-walk"
    return folder, read_manifest(folder)


def test_a_four_direction_walk(walk: tuple[Path, Manifest]) -> None:
    folder, manifest = walk
    schema = json.loads((ROOT / "docs" / "asset-manifest.schema.json").read_text())
    jsonschema.validate(json.loads((folder / "manifest.json").read_text()), schema)
    assert manifest.kind == "animation"
    assert manifest.sheet is not None
    assert (manifest.sheet.rows, manifest.sheet.columns) == (4, 2)
    assert [(t.name, t.from_, t.to) for t in manifest.tags] == [
        ("walk_down", 0, 1), ("walk_left", 2, 3), ("walk_right", 4, 5), ("walk_up", 6, 7)
    ]  # fmt: skip
    assert len(manifest.request["canvases"]) == 3  # right is left mirrored, not drawn
    palette = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in manifest.palette}
    assert 1 <= len(palette) <= 16
    frames = frames_of(folder, manifest)
    for frame in frames:
        assert frame.shape == (8, 8, 4)
        assert set(np.unique(frame[..., 3]).tolist()) <= {0, 255}
        assert set(colours(frame)) <= palette  # one palette across frames and directions
    for left, right in zip(frames[2:4], frames[4:6], strict=True):
        assert colours(left) == colours(right)  # the same pixels, mirrored
    assert {f.pivot for f in manifest.frames} == {(4, 7)}
    assert manifest.consistency["palette_agreement"] == 1.0
    assert manifest.consistency["pivot_drift_px"] <= 1.0
    with Image.open(folder / "preview.gif") as gif:
        assert gif.n_frames == 2


def test_from_a_sprite_keeps_its_palette_and_is_reproducible(tmp_path: Path) -> None:
    sprite = DATA / "potion.png"
    for name in ("one", "two"):
        run(["--from", str(sprite), "--action", "idle", "--frames", "2", "--out",
             str(tmp_path / name)])  # fmt: skip
    one, two = (tmp_path / n / "potion-3-idle" for n in ("one", "two"))
    assert (one / "sheet.png").read_bytes() == (two / "sheet.png").read_bytes()
    manifest = read_manifest(one)
    own = colours(np.asarray(Image.open(sprite).convert("RGBA")))
    assert manifest.request["request"]["prompt"] == "potion"
    for frame in frames_of(one, manifest):
        assert frame.shape == (32, 32, 4)
        assert set(colours(frame)) <= set(own)


def test_animate_bad_input_is_one_line(tmp_path: Path) -> None:
    cases = [
        (["--effect", "blink"], "Error: --effect needs --from SPRITE (the sprite to animate)"),
        (["--from", str(DATA / "potion.png"), "--palette", "pico-8"],
         "Error: --from keeps the sprite's own palette; leave out --palette"),
        (["a knight", "--count", "2"],
         "Error: --count does not apply here: an animation is one asset; use --frames and "
         "--directions"),
        (["a knight", "--frames", "16", "--size", "64"],
         "Error: 16 frames of 64 px make a 1024 px canvas; the most is 512 px"),
    ]  # fmt: skip
    for args, line in cases:
        result = CliRunner().invoke(cli, ["animate", *args, "--out", str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [line]
    assert not any(tmp_path.iterdir())
