"""Load benchmark of the job system (a script, not a timed test).

Measures the queue and the protocol, not the GPU: the worker runs in its own
process with an instant generator (every step returns at once; results are
saved as real 1x1 PNG files) so that the job system itself is the bottleneck.

1. Submit N jobs (default 1,000) one after another while the worker holds
   the first batch: latency submit -> reply ("accepted", the job is durable
   in SQLite) with the queue growing to N; p50/p90/p99/max.
2. Release the worker and drain the queue: jobs/s, and events/s received by
   one subscriber of every event (started, progress per step, done), with the
   count of events published vs received.

Run:  .venv/bin/python benchmarks/jobs_load.py [--jobs 1000] [--steps 10] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dgx_pixels.errors import Interrupted
from dgx_pixels.image_files import write_png
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.worker import Worker, WorkerConfig
from dgx_pixels.metrics import machine
from dgx_pixels.paths import DataDir
from dgx_pixels.request import GenerationRequest

MODEL = "bench:instant"
GO_FILE = "go"  # the worker holds its first batch until this file appears in the data dir


# ------------------------------------------------------------ the worker side


@dataclass(frozen=True)
class _Step:
    step: int
    total: int
    elapsed_s: float

    def preview(self) -> Image.Image:
        return Image.new("RGB", (8, 8))


@dataclass(frozen=True)
class _Result:
    request: GenerationRequest


@dataclass
class InstantGenerator:
    """Steps take no time; the first batch waits for ``go``."""

    model_id: str
    go: Path

    def batch_key(self, request: GenerationRequest) -> Hashable:
        return (request.size, request.steps)

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        on_step: Callable[[Any], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> list[_Result]:
        while not self.go.exists():
            time.sleep(0.01)
        total = requests[0].steps
        for step in range(1, total + 1):
            if interrupt is not None and interrupt.is_set():
                raise Interrupted("interrupted")
            if on_step is not None:
                on_step(_Step(step, total, 0.0))
        return [_Result(r) for r in requests]


@dataclass
class InstantBackend:
    go: Path

    def check(self, request: GenerationRequest) -> None:
        return None

    def load(self, model_id: str) -> InstantGenerator:
        return InstantGenerator(model_id, self.go)

    def save(self, result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        r = result.request
        path = write_png(Image.new("RGBA", (1, 1)), out_dir / f"{r.seed}.png", force=force)
        return [{"sprite": str(path)}]


def serve(data_root: Path, batch_size: int) -> None:
    data = DataDir(data_root)
    config = WorkerConfig(
        data=data,
        model=MODEL,
        bind="tcp://127.0.0.1:*",
        batch_size=batch_size,
        metrics_port=None,
        preview_every=0,
    )
    worker = Worker(config, InstantBackend(data_root / GO_FILE))
    worker.install_signal_handlers()
    worker.serve()


# ------------------------------------------------------------ the client side


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(jobs: int, steps: int, batch_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = DataDir(Path(tmp) / "data").create()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(data.root), "--batch-size", str(batch_size)]
        )
        try:
            while not data.worker_info.exists():
                if proc.poll() is not None:
                    raise SystemExit(f"worker exited with {proc.returncode}")
                time.sleep(0.05)
            address = json.loads(data.worker_info.read_text())["address"]
            return measure(address, data, jobs, steps, batch_size)
        finally:
            proc.terminate()
            proc.wait()


def measure(address: str, data: DataDir, n: int, steps: int, batch_size: int) -> dict[str, Any]:
    with Client(address, timeout=30) as client:
        client.ping()
        received: list[float] = []
        done = threading.Event()
        stream = client.events()

        def listen() -> None:
            finished = 0
            while finished < n:
                event = stream.next(timeout=60)
                if event is None:
                    break
                if isinstance(event, p.WorkerEvent):
                    continue  # ready/busy changes: not job events
                received.append(time.perf_counter())
                if isinstance(event, p.Done):
                    finished += 1
            done.set()

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(0.5)  # let the subscription reach the worker before the first event

        # 1. Submit latency with the worker holding its first batch.
        latencies = []
        for i in range(n):
            request = GenerationRequest(
                prompt=f"bench {i}", size=(16, 16), steps=steps, seed=i, model=MODEL
            )
            t0 = time.perf_counter()
            client.submit(request)
            latencies.append(time.perf_counter() - t0)
        queued = client.ping().queued

        # 2. Release and drain.
        t_release = time.perf_counter()
        (data.root / GO_FILE).touch()
        done.wait(timeout=600)
        t_end = time.perf_counter()
        stream.close()
        final = client.jobs(["done"], limit=1).total
    drained_s = t_end - t_release
    published = n * (1 + 1 + steps + 1)  # accepted + started + one progress per step + done
    drain_events = [t for t in received if t >= t_release]
    return {
        "jobs": n,
        "steps_per_job": steps,
        "batch_size": batch_size,
        "queued_when_released": queued,
        "submit_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p90": round(percentile(latencies, 0.90) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(max(latencies) * 1000, 2),
            "mean": round(statistics.fmean(latencies) * 1000, 2),
        },
        "submits_per_s": round(n / sum(latencies), 1),
        "drain_s": round(drained_s, 2),
        "jobs_per_s": round(final / drained_s, 1),
        "events_published": published,
        "events_received": len(received),
        "events_per_s_while_draining": round(len(drain_events) / drained_s, 1),
        "done": final,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.batch_size)
        return
    result = run(args.jobs, args.steps, args.batch_size)
    result["machine"] = machine()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
