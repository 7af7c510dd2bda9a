"""The wire's bounds, measured (a script, not a timed test).

1. ``flood``: RSS of an in-process worker (fake generator) before and after N
   subscriptions of SIZE bytes each, sent by a bare ZMTP client that keeps no
   copy of its topics, and how long a ping waits meanwhile.
2. ``reply``: the reply sizes after 10 submits with 0.9 MB prompts, and the
   largest job reply possible under the limits (every field at its limit, in
   four-byte characters).
3. ``decode``: decode time of the same frames by another protocol module (the
   one before msgspec: ``git show 2b66fd4:src/dgx_pixels/jobs/protocol.py``)
   and by this one, in one run.

Run from the repository root (``PYTHONPATH=src``):
    python benchmarks/wire_limits.py flood [--topics 10] [--size 20000000]
    python benchmarks/wire_limits.py reply
    python benchmarks/wire_limits.py decode OLD_PROTOCOL.py
A pre-limits worker grows by many times each topic: run ``flood`` there with
``--size 4000000`` rather than 20 MB, or it takes gigabytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.jobs

from tests.jobs.fakes import FakeBackend
from tests.jobs.helpers import RawSocket, pack, zmtp_subscribe

from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.worker import Worker, WorkerConfig
from dgx_pixels.paths import DataDir
from dgx_pixels.request import GenerationRequest, LoraRef


def start(backend: FakeBackend) -> Worker:
    config = WorkerConfig(
        data=DataDir(Path(tempfile.mkdtemp())),
        model="fake:tiny",
        bind="tcp://127.0.0.1:*",
        metrics_port=None,
    )
    worker = Worker(config, backend)
    threading.Thread(target=worker.serve, daemon=True).start()
    worker.wait_bound(30)
    return worker


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def flood(topics: int, size: int) -> None:
    worker = start(FakeBackend())
    raw = RawSocket(worker.address)
    raw.call(p.encode(p.Ping(rid=1)))
    topic = b"j" * size
    before, t0 = rss_mb(), time.monotonic()
    for _ in range(topics):
        zmtp_subscribe(worker.events, [topic])
    time.sleep(1.0)  # let the worker read whatever reached it
    raw.call(p.encode(p.Ping(rid=2)))
    after = rss_mb()
    print(
        f"{topics} x {size:,} B topics: worker RSS {before:.0f} MB -> {after:.0f} MB "
        f"(+{after - before:.0f} MB); ping answered {time.monotonic() - t0:.1f} s after the start"
    )
    worker.request_stop(now=True)


def reply() -> None:
    backend = FakeBackend()
    backend.hold.clear()  # keep the jobs queued: only their records matter
    worker = start(backend)
    raw = RawSocket(worker.address)
    answers = set()
    for i in range(10):
        request = {"prompt": f"{i}" + "p" * 900_000, "model": "fake:tiny"}
        raw.sock.send(pack({"v": 1, "type": "submit", "rid": i + 1, "request": request}))
        raw.sock.poll(60_000)
        frame = raw.sock.recv()
        got = p.decode(frame, max_bytes=1 << 30)
        kind = f"error {got.kind}" if isinstance(got, p.ErrorReply) else got.TYPE
        answers.add(f"{kind} ({len(frame):,} B)")
    raw.sock.send(p.encode(p.ListJobs(rid=99, limit=50)))
    raw.sock.poll(60_000)
    print(
        f"10 submits of 0.9 MB prompts: {sorted(answers)}; a jobs page: {len(raw.sock.recv()):,} B"
    )
    backend.hold.set()
    worker.request_stop(now=True)
    largest()


def largest() -> None:
    limits = getattr(p, "LIMITS", None)
    if limits is None:
        return  # a protocol from before the limits
    wide = "\U0001d4c1"  # four bytes in UTF-8
    path, name = wide * limits.path_chars, wide * limits.name_chars
    request = GenerationRequest(
        prompt=wide * limits.prompt_chars,
        negative=wide * limits.negative_chars,
        count=64,
        seed=1,
        model=name,
        scheduler=name,
        palette=name,
        out=path,
        init=path,
        mask=path,
        loras=tuple(LoraRef(f"{path[:-3]}{i:03}") for i in range(limits.loras)),
        extra={"k": "v" * (limits.extra_bytes - 16)},
    )
    limits.check_request(request)
    data = request.to_dict()
    del data["prompt"]
    roles = ("sprite", "preview", "raw", "metadata")
    outputs = [{r: f"{path}/{wide * 60}-{i}.{r}.png" for r in roles} for i in range(64)]
    record = p.JobRecord(
        id=p.MAX_ID, state="failed", priority=-1000, attempts=3, prompt=request.prompt,
        model=request.model, request=data, created=1e10, started=1e10, finished=1e10,
        outputs=outputs, error_kind="generation", error=wide * 10_000, force=True,
    )  # fmt: skip
    frame = p.encode(p.JobReply(rid=p.MAX_ID, job=record))
    print(f"largest job reply under the limits: {len(frame):,} B of {limits.reply_bytes:,} B")


def decode(old_path: str) -> None:
    spec = importlib.util.spec_from_file_location("old_protocol", old_path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {old_path}")
    old: Any = importlib.util.module_from_spec(spec)
    sys.modules["old_protocol"] = old
    spec.loader.exec_module(old)
    req = GenerationRequest(prompt="a knight with a sword " * 4, seed=1, count=4).to_dict()

    def record(mod: Any, i: int) -> Any:
        outputs = [
            {"sprite": f"/d/outputs/job-{i}/a-{s}.png", "metadata": f"/d/a-{s}.json"}
            for s in range(4)
        ]
        return mod.JobRecord(
            id=i, state="done", priority=0, attempts=1, prompt=req["prompt"], model="m",
            request=req, created=1.0, started=2.0, finished=3.0, outputs=outputs,
        )  # fmt: skip

    def page(m: Any) -> Any:
        return m.JobList(rid=1, jobs=[record(m, i) for i in range(50)], total=50)

    cases = [
        ("job_list of 50 records", page, 200),
        ("submit", lambda m: m.Submit(rid=1, request=req), 2000),
        ("progress", lambda m: m.Progress(job=1, step=3, total=30, elapsed_s=1.0, eta_s=2.0), 2000),
    ]  # fmt: skip
    for label, make, n in cases:
        frame = old.encode(make(old))
        t_old = min(timeit.repeat(lambda f=frame: old.decode(f), number=n, repeat=5)) / n
        t_new = min(timeit.repeat(lambda f=frame: p.decode(f), number=n, repeat=5)) / n
        print(
            f"{label:24s} {len(frame):7,d} B  old {t_old * 1e6:8.1f} us  "
            f"new {t_new * 1e6:8.1f} us  old/new {t_old / t_new:4.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--topics", type=int, default=10)
    f.add_argument("--size", type=int, default=20_000_000)
    sub.add_parser("reply")
    d = sub.add_parser("decode")
    d.add_argument("old")
    args = parser.parse_args()
    if args.what == "flood":
        flood(args.topics, args.size)
    elif args.what == "reply":
        reply()
    else:
        decode(args.old)


if __name__ == "__main__":
    main()
