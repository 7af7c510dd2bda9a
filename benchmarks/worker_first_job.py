"""Does ``ready`` mean ready? A real worker's first job against its next ones (a script).

Starts ``dgx-pixels worker`` on ``random:sdxl-tiny`` (CPU) in a fresh data
directory, waits until it says ``ready``, then runs jobs one after another
(submit, wait for done) and prints each job's seconds and the ratio of the
first to the median of the others: near 1 when the worker warmed up while
``loading``, well above 1 when the first job pays the first forward pass.

Run:  .venv/bin/python benchmarks/worker_first_job.py [--jobs 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from dgx_pixels.jobs import Client
from dgx_pixels.jobs.spawn import spawn_worker
from dgx_pixels.request import GenerationRequest

MODEL = "random:sdxl-tiny"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        started = time.perf_counter()
        worker = spawn_worker(
            model=MODEL,
            data_dir=data,
            bind="tcp://127.0.0.1:*",
            args=["--no-metrics", "--device", "cpu"],
            env=env,
            timeout=600,
        )
        try:
            with Client(worker.address, timeout=600) as client:
                while client.ping().state != "ready":
                    time.sleep(0.05)
                ready_s = time.perf_counter() - started
                seconds = []
                for i in range(args.jobs):
                    request = GenerationRequest(
                        f"a knight {i}", size=(32, 32), steps=2, seed=i, model=MODEL
                    )
                    t0 = time.perf_counter()
                    client.run(request)
                    seconds.append(time.perf_counter() - t0)
        finally:
            worker.process.terminate()
            worker.process.wait()
    rest = statistics.median(seconds[1:])
    print(f"start to ready: {ready_s:.1f} s")
    print("job seconds: " + ", ".join(f"{s:.2f}" for s in seconds))
    print(f"first job / median of the others: {seconds[0] / rest:.2f}")


if __name__ == "__main__":
    main()
