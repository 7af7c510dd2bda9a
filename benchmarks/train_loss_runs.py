"""Repeated short training runs on the test sprites: the numbers behind the loss threshold
of ``tests/train/test_trainer.py`` (see docs/training.md).

Each run trains the tiny random SDXL on ``tests/data/train-sprites`` with the test's
settings and prints the fixed-draw loss before and after, one JSON line per seed::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/train_loss_runs.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    from dgx_pixels.engine import resolve_model
    from dgx_pixels.train import Trainer, load_dataset, preset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    data = Path(__file__).parents[1] / "tests" / "data" / "train-sprites"
    for seed in range(args.seeds):
        config = preset(
            "pixel-fast", trigger="ourstyle", model="random:sdxl-tiny", steps=args.steps,
            lr=args.lr, rank=4, alpha=2, warmup_steps=0, lr_schedule="constant",
            gradient_checkpointing=False, validate_every=0, seed=seed,
        )  # fmt: skip
        dataset = load_dataset(data, config, resolve_model(config.model))
        with tempfile.TemporaryDirectory() as tmp:
            trainer = Trainer(config, dataset, Path(tmp) / "lora.safetensors", device="cpu")
            trainer.setup()
            before = trainer.measure_loss()
            started = time.perf_counter()
            for _ in range(args.steps):
                trainer.step()
            seconds = time.perf_counter() - started
            after = trainer.measure_loss()
        row = {"seed": seed, "lr": args.lr, "steps": args.steps, "before": before,
               "after": after, "ratio": after / before, "train_s": seconds}  # fmt: skip
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
