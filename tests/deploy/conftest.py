"""What the deployment tests share: the deploy folder, and the metric names a worker exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"

#: NVIDIA DCGM exporter metrics the dashboard also reads (profile "dcgm" of compose.yaml).
DCGM_METRICS = {"DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_TEMP"}

_NAME = re.compile(r"\b(dgx_pixels_[a-z_]+|DCGM_FI_[A-Z_]+)\b")


def metric_names(promql: str) -> set[str]:
    """The dgx_pixels_* and DCGM_* metric names a PromQL expression reads."""
    return set(_NAME.findall(promql))


class FakeNvml:
    """pynvml's interface for one GPU with every reading."""

    NVML_TEMPERATURE_GPU = 0

    class NVMLError(Exception):
        pass

    class _Mem:
        used, total = 3 * 2**30, 80 * 2**30

    class _Util:
        gpu = 42

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802 - pynvml's names
        return 1

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> object:  # noqa: N802
        return self._Mem()

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> object:  # noqa: N802
        return self._Util()

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:  # noqa: N802
        return 61


@pytest.fixture(scope="session")
def exported_metrics() -> set[str]:
    """Every sample name a worker's registry exports, GPU readings included."""
    from dgx_pixels.observability.metrics import NvmlCollector, WorkerMetrics

    metrics = WorkerMetrics()
    metrics.registry.register(NvmlCollector(FakeNvml()))
    metrics.observe_batch(images=1, steps=2, seconds=0.5)
    return {s.name for family in metrics.registry.collect() for s in family.samples}
