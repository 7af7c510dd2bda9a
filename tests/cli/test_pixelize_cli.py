"""``dgx-pixels pixelize`` on real PNG files, good and bad."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.cli import cli
from dgx_pixels.pixel.palette import builtin_palette

DATA = Path(__file__).resolve().parents[1] / "data"


def _smooth_sprite(tmp_path: Path, name: str = "dcss-agnes.png") -> Path:
    """A real sprite upscaled with smoothing: a picture, not pixel art."""
    path = tmp_path / "picture.png"
    Image.open(DATA / name).convert("RGBA").resize((128, 128), Image.Resampling.BICUBIC).save(path)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pixelize", *args])
    return result.exit_code, result.output


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_pixelize_writes_the_sprite_beside_the_input(tmp_path: Path) -> None:
    src = _smooth_sprite(tmp_path)
    code, out = _run(str(src), "--size", "32")
    assert code == 0, out
    written = tmp_path / "picture-pixel.png"
    assert f"wrote {written}" in out
    with Image.open(written) as img:
        assert img.size == (32, 32)
        assert img.mode == "RGBA"


@pytest.mark.parametrize(
    ("picture", "size", "written"),
    [((640, 480), "48", (48, 36)), ((480, 640), "48", (36, 48)), ((640, 480), "48x48", (48, 48))],
)
def test_size_n_fits_the_long_side_and_keeps_the_aspect(
    tmp_path: Path, picture: tuple[int, int], size: str, written: tuple[int, int]
) -> None:
    src = tmp_path / "photo.png"
    Image.open(DATA / "dcss-agnes.png").convert("RGB").resize(picture).save(src)
    code, out = _run(str(src), "--size", size, "-o", str(tmp_path / "sprite.png"))
    assert code == 0, out
    assert f"({written[0]}x{written[1]}, " in out
    with Image.open(tmp_path / "sprite.png") as img:
        assert img.size == written


def test_palette_dither_outline_and_preview(tmp_path: Path) -> None:
    src = _smooth_sprite(tmp_path)
    target = tmp_path / "out" / "agnes.png"
    code, out = _run(
        str(src), "--size", "32x32", "--palette", "db16", "--dither", "ordered",
        "--background", "transparent", "--outline", "darker", "-o", str(target), "--preview", "4",
    )  # fmt: skip
    assert code == 0, out
    db16 = {tuple(c) for c in builtin_palette("db16").colors.tolist()}
    arr = np.asarray(Image.open(target))
    assert {tuple(c) for c in arr[..., :3][arr[..., 3] == 255].tolist()} <= db16
    assert set(np.unique(arr[..., 3]).tolist()) <= {0, 255}
    assert arr[0, 0, 3] == 0  # the background went
    with Image.open(tmp_path / "out" / "agnes-preview.png") as preview:
        assert preview.size == (128, 128)


@pytest.mark.parametrize("fmt", ["hex", "gpl", "pal"])
def test_palette_file_and_auto(tmp_path: Path, fmt: str) -> None:
    src = _smooth_sprite(tmp_path)
    pal = tmp_path / f"mine.{fmt}"
    builtin_palette("gameboy").save(pal)
    code, out = _run(str(src), "--size", "16", "--palette", str(pal), "-o", str(tmp_path / "a.png"))
    assert code == 0, out
    rgb = np.asarray(Image.open(tmp_path / "a.png").convert("RGB")).reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) <= 4
    code, out = _run(str(src), "--size", "16", "--palette", "auto:5", "-o", str(tmp_path / "b.png"))
    assert code == 0, out
    assert "colours" in out


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    src = _smooth_sprite(tmp_path)
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    code, out = _run(str(src), "--size", "16", "-o", str(target))
    assert code == 3
    assert "--force" in out
    assert target.read_bytes() == b"precious"
    code, out = _run(str(src), "--size", "16", "-o", str(target), "--force")
    assert code == 0, out
    assert Image.open(target).size == (16, 16)
    code, out = _run(str(src), "--size", "16", "-o", str(src), "--force")
    assert code == 2
    assert "replace the input" in out


def _bomb(path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def _bad_input(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "in.png"
    if case == "not an image":
        path.write_text("hello, I am text")
    elif case == "truncated":
        buf = io.BytesIO()
        Image.open(DATA / "dcss-agnes.png").resize((64, 64)).save(buf, "PNG")
        path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    elif case == "bomb":
        _bomb(path)
    elif case == "animated":
        path = tmp_path / "in.gif"
        frames = [Image.open(DATA / n).convert("RGB") for n in ("dcss-wolf.png", "dcss-agnes.png")]
        frames[0].save(path, save_all=True, append_images=frames[1:])
    elif case == "missing":
        path = tmp_path / "nothing.png"
    return path


@pytest.mark.parametrize("case", ["not an image", "truncated", "bomb", "animated", "missing"])
def test_bad_images_fail_cleanly(tmp_path: Path, case: str) -> None:
    src = _bad_input(tmp_path, case)
    before = _files(tmp_path)
    code, out = _run(str(src), "--size", "16")
    assert code == 2
    assert out.startswith("Error: ")
    assert out.count("\n") == 1, out
    assert "Traceback" not in out
    assert _files(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "0"], "at least 1x1"),
        (["--size", "0x16"], "at least 1x1"),
        (["--size", "129x16"], "larger than the 128x128 input"),
        (["--size", "129"], "129x129 is larger than the 128x128 input"),
        (["--size", "big"], "must look like 32 or 32x48"),
        (["--size", "16", "--palette", "sweetie16x"], "did you mean 'sweetie-16'"),
        (["--size", "16", "--palette", "auto:1"], "2 to 256"),
        (["--size", "16", "--background", "blue"], "background must be"),
    ],
)
def test_bad_options_fail_cleanly(tmp_path: Path, args: list[str], message: str) -> None:
    src = _smooth_sprite(tmp_path)
    before = _files(tmp_path)
    code, out = _run(str(src), *args)
    assert code == 2
    assert message in out
    assert out.count("\n") == 1, out
    assert _files(tmp_path) == before


def test_palette_file_with_junk_lines(tmp_path: Path) -> None:
    src = _smooth_sprite(tmp_path)
    pal = tmp_path / "junk.hex"
    pal.write_text("ff0000\n00ff00\nthis is not a colour\n")
    before = _files(tmp_path)
    code, out = _run(str(src), "--size", "16", "--palette", str(pal))
    assert code == 2
    assert f"{pal}:3:" in out
    assert out.count("\n") == 1
    assert _files(tmp_path) == before
