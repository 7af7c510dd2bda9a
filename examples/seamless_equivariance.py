"""Measure the seamless mode's shift-equivariance on random:sdxl-tiny (CPU, about a minute).

    PYTHONPATH=src .venv/bin/python examples/seamless_equivariance.py

Draws from fixed initial latents with DDIM (no noise between steps), then from
the latents rolled by (2, 6) latent cells (whole multiples of the UNet's
downsampling factor 2), and prints the largest difference between the second
drawing and the first rolled by (4, 12) pixels (the VAE's factor 2): float
rounding with circular padding, a different picture without it. The test
``tests/engine/test_seamless.py`` asserts the same.
"""

from __future__ import annotations

import numpy as np
import torch
from diffusers import DDIMScheduler

from dgx_pixels.engine import Engine, circular_padding


def main() -> None:
    engine = Engine.load("random:sdxl-tiny", device="cpu")
    pipe = engine.pipeline
    pipe.scheduler = DDIMScheduler.from_config(engine.base_scheduler_config)

    def draw(latents: torch.Tensor, mode: str) -> tuple[np.ndarray, int]:
        with torch.inference_mode(), circular_padding([pipe.unet, pipe.vae], mode) as n:
            out = pipe(prompt="moss", num_inference_steps=2, guidance_scale=3.0,
                       latents=latents, height=32, width=32, output_type="np")  # fmt: skip
        return np.asarray(out.images[0], dtype=np.float64), n

    latents = torch.randn((1, 4, 16, 16), generator=torch.Generator().manual_seed(5))
    rolled = torch.roll(latents, (2, 6), dims=(2, 3))
    for mode in ("xy", "none"):
        a, n = draw(latents, mode)
        b, _ = draw(rolled, mode)
        diff = float(np.abs(b - np.roll(a, (4, 12), (0, 1))).max())
        print(f"seamless={mode}: {n} convolutions wrap; max |draw(roll) - roll(draw)| = {diff:.3g}")


if __name__ == "__main__":
    main()
