"""``dgx-pixels train lora``: the dry run, one-line refusals, a whole run, and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.cli import cli

from .conftest import TINY

FAST = [
    "--model", TINY, "--rank", "2", "--no-gradient-checkpointing", "--validate-every", "0",
    "--device", "cpu", "--trigger", "ourstyle",
]  # fmt: skip


def test_dry_run_prints_the_dataset_as_the_trainer_sees_it(sprites: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "lora", str(sprites), "--dry-run", *FAST])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"preset pixel-fast, model {TINY}, trigger 'ourstyle'"
    assert lines[1].startswith(f"4 images in {sprites}")
    assert (
        "  wolf.png: 32x32 -> 64x64 at 2x, caption (txt): 'ourstyle, a grey wolf, side view'"
        in lines
    )
    assert "  64x64: 4 image(s)" in lines


def test_sdxl_dry_run_needs_no_model(sprites: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "lora", str(sprites), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "  bat.png: 32x32 -> 1024x1024 at 32x, caption (name): 'bat'" in result.output


def test_bad_data_ends_with_one_line_naming_the_file(sprites: Path) -> None:
    Image.effect_noise((3, 2), 90).convert("RGBA").save(sprites / "speck.png")
    result = CliRunner().invoke(cli, ["train", "lora", str(sprites), *FAST])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert (
        line
        == f"Error: {sprites / 'speck.png'}: sprite is 3x2, too small to train on (at least 4x4)"
    )


def test_a_bad_flag_value_is_one_line(sprites: Path) -> None:
    result = CliRunner().invoke(
        cli, ["train", "lora", str(sprites), *FAST, "--background", "white"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == "Error: background must look like #rrggbb, got 'white'"


def test_a_whole_run_writes_the_lora_beside_its_config(sprites: Path, tmp_path: Path) -> None:
    out = tmp_path / "ourstyle.safetensors"
    args = ["train", "lora", str(sprites), *FAST, "--steps", "2", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--format", "kohya"])
    assert result.exit_code == 0, result.output
    assert f"LoRA: {out} (kohya layout, 2 steps)" in result.output
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["layout"] == "kohya"
    assert sidecar["config"]["steps"] == 2
    assert len(out.with_suffix(".metrics.jsonl").read_text().splitlines()) == 2
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 3
    assert "already exists; use --force" in again.output


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_resume_finishes(sprites: Path, tmp_path: Path) -> None:
    out = tmp_path / "ourstyle.safetensors"
    args = [sys.executable, "-m", "dgx_pixels", "train", "lora", str(sprites), *FAST,
            "--out", str(out), "--steps", "500"]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("step "):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 6, err
    assert "checkpoint saved in" in err
    assert "continue with --resume" in err
    assert not out.exists()
    checkpoints = list((tmp_path / "ourstyle.train" / "checkpoints").glob("step-*"))
    assert len(checkpoints) == 1
    step = int(checkpoints[0].name[5:])
    result = CliRunner().invoke(
        cli, ["train", "lora", str(sprites), *FAST, "--out", str(out), "--steps", str(step + 2),
              "--resume"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".json").read_text())["steps"] == step + 2
