"""Sampling speed of the built-in model through ``Engine.generate``: 16 sprites, one run.

    PYTHONPATH=src python benchmarks/builtin_sampling.py [REPEATS] [THREADS] [MATCH]
    PYTHONPATH=src python benchmarks/builtin_sampling.py REPEATS THREADS forward

Each case loads ``builtin:sprites-32`` from a RANDOM-weight file of one network
config (made in a temporary folder: speed does not depend on the weights) and
times ``generate`` of one request for 16 sprites with guidance, end to end
(sampling, pixel post-processing). The cases alternate, so a drifting load
hits all alike; the figure is the median, and each case's ratio is against the
first design (``UNetConfig()``, 19.3M parameters, DDIM 25 steps) in the same run.
MATCH keeps only the cases whose name holds it (the ratios are then against the
first case kept), e.g. ``ships`` for a quick figure of the shipped network.
THREADS sets torch's threads (default: one per core). On a machine whose cores
other processes share, one thread is several times faster than two (OpenMP
threads wait on each other when the cores are taken).

``forward`` times the two networks alone instead: one forward of 32 rows (16
sprites with guidance), alternating, the median.

The prompt embedding is a fixed vector here (MiniLM's cost is not the network's
and the ``builtin`` extra may be missing): with MiniLM installed the script also
times embedding 16 prompts, once.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from dgx_pixels.engine import Engine
from dgx_pixels.engine._builtin import _engine, _text, _unet
from dgx_pixels.request import GenerationRequest

CASES = [  # (name, network config, scheduler, steps)
    ("first design, DDIM 25", _unet.UNetConfig(), "ddim", 25),
    ("first design, DPM++ 2M 15", _unet.UNetConfig(), "dpm++ 2m", 15),
    ("full (ships), DPM++ 2M 15", _unet.PRESETS["full"], "dpm++ 2m", 15),
    ("full (ships), DPM++ 2M 10", _unet.PRESETS["full"], "dpm++ 2m", 10),
]
PROMPT = "long sword, weapon, item"


def fixed_embedding(prompts: Sequence[str]) -> np.ndarray:
    """Not a text encoder: one fixed unit vector per prompt (timing only)."""
    row = np.full(384, 384**-0.5, np.float32)
    return np.tile(row, (len(prompts), 1))


def forward(repeats: int) -> None:
    """The network alone: one forward of 32 rows for each design, alternating."""
    configs = {"first design": _unet.UNetConfig(), "full (ships)": _unet.PRESETS["full"]}
    nets = {name: _unet.SpriteUNet(c).eval() for name, c in configs.items()}
    x, t, text = torch.randn(32, 4, 32, 32), torch.rand(32), torch.randn(32, 384)
    drop = torch.zeros(32, dtype=torch.bool)
    times: dict[str, list[float]] = {name: [] for name in nets}
    with torch.inference_mode():
        for round_ in range(repeats + 1):
            for name, net in nets.items():
                start = time.perf_counter()
                net(x, t, text, drop)
                if round_:
                    times[name].append(time.perf_counter() - start)
    base = statistics.median(times["first design"])
    for name, t_ in times.items():
        median = statistics.median(t_)
        print(f"{name:<14} forward of 32 rows {median:.3f} s ({base / median:.1f}x)")


def main(repeats: int, threads: int, match: str) -> None:
    if threads:  # 0: torch's default (one per core)
        torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {repeats}")
    if match == "forward":
        forward(repeats)
        return
    cases = [case for case in CASES if match in case[0]]
    real_encode = _text.encode_prompts
    _text.encode_prompts = fixed_embedding  # type: ignore[assignment]
    engines = []
    with tempfile.TemporaryDirectory() as folder:
        for i, (_, config, _, _) in enumerate(cases):
            path = _unet.save_weights(_unet.SpriteUNet(config), Path(folder) / f"{i}.safetensors")
            _engine.os.environ[_engine.WEIGHTS_ENV] = str(path)
            engines.append(Engine.load("builtin:sprites-32", device="cpu"))
    times: list[list[float]] = [[] for _ in cases]
    for round_ in range(repeats + 1):  # the first round warms up
        for i, ((_, _, scheduler, steps), engine) in enumerate(zip(cases, engines, strict=True)):
            request = GenerationRequest(
                PROMPT, count=16, seed=0, steps=steps, scheduler=scheduler, guidance=3.0,
                model=engine.model_id,
            )  # fmt: skip
            start = time.perf_counter()
            engine.generate([request])
            if round_:
                times[i].append(time.perf_counter() - start)
    base = statistics.median(times[0])
    print(f"{'case (16 sprites, guidance 3)':<30} {'params':>7} {'s':>7} {'vs first':>9}")
    for (name, config, _, _), t in zip(cases, times, strict=True):
        params = _unet.parameter_count(_unet.SpriteUNet(config)) / 1e6
        median = statistics.median(t)
        print(f"{name:<30} {params:>6.1f}M {median:>7.2f} {base / median:>8.1f}x")
    try:
        real_encode(["warm-up"])
    except Exception as exc:  # the builtin extra is missing: say so, time nothing
        print(f"MiniLM not timed: {exc}")
        return
    start = time.perf_counter()
    real_encode([f"{PROMPT} {i}" for i in range(16)])
    print(f"MiniLM, 16 prompts: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 3, int(args[1]) if len(args) > 1 else 0, "".join(args[2:3]))
