"""Model-free effects on real DCSS sprites: exact frames, the sprite's palette kept, and the
``animate --from --effect`` asset read back by Pillow and the JSON Schema."""

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
from dgx_pixels.sprites import EFFECTS, effect_frames, foot_point, opaque_bbox

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def agnes() -> Image.Image:
    return Image.open(DATA / "dcss-agnes.png").convert("RGBA")


def px(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGBA")).copy()


def binary(image: Image.Image) -> np.ndarray:
    """The pixels with alpha made binary at 128, as every effect takes its sprite."""
    a = px(image)
    keep = a[..., 3] >= 128
    a[..., 3] = np.where(keep, 255, 0)
    a[~keep] = 0
    return a


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    a = px(image)
    return {tuple(c) for c in a[a[..., 3] >= 128][:, :3].tolist()}


@pytest.mark.parametrize("effect", sorted(EFFECTS))
def test_every_effect_keeps_size_binary_alpha_and_palette(agnes: Image.Image, effect: str) -> None:
    before = px(agnes)
    frames = effect_frames(agnes, effect)
    assert len(frames) == EFFECTS[effect].frames
    assert len(effect_frames(agnes, effect, frames=7)) == 7
    assert np.array_equal(px(agnes), before)  # the input is never changed
    own = colours(agnes)
    for frame in frames:
        assert frame.size == agnes.size
        assert set(np.unique(px(frame)[..., 3]).tolist()) <= {0, 255}
        if EFFECTS[effect].keeps_palette:
            assert colours(frame) <= own
    if effect == "palette-swap":  # a colour map: each colour of the sprite becomes one colour
        a = px(agnes)
        mask = a[..., 3] == 255
        for frame in frames:
            pairs = {(tuple(s), tuple(t)) for s, t in zip(a[mask][:, :3].tolist(),
                                                          px(frame)[mask][:, :3].tolist(),
                                                          strict=True)}  # fmt: skip
            assert len(pairs) == len(own)
            assert np.array_equal(px(frame)[..., 3], a[..., 3])


def test_hit_flash_blink_and_dissolve_by_hand(agnes: Image.Image) -> None:
    a = binary(agnes)
    mask = a[..., 3] == 255
    flash, rest = (px(f) for f in effect_frames(agnes, "hit-flash", frames=2))
    assert np.array_equal(rest, a)
    assert np.array_equal(flash[..., 3], a[..., 3])
    assert {tuple(c) for c in flash[mask][:, :3].tolist()} == {(247, 247, 247)}  # agnes's lightest
    on, off = (px(f) for f in effect_frames(agnes, "blink", frames=2))
    assert np.array_equal(on, a)
    assert not off.any()
    dissolve = [px(f) for f in effect_frames(agnes, "dissolve", frames=5)]
    assert np.array_equal(dissolve[0], a)
    assert not dissolve[-1].any()
    kept = [int((f[..., 3] == 255).sum()) for f in dissolve]
    assert kept == sorted(kept, reverse=True)
    assert kept[2] == pytest.approx(mask.sum() / 2, rel=0.1)  # half way: about half the pixels
    for f in dissolve:  # survivors keep their colour
        alive = f[..., 3] == 255
        assert np.array_equal(f[alive], a[alive])
    assert not px(effect_frames(agnes, "fade-out")[-1]).any()


def test_idle_bob_moves_the_upper_body_one_pixel_and_keeps_the_feet(agnes: Image.Image) -> None:
    a = binary(agnes)
    rows = np.nonzero((a[..., 3] == 255).any(axis=1))[0]
    top, bottom = int(rows[0]), int(rows[-1])
    waist = top + (bottom - top + 1) * 2 // 3
    frames = [px(f) for f in effect_frames(agnes, "idle-bob")]
    assert np.array_equal(frames[0], a)
    down = frames[2]
    assert np.array_equal(down[waist + 1 :], a[waist + 1 :])  # legs
    assert np.array_equal(down[top + 1 : waist + 1], a[top:waist])  # body, one lower
    assert not down[top].any()
    assert foot_point(Image.fromarray(down)) == foot_point(agnes)


def test_squash_stretch_stands_on_the_same_feet() -> None:
    potion = Image.open(DATA / "potion.png").convert("RGBA")  # room on every side
    feet = foot_point(potion)
    boxes = []
    for frame in effect_frames(potion, "squash-stretch"):
        assert abs(foot_point(frame)[0] - feet[0]) <= 1
        assert foot_point(frame)[1] == feet[1]
        box = opaque_bbox(frame)
        assert box is not None
        boxes.append(box)
    assert boxes[0] == opaque_bbox(potion)
    assert boxes[1][2] > boxes[0][2] > boxes[3][2]  # squashed wide, then stretched narrow
    assert boxes[1][3] < boxes[0][3] < boxes[3][3]  # and low, then tall


def test_outline_pulse_only_adds_an_outline(agnes: Image.Image) -> None:
    a = binary(agnes)
    mask = a[..., 3] == 255
    for frame in effect_frames(agnes, "outline-pulse"):
        f = px(frame)
        assert np.array_equal(f[mask], a[mask])
        added = (f[..., 3] == 255) & ~mask
        assert added.any()
        grown = np.zeros_like(mask)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                grown |= np.roll(np.roll(mask, dy, 0), dx, 1)
        assert not (added & ~grown).any()  # one pixel around the sprite, no further


def test_bad_effect_arguments(agnes: Image.Image) -> None:
    with pytest.raises(InputError, match="effect must be one of"):
        effect_frames(agnes, "explode")
    with pytest.raises(InputError, match="frames must be 2-16, got 17"):
        effect_frames(agnes, "blink", frames=17)


def run_animate(tmp_path: Path, effect: str, *extra: str) -> Path:
    args = ["animate", "--from", str(DATA / "dcss-agnes.png"), "--effect", effect]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), *extra])
    assert result.exit_code == 0, result.output
    return tmp_path / f"dcss-agnes-{effect}"


