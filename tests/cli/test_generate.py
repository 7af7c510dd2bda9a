"""``dgx-pixels generate`` end to end on the tiny random model, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from dgx_pixels.cli import cli
from dgx_pixels.engine._random_models import write_random_lora

from ..images import assert_image_equal

TINY = ["--model", "random:sdxl-tiny", "--device", "cpu", "--steps", "2", "--scheduler", "euler"]


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["generate", *args])


def test_generate_writes_sprites_previews_raws_and_metadata(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "a knight with a sword", *TINY, "--size", "16", "--count", "2", "--seed", "5",
        "--palette", "pico-8", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"a-knight-with-a-sword-{seed}{suffix}"
        for seed in (5, 6)
        for suffix in (".png", "@8x.png", ".raw.png", ".json")
    )
    sprite = Image.open(out / "a-knight-with-a-sword-5.png")
    assert sprite.size == (16, 16)
    assert sprite.mode == "RGBA"
    assert "Sampler: Euler, CFG scale: 6, Seed: 5" in sprite.info["parameters"]
    assert Image.open(out / "a-knight-with-a-sword-5@8x.png").size == (128, 128)
    assert Image.open(out / "a-knight-with-a-sword-5.raw.png").size == (64, 64)
    meta = json.loads((out / "a-knight-with-a-sword-6.json").read_text())
    assert meta["seed"] == 6
    assert meta["request"]["palette"] == "pico-8"
    assert meta["model"]["id"] == "random:sdxl-tiny"
    # Every colour of the sprite is in the pico-8 palette (or transparent).
    from dgx_pixels.pixel.palette import resolve_palette

    palette = {tuple(int(v) for v in c) for c in resolve_palette("pico-8").colors}
    rgba = np.asarray(sprite)
    opaque = rgba[rgba[..., 3] > 0][:, :3]
    assert {tuple(int(v) for v in c) for c in opaque} <= palette
    assert str(out / "a-knight-with-a-sword-5.png") in result.output
    assert "random:sdxl-tiny has random weights: its sprites are noise" in result.stderr


@pytest.mark.parametrize("source", ["json", "png"])
def test_from_reproduces_an_output(tmp_path: Path, source: str) -> None:
    first = tmp_path / "first"
    assert (
        invoke("a slime", *TINY, "--size", "16", "--seed", "9", "--out", str(first)).exit_code == 0
    )
    again = tmp_path / "again"
    path = first / ("a-slime-9.json" if source == "json" else "a-slime-9.png")
    result = invoke("--from", str(path), "--device", "cpu", "--out", str(again))
    assert result.exit_code == 0, result.output
    for name in ("a-slime-9.png", "a-slime-9.raw.png"):
        with Image.open(first / name) as a, Image.open(again / name) as b:
            assert_image_equal(a, b, what=name)


def test_existing_outputs_need_force(tmp_path: Path) -> None:
    args = ["a slime", *TINY, "--size", "16", "--seed", "3", "--out", str(tmp_path)]
    assert invoke(*args).exit_code == 0
    before = (tmp_path / "a-slime-3.json").read_bytes()
    result = invoke(*args)
    assert result.exit_code == 3
    assert "already exists; use --force" in result.output
    assert (tmp_path / "a-slime-3.json").read_bytes() == before
    assert invoke(*args, "--force").exit_code == 0


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "broken": tmp_path / "broken.png",
        "init": tmp_path / "init.png",
        "mask": tmp_path / "mask.png",
        "ckpt": tmp_path / "style.ckpt",
        "fake": tmp_path / "fake.safetensors",
        "flux": tmp_path / "flux.safetensors",
    }
    files["broken"].write_bytes(b"\x89PNG not really")
    Image.new("RGB", (32, 32)).save(files["init"])
    Image.new("L", (24, 24)).save(files["mask"])
    files["ckpt"].write_bytes(b"pickle")
    files["fake"].write_bytes(b"\x00" * 64)
    import torch
    from safetensors.torch import save_file

    save_file(
        {"transformer.blocks.0.attn.to_k.lora_A.weight": torch.ones(4, 8)}, str(files["flux"])
    )
    return files


BAD_INPUTS = {
    "empty prompt": (["  "], "prompt must not be empty"),
    "size 0": (["--size", "0"], "--size must be at least 1x1, got 0x0"),
    "size 5000": (["--size", "5000"], "sprite width must be between 1 and 512, got 5000"),
    "size not a size": (["--size", "big"], "--size must look like 32 or 32x48"),
    "unreachable size": (["--size", "511"], "size 511x511 cannot be drawn by random:sdxl-tiny"),
    "unknown palette": (["--palette", "pico-9"], "unknown palette 'pico-9'"),
    "unknown scheduler": (["--scheduler", "warp"], "unknown scheduler 'warp'"),
    "lora not safetensors": (["--lora", "{ckpt}"], "is not a .safetensors file"),
    "lora not a safetensors file": (["--lora", "{fake}"], "not a valid safetensors file"),
    "lora not for sdxl": (["--lora", "{flux}"], "is not an SDXL UNet LoRA"),
    "unreadable init": (["--init", "{broken}"], "not an image file Pillow can read"),
    "missing init": (["--init", "{broken}.nope"], "no such file"),
    "mask of another size": (
        ["--init", "{init}", "--mask", "{mask}"],
        "is 24x24 but the init image is 32x32",
    ),
    "mask without init": (["--mask", "{mask}"], "a mask needs an init image"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_line_and_writes_nothing(
    case: str, tmp_path: Path, bad_files: dict[str, Path]
) -> None:
    args, message = BAD_INPUTS[case]
    args = [a.format(**{k: str(v) for k, v in bad_files.items()}) for a in args]
    prompt = [] if case == "empty prompt" else ["a knight"]
    out = tmp_path / "out"
    result = invoke(*prompt, *TINY, *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_missing_model_says_how_to_get_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("a knight", "--model", "sdxl-base", "--device", "cpu", "--out", str(out))
    assert result.exit_code == 5
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert lines == [
        "Error: model sdxl-base (stabilityai/stable-diffusion-xl-base-1.0) is not downloaded "
        "and HF_HUB_OFFLINE is set; get it with: dgx-pixels models pull sdxl-base"
    ]
    assert not out.exists()


def test_unreachable_hub_fails_fast_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Online mode, but the hub is a closed loopback port: what a machine without
    # network access sees. The model is not cached, so nothing can load.
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    out = tmp_path / "out"
    result = invoke("a knight", "--model", "sdxl-base", "--local", "--out", str(out))
    assert result.exit_code == 5
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert lines == [
        "Error: model sdxl-base (stabilityai/stable-diffusion-xl-base-1.0) is not downloaded "
        "and the Hugging Face hub cannot be reached; get it with: dgx-pixels models pull sdxl-base"
    ]
    assert not out.exists()


def test_lora_stack_from_the_command_line(tmp_path: Path) -> None:
    a = write_random_lora(tmp_path / "a.safetensors", seed=1)
    b = write_random_lora(tmp_path / "b.safetensors", seed=2)
    out = tmp_path / "out"
    result = invoke(
        "a knight", *TINY, "--size", "16", "--seed", "1", "--out", str(out),
        "--lora", f"{a}:0.7", "--lora", str(b),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "a-knight-1.json").read_text())
    assert [(lo["file"], lo["weight"]) for lo in meta["loras"]] == [
        ("a.safetensors", 0.7),
        ("b.safetensors", 1.0),
    ]
    assert "<lora:a:0.7> <lora:b:1>" in Image.open(out / "a-knight-1.png").info["parameters"]


def test_fast_mode_uses_few_steps_without_cfg(tmp_path: Path) -> None:
    args = ["a knight", "--model", "random:sdxl-tiny", "--device", "cpu", "--size", "16"]
    result = invoke(*args, "--fast", "--seed", "2", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    request = json.loads((tmp_path / "a-knight-2.json").read_text())["request"]
    assert (request["steps"], request["guidance"], request["scheduler"], request["fast"]) == (
        4,
        1.0,
        "lcm",
        True,
    )


def test_from_keeps_the_palette_its_batch_shared(tmp_path: Path) -> None:
    first = tmp_path / "first"
    args = ["a slime", *TINY, "--size", "16", "--seed", "4", "--count", "2", "--palette", "auto:5"]
    assert invoke(*args, "--out", str(first)).exit_code == 0
    meta = json.loads((first / "a-slime-5.json").read_text())
    assert meta["request"]["palette"] == "auto:5"
    locked = meta["pixel_spec"]["palette"]
    again = tmp_path / "again"
    result = invoke("--from", str(first / "a-slime-5.json"), "--device", "cpu", "--out", str(again))
    assert result.exit_code == 0, result.output
    assert json.loads((again / "a-slime-5.json").read_text())["pixel_spec"]["palette"] == locked
    shared = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in locked.split(",")}
    rgba = np.asarray(Image.open(again / "a-slime-5.png").convert("RGBA"))
    assert {tuple(int(v) for v in c) for c in rgba[rgba[..., 3] > 0][:, :3]} <= shared
