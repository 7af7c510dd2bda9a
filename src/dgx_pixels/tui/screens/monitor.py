"""Monitor: the worker's state, job latency and throughput history, this machine's GPUs, the log."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, Sparkline, Static

from dgx_pixels.tui.link import WorkerStatus
from dgx_pixels.tui.monitor import GpuReading, history, read_gpus, tail
from dgx_pixels.tui.screens._base import PixelsScreen

__all__ = ["MonitorScreen", "gpu_lines"]

REFRESH_S = 2.0


def _gib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**30:.1f} GiB"


def gpu_lines(readings: list[GpuReading] | str) -> str:
    """The GPU panel's text (NVML's missing values as n/a, never as zero)."""
    if isinstance(readings, str):
        return readings
    lines = []
    for r in readings:
        util = "n/a" if r.utilization is None else f"{r.utilization:.0%}"
        temp = "n/a" if r.temperature_c is None else f"{r.temperature_c} C"
        power = "n/a" if r.power_w is None else f"{r.power_w:.0f} W"
        lines.append(
            f"GPU {r.index} {r.name}: busy {util}, memory {_gib(r.memory_used)} of "
            f"{_gib(r.memory_total)}, {temp}, {power}"
        )
    return "\n".join(lines)


class MonitorScreen(PixelsScreen):
    """Refreshed every two seconds while shown."""

    MODE = "monitor"
    BINDINGS: ClassVar[list[BindingType]] = []
    DEFAULT_CSS = """
    MonitorScreen #mon-top { height: auto; padding: 0 1; }
    MonitorScreen .mon-label { height: 1; padding: 0 1; color: $text-muted; }
    MonitorScreen Sparkline { height: 2; margin: 0 1; }
    MonitorScreen #mon-plots { height: auto; }
    MonitorScreen #mon-plots > Vertical { width: 1fr; height: auto; }
    MonitorScreen #mon-gpu { height: auto; padding: 0 1; }
    MonitorScreen #mon-log { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        #: The first GPU and log reading is shown (snapshots wait for it).
        self.settled = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="mon-top")
        with Horizontal(id="mon-plots"):
            with Vertical():
                yield Static("", classes="mon-label", id="mon-latency-label")
                yield Sparkline([], id="mon-latency")
            with Vertical():
                yield Static("", classes="mon-label", id="mon-rate-label")
                yield Sparkline([], id="mon-rate")
        yield Static("", id="mon-gpu")
        yield Log(id="mon-log", max_lines=500, auto_scroll=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REFRESH_S, self.refresh_readings)
        self.refresh_readings()

    @property
    def log_path(self) -> Path:
        from dgx_pixels.paths import DataDir

        return DataDir.resolve(self.studio.options.data_dir).logs / "worker.log"

    def worker_status_changed(self, status: WorkerStatus) -> None:
        mine = "started by this session" if status.spawned else "found running"
        facts = [status.line()]
        if status.pid is not None:
            facts.append(f"pid {status.pid}, dgx-pixels {status.version}, {mine}")
        self.query_one("#mon-top", Static).update(Text("\n".join(facts)))

    def refresh_readings(self) -> None:
        """Update the plots now; read the GPU and the log in a thread."""
        if not self.is_current:
            return
        latencies, per_minute = history(self.studio.events, now=time.time())
        self.query_one("#mon-latency", Sparkline).data = latencies[-60:] or [0.0]
        self.query_one("#mon-rate", Sparkline).data = [float(n) for n in per_minute]
        if latencies:
            label = (
                f"seconds per job, last {len(latencies[-60:])}: median "
                f"{statistics.median(latencies[-60:]):.1f}, max {max(latencies[-60:]):.1f}"
            )
        else:
            label = "seconds per job: no job finished this session yet"
        self.query_one("#mon-latency-label", Static).update(label)
        self.query_one("#mon-rate-label", Static).update(
            f"jobs finished per minute, last 30 min: {sum(per_minute)} in all"
        )
        self._read(self.log_path)

    @work(thread=True, exclusive=True, group="monitor-read")
    def _read(self, log_path: Path) -> None:
        gpus = read_gpus()
        lines = tail(log_path)
        self.app.call_from_thread(self._show, gpus, lines, log_path)

    def _show(self, gpus: list[GpuReading] | str, lines: list[str], log_path: Path) -> None:
        self.query_one("#mon-gpu", Static).update(gpu_lines(gpus))
        log = self.query_one(Log)
        log.clear()
        log.write_lines(lines or ["(no worker log in this data dir yet: logs/worker.log)"])
        self.settled = True
