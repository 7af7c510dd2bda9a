"""Start-up: other libraries' noise goes to our log, and a worker's engine is warm when loaded."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from typing import Any

import pytest

from dgx_pixels.engine._loading import LIBRARY_LOG, quiet_libraries


def test_library_noise_goes_to_our_log_not_the_terminal(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from transformers.utils import logging as transformers_logging

    noisy = transformers_logging.get_logger("transformers.utils.import_utils")
    library_root = transformers_logging.get_logger()
    handlers_before = list(library_root.handlers)
    with caplog.at_level(logging.INFO, logger=LIBRARY_LOG.name), quiet_libraries():
        noisy.warning("`CLIPImageProcessor` requires torchvision (not installed)")
        warnings.warn("`torch_dtype` is deprecated", FutureWarning, stacklevel=1)
    err = capfd.readouterr().err
    assert "torchvision" not in err
    assert "torch_dtype" not in err
    logged = [r.getMessage() for r in caplog.records if r.name == LIBRARY_LOG.name]
    assert any("requires torchvision" in m for m in logged)
    assert any("FutureWarning: `torch_dtype` is deprecated" in m for m in logged)
    # The library's own handlers are back. (Not checked by printing through them: the
    # stream a handler holds is whatever stderr was when the library first made it,
    # which in a long test session can be an earlier test's capture.)
    assert library_root.handlers == handlers_before


@pytest.mark.slow
def test_generate_prints_nothing_from_other_libraries(tmp_path: Any) -> None:
    """A real ``generate --local`` in a fresh process: only our own lines on stderr."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env["HF_HUB_CACHE"] = str(tmp_path / "hf-cache")
    run = subprocess.run(
        [sys.executable, "-m", "dgx_pixels", "generate", "a knight", "--local",
         "--model", "random:sdxl-tiny", "--device", "cpu", "--size", "16", "--steps", "2",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [
        "note: random:sdxl-tiny has random weights: its sprites are noise, for tests and "
        "benchmarks",
        "loading random:sdxl-tiny ...",
        "generating",
        run.stderr.splitlines()[-1],
    ]
    assert run.stderr.splitlines()[-1].startswith("1 sprite(s) 16x16 in ")


def test_a_worker_backend_loads_a_warm_engine(monkeypatch: pytest.MonkeyPatch, tiny_engine) -> None:
    """``EngineBackend.load`` (what a worker runs while ``loading``) draws once, for real."""
    from dgx_pixels.engine import Engine
    from dgx_pixels.jobs.backend import EngineBackend

    monkeypatch.setattr(Engine, "load", classmethod(lambda cls, *a, **k: tiny_engine))
    unet = tiny_engine.pipeline.unet
    calls = {"n": 0}
    real_forward = unet.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return real_forward(*args, **kwargs)

    monkeypatch.setattr(unet, "forward", counting)
    loaded = EngineBackend(device="cpu").load("random:sdxl-tiny")
    assert loaded is tiny_engine
    assert calls["n"] == 2  # the warm-up's two denoising steps went through the UNet
