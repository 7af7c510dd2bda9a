"""``dgx-pixels palette list|show|extract`` on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.pixel.palette import Palette, builtin_names

DATA = Path(__file__).resolve().parents[1] / "data"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["palette", *args])
    return result.exit_code, result.output


def test_list_names_every_builtin() -> None:
    code, out = _run("list")
    assert code == 0
    for name in builtin_names():
        assert name in out
    assert "\x1b[" not in out  # not a terminal: no colour codes
    code, out = _run("list", "--swatches")
    assert "\x1b[48;2;" in out


def test_show_prints_the_colours() -> None:
    code, out = _run("show", "pico-8")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "pico-8: 16 colours"
    assert lines[1].startswith("#000000")
    assert len(lines) == 17
    code, out = _run("show", "gameboy", "--swatches")
    assert "\x1b[48;2;15;56;15m" in out


def test_show_unknown_name_suggests() -> None:
    code, out = _run("show", "endesga")
    assert code == 2
    assert "did you mean" in out
    assert out.count("\n") == 1


@pytest.mark.parametrize("suffix", [".hex", ".gpl", ".pal"])
def test_extract_writes_a_palette_file(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"agnes{suffix}"
    code, out = _run("extract", str(DATA / "dcss-agnes.png"), "-n", "8", "-o", str(target))
    assert code == 0, out
    p = Palette.load(target)
    assert len(p) == 8
    code, out = _run("show", str(target))
    assert code == 0
    assert out.startswith(f"{p.name}: 8 colours")
    # never overwrites without --force
    code, out = _run("extract", str(DATA / "dcss-agnes.png"), "-n", "4", "-o", str(target))
    assert code == 3
    assert len(Palette.load(target)) == 8
    code, out = _run(
        "extract", str(DATA / "dcss-agnes.png"), "-n", "4", "-o", str(target), "--force"
    )
    assert code == 0
    assert len(Palette.load(target)) == 4


def test_extract_prints_when_no_file_is_given() -> None:
    code, out = _run("extract", str(DATA / "dcss-wolf.png"), "-n", "4")
    assert code == 0
    assert len(out.split()) == 4
    assert all(line.startswith("#") for line in out.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "1"], "-n must be 2 to 256"),
        (["-n", "300"], "-n must be 2 to 256"),
        (["-n", "4", "-o", "palette.txt"], "use one of .hex, .gpl, .pal"),
    ],
)
def test_extract_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    args = [a if a != "palette.txt" else str(tmp_path / a) for a in args]
    code, out = _run("extract", str(DATA / "dcss-wolf.png"), *args)
    assert code == 2
    assert message in out
    assert list(tmp_path.iterdir()) == []


def test_extract_from_a_bad_image(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    code, out = _run("extract", str(bad), "-n", "4", "-o", str(tmp_path / "p.hex"))
    assert code == 2
    assert out.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["bad.png"]
