"""Reading images safely and writing atomically, on real files."""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from dgx_pixels.errors import ImageReadError, OutputExistsError
from dgx_pixels.image_files import FileSet, read_image, write_atomic, write_png


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims a size in its header; enough to test the bomb check."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def test_read_converts_to_rgba(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    Image.new("RGB", (4, 3), (1, 2, 3)).save(p)
    img = read_image(p)
    assert img.mode == "RGBA"
    assert img.size == (4, 3)


@pytest.mark.parametrize("case", ["missing", "text", "truncated", "bomb", "animated"])
def test_bad_images_raise_one_clear_error(tmp_path: Path, case: str) -> None:
    p = tmp_path / "bad.png"
    if case == "text":
        p.write_text("not an image")
    elif case == "truncated":
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), (200, 10, 10)).save(buf, "PNG")
        p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    elif case == "bomb":
        _png_header_only(p, 60000, 60000)
    elif case == "animated":
        p = tmp_path / "bad.gif"
        frames = [Image.new("RGB", (8, 8), (80 * i, 0, 0)) for i in range(3)]
        frames[0].save(p, save_all=True, append_images=frames[1:])
    with pytest.raises(ImageReadError) as info:
        read_image(p)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)


def test_write_atomic_never_overwrites_without_force(tmp_path: Path) -> None:
    p = tmp_path / "out.bin"
    write_atomic(b"first", p)
    with pytest.raises(OutputExistsError):
        write_atomic(b"second", p)
    assert p.read_bytes() == b"first"
    write_atomic(b"second", p, force=True)
    assert p.read_bytes() == b"second"
    assert [q.name for q in tmp_path.iterdir()] == ["out.bin"]  # no temp files left


def test_write_png_keeps_text_chunks(tmp_path: Path) -> None:
    p = write_png(Image.new("RGBA", (2, 2)), tmp_path / "x.png", text={"parameters": "a, b"})
    with Image.open(p) as img:
        assert img.text["parameters"] == "a, b"


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_honour_the_umask_as_open_does(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        with open(tmp_path / "by-open", "wb") as f:
            f.write(b"x")
        ours = write_png(Image.new("RGBA", (2, 2)), tmp_path / "ours.png")
        replaced = write_atomic(b"y", tmp_path / "by-open-too", force=True)
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "by-open").stat().st_mode)
    assert expected == 0o666 & ~umask
    assert stat.S_IMODE(ours.stat().st_mode) == expected
    assert stat.S_IMODE(replaced.stat().st_mode) == expected


def write_set(items: dict[Path, bytes], *, force: bool = False, then: Any = None) -> None:
    """Write ``items`` as one FileSet; call ``then()`` inside the set before it ends."""
    with FileSet(force=force) as files:
        for path, data in items.items():
            files.add(data, path)
        if then is not None:
            then()


def test_a_file_set_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    b.write_bytes(b"old b")
    with pytest.raises(OutputExistsError):  # b exists: refused before anything moves
        write_set({a: b"a", b: b"b"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]

    def stop() -> None:
        raise RuntimeError("stopped before the end of the set")

    with pytest.raises(RuntimeError):
        write_set({a: b"new a", b: b"new b"}, force=True, then=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]
    assert b.read_bytes() == b"old b"


def test_a_target_that_appears_during_the_set_undoes_the_set(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    with pytest.raises(OutputExistsError):  # another process makes b meanwhile
        write_set({a: b"a", b: b"b"}, then=lambda: b.write_bytes(b"someone else's"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]
    assert b.read_bytes() == b"someone else's"
