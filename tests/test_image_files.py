"""Reading images safely and writing atomically, on real files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from dgx_pixels.errors import ImageReadError, OutputExistsError
from dgx_pixels.image_files import read_image, write_atomic, write_png


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
