"""``dgx-pixels bench --train``: our step and a plain diffusers + peft step, one run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dgx_pixels.cli import cli


def test_bench_train_times_ours_and_the_baseline(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    args = ["bench", "--train", "--device", "cpu", "--repeats", "1", "--warmup", "0",
            "--rank", "2", "--no-checkpointing", "--json", str(report)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "machine: CPU (fp32);" in result.output
    assert "speed-up over the baseline:" in result.output
    data = json.loads(report.read_text())
    assert data["model"] == "random:sdxl-tiny"
    assert data["drawing"] == [64, 64]
    assert data["ours"]["latency_s"] > 0
    assert data["baseline"]["latency_s"] > 0
    assert data["speedup"] == data["baseline"]["latency_s"] / data["ours"]["latency_s"]
