"""Sheet packing on real DCSS sprites: every frame where its rect says, edges extruded,
padding transparent, trimming reversible; and the ``sheet`` command's asset folder."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.assets import read_manifest
from dgx_pixels.cli import cli
from dgx_pixels.errors import InputError
from dgx_pixels.sprites import opaque_bbox, pack_sheet

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]
SPRITES = ["dcss-wolf.png", "alligator.png", "dcss-agnes.png", "potion.png", "dcss-long-sword.png"]


@pytest.fixture(scope="module")
def frames() -> list[Image.Image]:
    return [Image.open(DATA / name).convert("RGBA") for name in SPRITES]


def px(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGBA"))


@pytest.mark.parametrize(("padding", "extrude", "columns"), [(0, 0, None), (2, 1, 2), (1, 3, 5)])
def test_grid_places_every_frame_and_extrudes_its_edge(
    frames: list[Image.Image], padding: int, extrude: int, columns: int | None
) -> None:
    packed = pack_sheet(frames, columns=columns, padding=padding, extrude=extrude)
    sheet = px(packed.image)
    cols = columns or 3
    assert packed.columns == cols
    assert packed.rows == -(-len(frames) // cols)
    pitch = 32 + 2 * extrude + padding
    assert packed.image.size == (cols * pitch - padding, packed.rows * pitch - padding)
    for i, (frame, (x, y, w, h)) in enumerate(zip(frames, packed.rects, strict=True)):
        assert (x, y) == ((i % cols) * pitch + extrude, (i // cols) * pitch + extrude)
        assert np.array_equal(sheet[y : y + h, x : x + w], px(frame))
        if extrude:
            f = px(frame)
            assert np.array_equal(sheet[y - extrude : y, x : x + w], np.repeat(f[:1], extrude, 0))
            assert np.array_equal(sheet[y : y + h, x + w : x + w + extrude, :],
                                  np.repeat(f[:, -1:], extrude, 1))  # fmt: skip
            assert np.array_equal(sheet[y - extrude, x - extrude], f[0, 0])  # corners too
    # Everything outside the extruded cells is transparent.
    used = np.zeros(sheet.shape[:2], dtype=bool)
    for x, y, w, h in packed.rects:
        used[y - extrude : y + h + extrude, x - extrude : x + w + extrude] = True
    assert not sheet[~used].any()


def test_power_of_two_grows_with_transparency(frames: list[Image.Image]) -> None:
    packed = pack_sheet(frames, columns=5, padding=1, power_of_two=True)
    assert packed.image.size == (256, 32)
    assert not px(packed.image)[:, 164:].any()


def test_tight_trimmed_packing_is_reversible_and_does_not_overlap(
    frames: list[Image.Image],
) -> None:
    packed = pack_sheet(frames, packing="tight", trim=True, padding=1, extrude=1)
    sheet = px(packed.image)
    assert packed.columns is None
    assert packed.trimmed
    loose = pack_sheet(frames, columns=5, padding=1, extrude=1)
    assert np.prod(packed.image.size) < np.prod(loose.image.size)
    seen = np.zeros(sheet.shape[:2], dtype=int)
    for frame, (x, y, w, h), (sx, sy, sw, sh) in zip(
        frames, packed.rects, packed.source_rects, strict=True
    ):
        assert (w, h) == (sw, sh)
        assert (sx, sy, sw, sh) == opaque_bbox(frame)
        seen[y - 1 : y + h + 1, x - 1 : x + w + 1] += 1
        # Paste the part back into an empty cell: the frame's opaque pixels come back exactly.
        cell = np.zeros((32, 32, 4), dtype=np.uint8)
        cell[sy : sy + sh, sx : sx + sw] = sheet[y : y + h, x : x + w]
        f = px(frame)
        opaque = f[..., 3] >= 128
        assert np.array_equal(cell[opaque], f[opaque])
    assert seen.max() == 1


def test_bad_input_says_what_is_wrong(frames: list[Image.Image]) -> None:
    with pytest.raises(InputError, match="frame 1 is 16x16"):
        pack_sheet([frames[0], Image.new("RGBA", (16, 16))])
    with pytest.raises(InputError, match="trimming needs tight packing"):
        pack_sheet(frames, trim=True)
    with pytest.raises(InputError, match="padding must be 0-64, got 65"):
        pack_sheet(frames, padding=65)
    with pytest.raises(InputError, match="columns must be 1-5"):
        pack_sheet(frames, columns=9)
    with pytest.raises(InputError, match="larger than 8192"):
        pack_sheet([Image.new("RGBA", (1024, 1024))] * 9, columns=9)


def test_sheet_command_writes_a_valid_asset(tmp_path: Path) -> None:
    paths = [str(DATA / name) for name in SPRITES[2:]]
    out = tmp_path / "hero-sheet.png"
    args = ["sheet", *paths, "--columns", "3", "--padding", "1", "--extrude", "1", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "hero-sheet"
    manifest = read_manifest(folder)
    data = json.loads((folder / "manifest.json").read_text())
    schema = json.loads((ROOT / "docs" / "asset-manifest.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert manifest.kind == "sheet"
    assert manifest.name == "hero-sheet"
    assert manifest.sheet is not None
    assert (manifest.sheet.columns, manifest.sheet.rows) == (3, 1)
    assert [t.to_dict() for t in manifest.tags] == [
        {"name": "hero-sheet", "from": 0, "to": 2, "direction": "forward", "loop": True,
         "fps": 10.0}
    ]  # fmt: skip
    with Image.open(folder / "sheet.png") as im:
        sheet = px(im)
    for frame, path in zip(manifest.frames, paths, strict=True):
        x, y, w, h = frame.rect
        original = px(Image.open(path))
        assert np.array_equal(sheet[y : y + h, x : x + w], original)
        assert np.array_equal(px(Image.open(folder / frame.file)), original)
        assert frame.pivot == (16, 31)
        assert frame.duration_ms == 100
    # The palette lists exactly the colours of the opaque pixels.
    colours = set()
    for path in paths:
        a = px(Image.open(path))
        colours |= {"#{:02x}{:02x}{:02x}".format(*tuple(c)) for c in a[a[..., 3] >= 128][:, :3]}
    assert len(colours) <= 256
    assert set(manifest.palette) == colours
    # Again: refused without --force, the folder untouched; then replaced with it.
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 3
    assert "already exists; use --force" in again.output
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0


def test_sheet_command_bad_input_is_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "odd.png"
    Image.new("RGBA", (16, 16)).save(odd)
    result = CliRunner().invoke(
        cli, ["sheet", str(DATA / "potion.png"), str(odd), "-o", str(tmp_path / "s")]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: every frame must be 32x32 like the first, frame 1 is 16x16"
    ]
    assert not (tmp_path / "s").exists()
