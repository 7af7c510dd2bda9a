"""What the Monitor screen reads: job history from events, this machine's GPUs, the worker log.

GPU readings come from NVML (``pynvml``) when it and a driver are present;
otherwise :func:`read_gpus` says why there are none. A value NVML does not
report is ``None`` (shown as "n/a"), never a made-up zero.

>>> history([(0.0, p.Done(job=1, outputs=[], seconds=2.0)),
...          (30.0, p.Done(job=2, outputs=[], seconds=4.0))], now=60.0, minutes=2)
([2.0, 4.0], [1, 1])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.jobs import protocol as p

__all__ = ["GpuReading", "history", "read_gpus", "tail"]

MAX_LOG_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One GPU now; ``None`` where NVML gives no value."""

    index: int
    name: str
    utilization: float | None
    memory_used: int | None
    memory_total: int | None
    temperature_c: int | None
    power_w: float | None


def read_gpus() -> list[GpuReading] | str:
    """This machine's GPUs, or the reason there are none to show ("no GPU: ...")."""
    try:
        import pynvml
    except ImportError:
        return "no GPU: NVML is not available here (pip install nvidia-ml-py)"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError and its subclasses: no driver, no device
        return f"no GPU: NVML found none ({exc})"
    readings = []
    try:
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)

            def value(read: object, handle: object = handle) -> object:
                try:
                    return read(handle)  # type: ignore[operator]
                except pynvml.NVMLError:
                    return None

            name = value(pynvml.nvmlDeviceGetName)
            util = value(pynvml.nvmlDeviceGetUtilizationRates)
            mem = value(pynvml.nvmlDeviceGetMemoryInfo)
            temp = value(lambda h: pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
            power = value(pynvml.nvmlDeviceGetPowerUsage)
            readings.append(
                GpuReading(
                    index=i,
                    name=str(name.decode() if isinstance(name, bytes) else name or f"GPU {i}"),
                    utilization=None if util is None else util.gpu / 100.0,  # type: ignore[attr-defined]
                    memory_used=None if mem is None else int(mem.used),  # type: ignore[attr-defined]
                    memory_total=None if mem is None else int(mem.total),  # type: ignore[attr-defined]
                    temperature_c=None if temp is None else int(temp),  # type: ignore[call-overload]
                    power_w=None if power is None else float(power) / 1000.0,  # type: ignore[arg-type]
                )
            )
    finally:
        pynvml.nvmlShutdown()
    return readings or "no GPU: NVML lists no devices"


def history(
    events: Iterable[tuple[float, p.Event]], *, now: float, minutes: int = 30
) -> tuple[list[float], list[int]]:
    """(seconds per finished job, oldest first; jobs finished in each of the last ``minutes``)."""
    latencies: list[float] = []
    per_minute = [0] * minutes
    for when, event in events:
        if isinstance(event, p.Done):
            latencies.append(event.seconds)
            age = int((now - when) // 60)
            if 0 <= age < minutes:
                per_minute[minutes - 1 - age] += 1
    return latencies, per_minute


def tail(path: Path, *, lines: int = 200) -> list[str]:
    """The last ``lines`` lines of ``path`` (reading at most 64 KiB); ``[]`` when missing."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - MAX_LOG_BYTES))
            data = f.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    if size > MAX_LOG_BYTES:
        text = text[1:]  # the first line is cut
    return text[-lines:]
