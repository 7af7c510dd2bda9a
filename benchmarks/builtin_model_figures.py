"""CPU figures for the built-in model (random weights): sampling cost and training speed.

    PYTHONPATH=src python benchmarks/builtin_model_figures.py CACHE [THREADS]

CACHE is a sprite cache (``python -m dgx_pixels.train._builtin cache``). Prints
the full network's forward time at batch 32 (16 sprites with guidance), what
that makes 16 sprites at 25 and 10 steps, and training steps/s of each preset.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from dgx_pixels.engine._builtin import _unet
from dgx_pixels.train._builtin import trainer


def main(cache: Path, threads: int) -> None:
    torch.set_num_threads(threads)
    model = _unet.SpriteUNet(_unet.PRESETS["full"]).eval()
    x, t, text = torch.randn(32, 4, 32, 32), torch.rand(32), torch.randn(32, 384)
    drop = torch.zeros(32, dtype=torch.bool)
    with torch.inference_mode():
        model(x[:2], t[:2], text[:2], drop[:2])
        times = []
        for _ in range(3):
            start = time.perf_counter()
            model(x, t, text, drop)
            times.append(time.perf_counter() - start)
    f = min(times)
    print(f"threads {threads}: full forward at batch 32 (16 sprites with CFG) {f:.2f} s; "
          f"16 sprites: 25 steps {25 * f:.0f} s, 10 steps {10 * f:.0f} s")  # fmt: skip
    for name, batch in (("tiny", 256), ("full", 32)):
        with tempfile.TemporaryDirectory() as out:
            tr = trainer.Trainer(
                trainer.TrainConfig(model=name, batch_size=batch), cache, Path(out)
            )
            tr.setup()
            tr.step()
            start = time.perf_counter()
            for _ in range(3):
                tr.step()
            step = (time.perf_counter() - start) / 3
        print(f"{name} ({_unet.parameter_count(tr.model):,} parameters) at batch {batch}: "
              f"{1 / step:.3f} steps/s, {batch / step:.0f} sprites/s")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads())
