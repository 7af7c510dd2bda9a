"""One worker, two models: what a job pays when its model is cold, and what a budget saves.

Starts ``dgx-pixels worker`` on ``random:sdxl-tiny`` (CPU) in a fresh data
directory, then runs jobs alternating between it and ``random:sdxl-tiny-b``
(submit, wait for done), twice: with a budget that holds both models (only
the first job of tiny-b loads), and with one that holds one (every switch
unloads the other and loads again). Prints each job's seconds, the load
seconds its ``loaded`` event reported, and same-run ratios: a cold job over
a warm one, and the thrashing run over the warm one.

Run:  .venv/bin/python benchmarks/worker_two_models.py [--jobs 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from dgx_pixels.jobs import Client
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.spawn import spawn_worker
from dgx_pixels.request import GenerationRequest

MODELS = ("random:sdxl-tiny", "random:sdxl-tiny-b")


def run(jobs: int, memory_gib: float) -> tuple[list[float], list[float]]:
    """Seconds per job, and the load seconds ``loaded`` events reported."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        worker = spawn_worker(
            model=MODELS[0],
            data_dir=data,
            bind="tcp://127.0.0.1:*",
            args=["--no-metrics", "--device", "cpu", "--memory-gib", str(memory_gib)],
            env=env,
            timeout=600,
        )
        seconds: list[float] = []
        loads: list[float] = []

        def seen(event: p.Event) -> None:
            if isinstance(event, p.Loaded):
                loads.append(event.seconds)

        try:
            with Client(worker.address, timeout=600) as client:
                while client.ping().state != "ready":
                    time.sleep(0.05)
                for i in range(jobs):
                    model = MODELS[(i + 1) % 2]  # tiny-b first: it is cold
                    request = GenerationRequest(
                        f"a knight {i}", size=(32, 32), steps=2, seed=i, model=model
                    )
                    t0 = time.perf_counter()
                    client.run(request, on_event=seen)
                    seconds.append(time.perf_counter() - t0)
        finally:
            worker.process.terminate()
            worker.process.wait()
    return seconds, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6)
    args = parser.parse_args()
    # random:sdxl-tiny costs 0.02 GiB in fp32: 0.05 holds both, 0.03 holds one.
    both, both_loads = run(args.jobs, 0.05)
    one, one_loads = run(args.jobs, 0.03)
    warm = statistics.median(both[1:])
    print("budget for both: job seconds " + ", ".join(f"{s:.2f}" for s in both))
    print(f"  loads: {len(both_loads)}, seconds " + ", ".join(f"{s:.2f}" for s in both_loads))
    print("budget for one:  job seconds " + ", ".join(f"{s:.2f}" for s in one))
    print(f"  loads: {len(one_loads)}, seconds " + ", ".join(f"{s:.2f}" for s in one_loads))
    print(f"cold job / warm job (budget for both): {both[0] / warm:.1f}")
    print(f"median job, budget for one / budget for both: {statistics.median(one) / warm:.1f}")


if __name__ == "__main__":
    main()
