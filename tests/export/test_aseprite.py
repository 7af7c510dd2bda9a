"""Aseprite: our .aseprite files as two independent readers (PyPI ``aseprite``,
``aseprite-reader``) see them, and the JSON sheet data."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.export import export, load_asset

from .conftest import KINDS
from .readers import aseprite_python, read_aseprite

__all__ = ["aseprite_python"]  # the fixture, used by name


def visible(rgba: bytes) -> bytes:
    """RGBA with every fully transparent pixel as 0,0,0,0: readers composite onto a clear canvas."""
    return b"".join(rgba[i : i + 4] if rgba[i + 3] else b"\0\0\0\0" for i in range(0, len(rgba), 4))


DIRECTION = {"forward": 0, "reverse": 1, "pingpong": 2, "pingpong_reverse": 3}


@pytest.fixture(scope="module")
def exported(made_assets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("aseprite-out")
    export([made_assets[k] for k in KINDS], to="aseprite", out=out)
    return out


@pytest.fixture(scope="module")
def seen(exported: Path, made_assets: dict[str, Path], aseprite_python: str) -> dict[str, dict]:
    names = {k: load_asset(made_assets[k]).name for k in KINDS}
    files = {k: exported / f"{names[k]}.aseprite" for k in KINDS}
    dump = read_aseprite(aseprite_python, *files.values())
    return {k: dump[str(files[k])] for k in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_every_frame_reads_back_as_our_png_frame(
    kind: str, made_assets: dict[str, Path], seen: dict[str, dict]
) -> None:
    asset = load_asset(made_assets[kind])
    got = seen[kind]
    assert got["size"] == list(asset.cell) == got["reader2"]["size"]
    expected = [visible(asset.frame_image(i).tobytes()) for i in range(len(asset.frames))]
    for reader in (got["pixels"], got["reader2"]["pixels"]):
        assert [visible(base64.b64decode(p)) for p in reader] == expected
    durations = [f.duration_ms for f in asset.frames]
    assert got["durations"] == durations == got["reader2"]["durations"]
    assert got["layers"] == [asset.name]


def test_a_packed_trimmed_sheet_exports_whole_frames(
    made_assets: dict[str, Path], aseprite_python: str, tmp_path: Path
) -> None:
    packed, grid = load_asset(made_assets["packed"]), load_asset(made_assets["animation"])
    export([made_assets["packed"]], to="aseprite", out=tmp_path)
    seen = read_aseprite(aseprite_python, tmp_path / "boomerang-packed.aseprite")
    (got,) = seen.values()
    expected = [visible(grid.frame_image(i).tobytes()) for i in range(4)]
    assert [visible(base64.b64decode(p)) for p in got["pixels"]] == expected
    assert packed.sheet_path is None  # laid out afresh: trimmed frames back in their cells
    assert got["durations"] == [80, 80, 120, 60]


def test_tags_directions_and_repeats_read_back(
    made_assets: dict[str, Path], seen: dict[str, dict]
) -> None:
    asset = load_asset(made_assets["animation"])
    expected = [
        {
            "name": t.name,
            "from": t.first,
            "to": t.last,
            "direction": DIRECTION[t.direction],
            "repeat": 0 if t.loop else 1,
        }
        for t in asset.tags
    ]
    assert len(expected) == 2
    assert seen["animation"]["tags"] == expected == seen["animation"]["reader2"]["tags"]
    assert seen["sprite"]["tags"] == []


def test_pivots_are_a_slice_keyed_where_they_change(seen: dict[str, dict]) -> None:
    assert seen["animation"]["slices"] == [
        {
            "name": "boomerang-spin",
            "keys": [
                {"frame": 0, "bounds": [0, 0, 32, 32], "pivot": [16, 28]},
                {"frame": 3, "bounds": [0, 0, 32, 32], "pivot": [15, 27]},
            ],
        }
    ]
    assert seen["sprite"]["slices"] == []


@pytest.mark.parametrize("kind", KINDS)
def test_the_palette_is_the_assets_colours(
    kind: str, made_assets: dict[str, Path], seen: dict[str, dict]
) -> None:
    asset = load_asset(made_assets[kind])
    assert asset.palette
    assert seen[kind]["palette"] == [f"{c}ff" for c in asset.palette]


def test_the_json_sheet_is_in_aseprites_format(exported: Path) -> None:
    data = json.loads((exported / "boomerang-spin.json").read_text())
    assert data["meta"]["image"] == "boomerang-spin.png"
    assert (exported / "boomerang-spin.png").is_file()
    assert data["meta"]["size"] == {"w": 66, "h": 66}
    assert data["meta"]["frameTags"] == [
        {"name": "spin", "from": 0, "to": 3, "direction": "forward"},
        {"name": "wobble", "from": 1, "to": 2, "direction": "pingpong", "repeat": "1"},
    ]
    frames = data["frames"]
    assert list(frames) == [f"boomerang-spin {i}.aseprite" for i in range(4)]
    assert frames["boomerang-spin 3.aseprite"]["frame"] == {"x": 34, "y": 34, "w": 32, "h": 32}
    assert [f["duration"] for f in frames.values()] == [80, 80, 120, 60]
    assert data["meta"]["slices"][0]["keys"][1]["pivot"] == {"x": 15, "y": 27}


def test_cli_writes_one_named_file_and_prints_every_file(
    made_assets: dict[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "art" / "spin.aseprite"
    args = ["export", str(made_assets["animation"]), "--to", "aseprite", "-o", str(target)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"wrote {target} (4 frames, 2 tags)",
        f"wrote {tmp_path / 'art' / 'spin.png'} (sheet)",
        f"wrote {tmp_path / 'art' / 'spin.json'} (Aseprite JSON sheet data)",
    ]
    assert target.read_bytes()[4:6] == b"\xe0\xa5"
    again = CliRunner().invoke(cli, args)  # the same export again: nothing changes
    assert again.exit_code == 0
    assert [line.split()[0] for line in again.output.splitlines()] == ["unchanged"] * 3


def test_cli_dry_run_and_refusals(made_assets: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "spin.aseprite"
    base = ["export", str(made_assets["animation"]), "--to", "aseprite"]
    dry = CliRunner().invoke(cli, [*base, "-o", str(target), "--dry-run"])
    assert dry.exit_code == 0
    assert dry.output.startswith(f"would write {target}")
    assert not target.exists()
    target.write_bytes(b"someone's drawing")
    kept = CliRunner().invoke(cli, [*base, "-o", str(target)])
    assert kept.exit_code == 3
    assert "already exists and would change" in kept.output
    assert target.read_bytes() == b"someone's drawing"
    two = CliRunner().invoke(cli, [*base, str(made_assets["sprite"]), "-o", str(target)])
    assert two.exit_code == 2
    assert "names one file but 2 assets were given" in two.output
    neither = CliRunner().invoke(cli, base)
    assert neither.exit_code == 2
    assert "exactly one of --project PATH or -o PATH" in neither.output
