"""Restore speed before and after a change, with perfect-pixel timed beside it, in one run.

    OMP_NUM_THREADS=1 python benchmarks/restore_before_after.py REF [--rounds 5] [--repeat 20]

REF is a git revision (the code before). The same pictures (a 1024x1024
hard-level picture as in ``test_restore_speed.py``, and the six real
generator outputs) are restored by the code at REF and by the working tree,
and by perfect-pixel, in alternating rounds (one thread each, one process per
round and version), so load on the machine falls on all three alike. Prints
the median time per picture and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Run in a fresh interpreter with PYTHONPATH set to one version's src.
TIMER = r"""
import json, sys, time
from pathlib import Path
from PIL import Image
tool, repeat, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if tool == "perfect-pixel":
    from dgx_pixels.metrics._peers import perfect_pixel as fn
else:
    from dgx_pixels.pixel.restore import restore
    def fn(image):
        return restore(image, min_confidence=0.0)
out = {}
for p in paths:
    with Image.open(p) as im:
        picture = im.convert("RGBA") if im.mode in ("RGBA", "LA", "P") else im.convert("RGB")
    try:
        fn(picture)  # warm up: imports, caches
    except Exception:  # perfect-pixel finds no grid in some: no time to report
        out[Path(p).name] = None
        continue
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(picture)
        times.append(time.perf_counter() - start)
    out[Path(p).name] = sorted(times)[len(times) // 2]
print(json.dumps(out))
"""


def _export(ref: str, into: Path) -> Path:
    """The ``src`` folder of revision ``ref``, unpacked under ``into``."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _picture(folder: Path) -> Path:
    """The benchmark's 1024x1024 hard-level picture, written as PNG."""
    sys.path.insert(0, str(ROOT / "src"))
    from PIL import Image

    from dgx_pixels.metrics.degrade import DegradeParams, degrade

    with Image.open(ROOT / "tests" / "data" / "alligator.png") as im:
        sprite = im.convert("RGBA")
    params = DegradeParams(
        scale_x=32.4, scale_y=32.2, edge_x=(0.8, 0.9), edge_y=(0.85, 0.95), warp=0.2,
        blur=1.0, noise=4.0, jpeg_quality=85, drift=(0.02, -0.01, 0.01),
        background=(40, 60, 80), seed=0,
    )  # fmt: skip
    path = folder / "hard-1024.png"
    degrade(sprite, params).resize((1024, 1024), Image.Resampling.NEAREST).save(path)
    return path


def _median(values: list[float | None]) -> float | None:
    """Median in ms, None when the tool failed on the picture."""
    known = [v for v in values if v is not None]
    return statistics.median(known) * 1000 if known else None


def main() -> int:
    """Time REF, the working tree and perfect-pixel; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ref", help="git revision of the code before")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per picture and round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        before = _export(args.ref, folder / "before")
        real = sorted((ROOT / "tests" / "data" / "real-outputs").glob("*.webp"))
        pictures = [str(_picture(folder)), *map(str, real)]
        versions = {
            "before": ("restore", before),
            "after": ("restore", ROOT / "src"),
            "perfect-pixel": ("perfect-pixel", ROOT / "src"),
        }
        times: dict[str, dict[str, list[float | None]]] = {v: {} for v in versions}
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        for _ in range(args.rounds):
            for name, (tool, src) in versions.items():
                result = subprocess.run(
                    [sys.executable, "-c", TIMER, tool, str(args.repeat), *pictures],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=dict(env, PYTHONPATH=str(src)),
                )
                for picture, seconds in json.loads(result.stdout.splitlines()[-1]).items():
                    times[name].setdefault(picture, []).append(seconds)
    print(f"| picture | before ({args.ref}) | after | perfect-pixel | after/before | pp/after |")
    print("|---|---:|---:|---:|---:|---:|")
    for picture in times["after"]:
        b, a, p = (_median(times[v][picture]) for v in versions)
        pp = "failed" if p is None else f"{p:.1f} ms"
        ratio = "n/a" if p is None else f"{p / a:.2f}"
        print(f"| {picture} | {b:.1f} ms | {a:.1f} ms | {pp} | {a / b:.2f} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
