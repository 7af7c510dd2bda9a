"""Palettes: built-ins, Lospec files, names, and palettes taken from images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.errors import OutputExistsError, PaletteError
from dgx_pixels.pixel.palette import (
    Palette,
    builtin_names,
    builtin_palette,
    palette_from_image,
    parse_auto,
    resolve_palette,
)

DATA = Path(__file__).resolve().parents[1] / "data"

EXPECTED = {
    "pico-8": (16, "#000000", "#ffccaa"),
    "db16": (16, "#140c1c", "#deeed6"),
    "db32": (32, "#000000", "#8a6f30"),
    "endesga-32": (32, "#be4a2f", "#c28569"),
    "endesga-64": (64, "#ff0040", "#571c27"),
    "aap-64": (64, "#060608", "#423934"),
    "sweetie-16": (16, "#1a1c2c", "#333c57"),
    "nes": (55, "#000000", "#787878"),
    "gameboy": (4, "#0f380f", "#9bbc0f"),
}


def test_builtins_have_their_published_size_and_ends() -> None:
    assert set(builtin_names()) == set(EXPECTED)
    for name, (count, first, last) in EXPECTED.items():
        p = builtin_palette(name)
        codes = p.hex_codes()
        assert (len(p), codes[0], codes[-1]) == (count, first, last), name
        assert len(set(codes)) == count, f"{name} has a duplicate colour"
        assert p.locked


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("PICO8", "pico-8"),
        ("Endesga 64", "endesga-64"),
        ("dawnbringer_16", "db16"),
        ("gb", "gameboy"),
    ],
)
def test_names_are_forgiving(alias: str, name: str) -> None:
    assert builtin_palette(alias).name == name


def test_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(PaletteError) as info:
        resolve_palette("endesga-23")
    assert "did you mean" in str(info.value)
    assert "endesga-32" in str(info.value)


@pytest.mark.parametrize("suffix", [".hex", ".gpl", ".pal"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    p = builtin_palette("sweetie-16")
    path = p.save(tmp_path / f"s{suffix}")
    back = Palette.load(path)
    assert back == p
    assert back.locked
    with pytest.raises(OutputExistsError):
        p.save(path)


def test_gpl_keeps_its_name(tmp_path: Path) -> None:
    path = tmp_path / "mine.gpl"
    path.write_text("GIMP Palette\nName: Forest\nColumns: 4\n#\n 10  20  30\tdeep\n255 255 255\n")
    p = Palette.load(path)
    assert p.name == "Forest"
    assert p.hex_codes() == ["#0a141e", "#ffffff"]


@pytest.mark.parametrize(
    ("suffix", "text", "line"),
    [
        (".hex", "000000\nffffff\nnot a colour\n", 3),
        (".hex", "000000\n12345\n", 2),
        (".gpl", "GIMP Palette\nName: x\n0 0 0\n1 2 three\n", 4),
        (".gpl", "0 0 0\n", 1),
        (".pal", "JASC-PAL\n0100\n2\n0 0 0\n300 0 0\n", 5),
        (".pal", "JASC-PAL\n0100\ntwo\n0 0 0\n", 3),
    ],
)
def test_junk_lines_name_the_file_and_line(
    tmp_path: Path, suffix: str, text: str, line: int
) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(text)
    with pytest.raises(PaletteError) as info:
        Palette.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:")
    assert "\n" not in message


def test_pal_count_mismatch_and_empty_files(tmp_path: Path) -> None:
    pal = tmp_path / "short.pal"
    pal.write_text("JASC-PAL\n0100\n3\n0 0 0\n")
    with pytest.raises(PaletteError, match="header says 3 colours"):
        Palette.load(pal)
    empty = tmp_path / "empty.hex"
    empty.write_text("\n")
    with pytest.raises(PaletteError, match="no colours"):
        Palette.load(empty)
    with pytest.raises(PaletteError, match="no such palette file"):
        Palette.load(tmp_path / "missing.hex")
    with pytest.raises(PaletteError, match="unknown palette file type"):
        Palette.load(tmp_path / "p.txt")


def test_resolve_reads_files_and_inline_lists(tmp_path: Path) -> None:
    path = tmp_path / "two.hex"
    path.write_text("ff0000\n00ff00\n")
    assert resolve_palette(str(path)).hex_codes() == ["#ff0000", "#00ff00"]
    assert resolve_palette("#ff0000, 0000ff").hex_codes() == ["#ff0000", "#0000ff"]
    with pytest.raises(PaletteError, match="not a hex colour"):
        resolve_palette("#ff0000,#12")
    with pytest.raises(PaletteError, match="extracted from an image"):
        resolve_palette("auto:8")


@pytest.mark.parametrize(("text", "n"), [("auto:2", 2), ("auto:256", 256), ("db16", None)])
def test_parse_auto(text: str, n: int | None) -> None:
    assert parse_auto(text) == n


@pytest.mark.parametrize("text", ["auto:1", "auto:300", "auto:x"])
def test_parse_auto_refuses_bad_counts(text: str) -> None:
    with pytest.raises(PaletteError):
        parse_auto(text)


def test_palette_is_an_immutable_copy() -> None:
    colors = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    p = Palette("x", colors)
    colors[0, 0] = 99
    assert p.colors[0, 0] == 1
    with pytest.raises(ValueError, match="read-only"):
        p.colors[0, 0] = 7
    with pytest.raises(PaletteError, match="shape"):
        Palette("bad", np.zeros((2, 4)))
    with pytest.raises(PaletteError, match="1 to 256"):
        Palette("big", np.zeros((257, 3)))


def test_lock_marks_an_extracted_palette_final() -> None:
    p = Palette("auto", [(0, 0, 0)], locked=False)
    assert not p.locked
    assert p.lock().locked
    assert p.lock() == p


def test_palette_from_a_real_sprite() -> None:
    sprite = Image.open(DATA / "dcss-long-sword.png")
    p = palette_from_image(sprite)
    arr = np.asarray(sprite.convert("RGBA"))
    opaque = arr[..., :3][arr[..., 3] >= 128]
    assert len(p) == len(np.unique(opaque, axis=0))
    with pytest.raises(PaletteError, match="more than 2"):
        palette_from_image(sprite, max_colors=2)
