"""Generic atlas JSON: our TexturePacker-style hash as PixiJS's own Spritesheet parses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dgx_pixels.export import export, load_asset

from .conftest import KINDS
from .readers import pixi_check, read_pixi

__all__ = ["pixi_check"]  # the fixture, used by name


@pytest.fixture(scope="module")
def exported(made_assets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("atlas-out")
    export([made_assets[k] for k in KINDS], to="texturepacker", out=out)
    return out


def test_pixijs_reads_every_frame_and_clip(
    exported: Path, made_assets: dict[str, Path], pixi_check: Path
) -> None:
    assets = [load_asset(made_assets[k]) for k in KINDS]
    seen = read_pixi(pixi_check, *(exported / f"{a.name}.json" for a in assets))
    for asset in assets:
        sheet = seen[str(exported / f"{asset.name}.json")]
        names = list(sheet["frames"])
        assert len(names) == len(asset.frames)
        for name, frame in zip(names, asset.frames, strict=True):
            assert sheet["frames"][name]["frame"] == list(frame.rect)
            assert sheet["frames"][name]["orig"] == list(asset.cell)
        expected = {t.name: names[t.first : t.last + 1] for t in asset.tags}
        assert sheet["animations"] == expected
    animation = seen[str(exported / "boomerang-spin.json")]
    assert list(animation["frames"]) == ["spin_0", "spin_1", "spin_2", "spin_3"]
    assert animation["frames"]["spin_3"]["anchor"] == [15 / 32, 27 / 32]
    assert animation["animations"]["wobble"] == ["spin_1", "spin_2"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_array_holds_the_same_records_as_the_hash(
    kind: str, exported: Path, made_assets: dict[str, Path]
) -> None:
    name = load_asset(made_assets[kind]).name
    hashed = json.loads((exported / f"{name}.json").read_text())
    array = json.loads((exported / f"{name}.array.json").read_text())
    assert [{"filename": k, **v} for k, v in hashed["frames"].items()] == array["frames"]
    assert array["meta"] == hashed["meta"]
    assert hashed["meta"]["image"] == f"{name}.png"
    assert hashed["meta"]["app"] == "https://www.codeandweb.com/texturepacker"
    durations = [f["duration"] for f in array["frames"]]
    assert durations == [f.duration_ms for f in load_asset(made_assets[kind]).frames]
