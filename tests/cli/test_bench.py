"""``dgx-pixels bench`` on the CPU: the tiny model against plain diffusers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli


def test_bench_runs_every_case_against_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = tmp_path / "bench.json"
    args = ["bench", "--device", "cpu", "--steps", "2", "--repeats", "1", "--warmup", "0"]
    result = CliRunner().invoke(cli, [*args, "--json", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["model"] == "random:sdxl-tiny"
    assert data["device"] == "CPU"
    assert [c["case"]["name"] for c in data["cases"]] == [
        "64px 2 steps cfg b1",
        "64px 2 steps cfg b4",
        "64px 4 steps no-cfg b1",
        "32px 2 steps cfg b1",
    ]
    for case in data["cases"]:
        assert case["ours"]["latency_s"] > 0
        assert case["baseline"]["latency_s"] > 0
        assert case["speedup"] == pytest.approx(
            case["baseline"]["latency_s"] / case["ours"]["latency_s"]
        )
        assert case["ours"]["peak_memory_bytes"] is None  # no GPU memory on a CPU
    assert "speed-up" in result.output
    assert result.output.count("x\n") >= 4
    assert "process peak RSS" in result.output
