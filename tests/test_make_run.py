"""``make run``'s fallback: the built-in model is used only when its trained weights ship.

The Makefile runs in a temporary folder with a stand-in ``dgx-pixels`` that
records its arguments and answers ``generate`` of the default model with exit
code 5 (no model), as the real one does offline without SDXL.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FAKE_BIN = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/calls.log"
if [[ "$1" == generate && "$*" != *builtin:sprites-32* ]]; then exit 5; fi
"""


def make_run(tmp_path: Path, weights: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    fake = tmp_path / "dgx-pixels"
    fake.write_text(FAKE_BIN)
    fake.chmod(0o755)
    showcase = tmp_path / "examples" / "offline-showcase.sh"
    showcase.parent.mkdir()
    showcase.write_text('#!/usr/bin/env bash\n"$1" showcase "$2"\n')
    showcase.chmod(0o755)
    command = ["make", "-s", "-f", str(ROOT / "Makefile"), "run", "STAMP=", f"BIN={fake}"]
    command.append(f"BUILTIN_WEIGHTS={weights}")
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    return done, (tmp_path / "calls.log").read_text()


def test_without_shipped_weights_make_run_never_uses_the_built_in_model(tmp_path: Path) -> None:
    done, calls = make_run(tmp_path, tmp_path / "no-such-weights.safetensors")
    assert done.returncode == 0, done.stderr
    assert "builtin:sprites-32" not in calls + done.stdout
    assert calls.splitlines()[-1] == "showcase outputs/showcase"
    assert "No generation model here" in done.stdout


def test_with_shipped_weights_make_run_draws_with_it_and_says_so(tmp_path: Path) -> None:
    weights = tmp_path / "sprites-32.safetensors"
    weights.write_bytes(b"present")  # only its presence is read here
    done, calls = make_run(tmp_path, weights)
    assert done.returncode == 0, done.stderr
    builtin = [c for c in calls.splitlines() if "--model builtin:sprites-32" in c]
    assert len(builtin) == 1
    assert "--steps 15" in builtin[0]
    assert "models pull pixel-art-xl" in done.stdout
    assert calls.splitlines()[-1] == "showcase outputs/showcase"