def test_animate_effect_writes_an_animation_asset(tmp_path: Path, agnes: Image.Image) -> None:
    folder = run_animate(tmp_path / "a", "hit-flash", "--preview-scale", "3", "--fps", "20")
    manifest = read_manifest(folder)
    schema = json.loads((ROOT / "docs" / "asset-manifest.schema.json").read_text())
    jsonschema.validate(json.loads((folder / "manifest.json").read_text()), schema)
    assert manifest.kind == "animation"
    assert manifest.cell == (32, 32)
    assert [f.file for f in manifest.frames] == [f"frames/hit-flash_{i}.png" for i in range(4)]
    assert [f.duration_ms for f in manifest.frames] == [50] * 4
    assert {f.pivot for f in manifest.frames} == {foot_point(agnes)}
    assert [t.to_dict() for t in manifest.tags] == [
        {"name": "hit-flash", "from": 0, "to": 3, "direction": "forward", "loop": False,
         "fps": 20.0}
    ]  # fmt: skip
    assert {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in manifest.palette} == colours(
        agnes
    )
    assert manifest.consistency["palette_agreement"] == 1.0
    assert manifest.request["effect"] == "hit-flash"
    expected = effect_frames(agnes, "hit-flash")
    with Image.open(folder / "sheet.png") as sheet:
        s = px(sheet)
    for frame, want in zip(manifest.frames, expected, strict=True):
        x, y, w, h = frame.rect
        assert np.array_equal(s[y : y + h, x : x + w], px(want))
        assert np.array_equal(px(Image.open(folder / frame.file)), px(want))
    with Image.open(folder / "preview.gif") as gif:  # read back by Pillow's GIF decoder
        assert gif.n_frames == 4
        assert gif.size == (96, 96)
        gif.seek(1)
        shown = px(gif)
        assert gif.info["duration"] == 50
    assert np.array_equal(shown[::3, ::3], px(expected[1]))  # nearest scaling, exact colours


def test_animate_is_reproducible_and_never_overwrites(tmp_path: Path) -> None:
    one = run_animate(tmp_path / "one", "dissolve")
    two = run_animate(tmp_path / "two", "dissolve")
    for name in ("sheet.png", "manifest.json", "preview.gif"):
        assert (one / name).read_bytes() == (two / name).read_bytes()
    again = CliRunner().invoke(
        cli,
        ["animate", "--from", str(DATA / "dcss-agnes.png"), "--effect", "dissolve",
         "--out", str(tmp_path / "one")],
    )  # fmt: skip
    assert again.exit_code == 3
    assert again.output.strip().endswith("already exists; use --force to overwrite it")


def test_animate_bad_input_is_one_line(tmp_path: Path) -> None:
    args = ["animate", "--from", str(tmp_path / "missing.png"), "--effect", "blink"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path / 'missing.png'}: no such file"
    ]
    photo = tmp_path / "photo.png"
    Image.fromarray(
        np.random.default_rng(0).integers(0, 255, (32, 32, 4), dtype=np.uint8) | 128
    ).save(photo)
    big = CliRunner().invoke(
        cli, ["animate", "--from", str(DATA / "potion.png"), "--effect", "blink",
              "--preview-scale", "200", "--out", str(tmp_path)],
    )  # fmt: skip
    assert big.exit_code == 2
    assert "Invalid value for '--preview-scale'" in big.output
    wide = tmp_path / "wide.png"
    Image.new("RGBA", (256, 16), (9, 9, 9, 255)).save(wide)
    big = CliRunner().invoke(
        cli, ["animate", "--from", str(wide), "--effect", "blink", "--preview-scale", "32",
              "--out", str(tmp_path)],
    )  # fmt: skip
    assert big.exit_code == 2
    assert big.output.strip().splitlines() == [
        "Error: --preview-scale 32 makes a 8192x512 px preview, over 4096"
    ]
    result = CliRunner().invoke(cli, ["animate", "--from", str(photo), "--effect", "blink"])
    assert result.exit_code == 2
    assert "more than 256 colours" in result.output
    assert not list(tmp_path.glob("photo-*"))
    assert not list(tmp_path.glob("wide-*"))
