"""``dgx-pixels restore`` on real PNG files: output, no-clobber, and every bad input."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.cli import cli

from ..images import assert_image_equal

DATA = Path(__file__).resolve().parents[1] / "data"


def truth() -> Image.Image:
    with Image.open(DATA / "alligator.png") as im:
        return im.convert("RGBA")


@pytest.fixture
def big_png(tmp_path: Path) -> Path:
    """The alligator drawn at 10.5 px per cell with the border cells cut."""
    big = truth().resize((336, 336), Image.Resampling.NEAREST).crop((4, 2, 333, 334))
    path = tmp_path / "alligator-big.png"
    big.save(path)
    return path


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["restore", *map(str, args)])
    return result.exit_code, result.output


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_restore_detects_the_grid_and_writes_beside_the_input(big_png: Path) -> None:
    code, out = invoke(big_png)
    assert code == 0, out
    target = big_png.with_name("alligator-big-restored.png")
    assert "grid: 32x32 cells of" in out
    assert "confidence: " in out
    # A clean upscale keeps every colour: the sprite has more than can be listed.
    colours = {c for _, c in truth().getcolors(1024) if c[3] == 255}
    assert f"palette: {len(colours)} inks (more than 32, not listed)" in out
    assert f"wrote {target} (32x32)" in out
    with Image.open(target) as im:
        assert im.size == (32, 32)
        assert_image_equal(im, truth())


@pytest.mark.parametrize("option", [["--size", "32x32"], ["--size", "32"], ["--scale", "10.5"]])
def test_known_size_or_scale(tmp_path: Path, option: list[str]) -> None:
    source = tmp_path / "exact.png"
    truth().resize((336, 336), Image.Resampling.NEAREST).save(source)
    out_path = tmp_path / "out" / "sprite.png"
    code, out = invoke(source, "-o", out_path, *option)
    assert code == 0, out
    assert "confidence: 1.00" in out
    with Image.open(out_path) as im:
        assert_image_equal(im, truth())


def test_never_overwrites_without_force(big_png: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "taken.png"
    out_path.write_bytes(b"precious")
    code, out = invoke(big_png, "-o", out_path)
    assert code == 3
    assert out.strip().splitlines()[-1] == (
        f"Error: {out_path} already exists; use --force to overwrite it"
    )
    assert out_path.read_bytes() == b"precious"
    code, out = invoke(big_png, "-o", out_path, "--force")
    assert code == 0, out
    with Image.open(out_path) as im:
        assert im.size == (32, 32)


def test_output_may_not_replace_the_input(big_png: Path) -> None:
    code, out = invoke(big_png, "-o", big_png, "--force")
    assert code == 2
    assert "would replace the input image" in out


def test_no_grid_exits_4_and_writes_nothing(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    code, out = invoke(path)
    assert code == 4
    assert "no pixel grid found (confidence" in out
    assert files_in(tmp_path) == {"noise.png"}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png() -> bytes:
    """A valid-looking 60000 x 60000 PNG a few hundred bytes long."""
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def write_bad_inputs(folder: Path) -> dict[str, Path]:
    paths = {}
    paths["text"] = folder / "notes.png"
    paths["text"].write_text("not an image at all")
    good = folder / "good.png"
    truth().resize((64, 64), Image.Resampling.NEAREST).save(good)
    data = good.read_bytes()
    paths["truncated"] = folder / "truncated.png"
    paths["truncated"].write_bytes(data[: len(data) // 2])
    good.unlink()
    paths["bomb"] = folder / "bomb.png"
    paths["bomb"].write_bytes(bomb_png())
    paths["animated"] = folder / "walk.gif"
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(paths["animated"], save_all=True, append_images=frames[1:], duration=100)
    paths["missing"] = folder / "missing.png"
    return paths


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("text", "not an image file"),
        ("truncated", "cannot decode image"),
        ("bomb", "too large"),
        ("animated", "animated image with 2 frames"),
        ("missing", "no such file"),
    ],
)
def test_bad_images_get_one_line_and_write_nothing(tmp_path: Path, case: str, message: str) -> None:
    paths = write_bad_inputs(tmp_path)
    before = files_in(tmp_path)
    code, out = invoke(paths[case])
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert message in lines[0]
    assert "Traceback" not in out
    assert files_in(tmp_path) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--size", "0"], "--size must be at least 1x1, got 0x0"),
        (["--size", "0x32"], "at least 1x1, got 0x32"),
        (["--size", "400x32"], "400x32 is larger than the 329x332 input"),
        (["--size", "big"], "--size must look like 32 or 32x48, got 'big'"),
        (["--size", "32", "--scale", "10"], "either --size or --scale, not both"),
        (["--scale", "0"], "--scale must be at least 1, got 0"),
        (["--scale", "1000"], "larger than the 329x332 image"),
        (["--min-confidence", "2"], "--min-confidence must be between 0 and 1, got 2"),
    ],
)
def test_bad_options_get_one_line_and_write_nothing(
    big_png: Path, options: list[str], message: str
) -> None:
    folder = big_png.parent
    before = files_in(folder)
    code, out = invoke(big_png, *options)
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert message in lines[0]
    assert files_in(folder) == before


def test_background_and_palette_finish_the_sprite(tmp_path: Path) -> None:
    # The sprite on a flat opaque background, as generators deliver it.
    sprite = truth()
    flat = Image.new("RGBA", sprite.size, (90, 160, 210, 255))
    flat.alpha_composite(sprite)
    source = tmp_path / "on-blue.png"
    flat.convert("RGB").resize((320, 320), Image.Resampling.NEAREST).save(source)
    out_path = tmp_path / "sprite.png"
    code, out = invoke(source, "-o", out_path, "--background", "transparent", "--palette", "pico-8")
    assert code == 0, out
    with Image.open(out_path) as im:
        got = np.asarray(im.convert("RGBA"))
    want_alpha = np.asarray(sprite)[..., 3] >= 128
    assert ((got[..., 3] == 255) == want_alpha).mean() > 0.99
    from dgx_pixels.pixel import builtin_palette

    pico = {tuple(c) for c in builtin_palette("pico-8").colors.tolist()}
    assert {tuple(c) for c in got[got[..., 3] == 255][:, :3].tolist()} <= pico


def test_bad_palette_writes_nothing(big_png: Path) -> None:
    before = files_in(big_png.parent)
    code, out = invoke(big_png, "--palette", "no-such-palette")
    assert code == 2
    assert "unknown palette" in out
    assert files_in(big_png.parent) == before


#: Eight inks, three of them a ramp of close greens (OKLab 0.03-0.04 apart).
INKS = [(40, 120, 40), (52, 136, 50), (64, 152, 60), (200, 40, 40), (20, 20, 30),
        (230, 220, 200), (90, 60, 160), (240, 180, 40)]  # fmt: skip


def test_noisy_picture_comes_back_with_the_artists_palette(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sprite = np.asarray(INKS, np.uint8)[rng.integers(0, len(INKS), (24, 24))]
    big = sprite.repeat(12, axis=0).repeat(12, axis=1).astype(np.float64)
    big *= 1 + np.linspace(-0.02, 0.02, big.shape[1])[None, :, None]  # colour drift
    big += rng.normal(0, 4, big.shape)
    source = tmp_path / "noisy.png"
    Image.fromarray(np.clip(np.rint(big), 0, 255).astype(np.uint8)).save(source)
    code, out = invoke(source, "-o", tmp_path / "merged.png")
    assert code == 0, out
    assert "palette: 8 inks #" in out
    with Image.open(tmp_path / "merged.png") as im:
        got = np.asarray(im.convert("RGB"))
    assert len(np.unique(got.reshape(-1, 3), axis=0)) == 8
    assert np.abs(got.astype(int) - sprite).max() <= 3  # each cell on its own ink
    code, out = invoke(source, "-o", tmp_path / "kept.png", "--keep-colours")
    assert code == 0, out
    assert "palette:" not in out
    with Image.open(tmp_path / "kept.png") as im:
        assert len(im.getcolors(1024)) > 100
