"""The training benchmark: our ``Trainer.step`` against a plain diffusers + peft step.

Both train the same LoRA (rank, alpha, target modules) on UNets of the same
model, at the same drawing size, batch, precision and gradient-checkpointing
setting, in one process, timed alternately by the generation benchmark's
``_measure_pair`` so drifting load hits both alike. The baseline is the
step of diffusers' SDXL LoRA example reduced to its core: noise, timesteps,
``add_noise``, the UNet, MSE, backward, AdamW (precomputed latents and text
embeddings, as our cache gives ours). Ours is ``Trainer.step`` whole: batch
lookup, latent sampling, min-SNR weighting, clipping, the learning-rate
schedule. The sprites are made up (timing does not depend on pixels).
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dgx_pixels.engine._bench import BenchCase, Measurement, _measure_pair, _peak_rss
from dgx_pixels.train._config import TrainConfig
from dgx_pixels.train._trainer import Trainer

__all__ = ["TrainBenchResult", "run_train_bench"]


@dataclass(frozen=True, slots=True)
class TrainBenchResult:
    """Step time and peak memory of ours and the baseline, and base / ours (above 1: faster)."""

    model: str
    device: str
    machine: str
    dtype: str
    drawing: tuple[int, int]
    batch: int
    rank: int
    gradient_checkpointing: bool
    repeats: int
    warmup: int
    ours: Measurement
    baseline: Measurement
    speedup: float
    process_peak_rss_bytes: int
    versions: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_train_bench(
    config: TrainConfig,
    *,
    device: str | None = None,
    sprite: int = 32,
    repeats: int = 5,
    warmup: int = 2,
    note: Callable[[str], None] | None = None,
) -> TrainBenchResult:
    """Time ``repeats`` training steps of ours and of the baseline for ``config``."""
    from dgx_pixels.engine._engine import _versions
    from dgx_pixels.engine.models import resolve_model
    from dgx_pixels.train._dataset import load_dataset

    with tempfile.TemporaryDirectory(prefix="dgx-pixels-train-bench-") as tmp:
        folder = Path(tmp) / "sprites"
        _made_up_sprites(folder, count=max(4, config.batch), side=sprite)
        dataset = load_dataset(folder, config, resolve_model(config.model))
        trainer = Trainer(
            config, dataset, Path(tmp) / "bench.safetensors", device=device, note=note
        )
        trainer.setup()
        baseline = _baseline_step(trainer)
        case = BenchCase("train step", dataset.samples[0].drawing.width, 1, 1.0, config.batch)
        ours, base = _measure_pair(
            lambda: _ignore(trainer.step()),
            baseline,
            case,
            repeats,
            warmup,
            trainer.placement.device_name,
        )
        return TrainBenchResult(
            model=config.model,
            device=trainer.placement.description,
            machine=f"{platform.machine()}, {os.cpu_count()} CPU threads, {platform.system()}",
            dtype=trainer.placement.dtype_name,
            drawing=dataset.samples[0].bucket,
            batch=config.batch,
            rank=config.rank,
            gradient_checkpointing=config.gradient_checkpointing,
            repeats=repeats,
            warmup=warmup,
            ours=ours,
            baseline=base,
            speedup=base.latency_s / ours.latency_s,
            process_peak_rss_bytes=_peak_rss(),
            versions=_versions(),
        )


def _ignore(_: object) -> None:
    return None


def _made_up_sprites(folder: Path, *, count: int, side: int) -> None:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    palette = rng.integers(0, 256, size=(8, 4), dtype=np.uint8)
    palette[:, 3] = 255
    palette[0, 3] = 0
    for i in range(count):
        pixels = palette[rng.integers(0, 8, size=(side, side))]
        Image.fromarray(pixels, "RGBA").save(folder / f"sprite_{i}.png")


def _baseline_step(trainer: Trainer) -> Callable[[], None]:
    """A plain diffusers + peft LoRA step on a second copy of the same UNet."""
    import torch
    from peft import LoraConfig

    from dgx_pixels.engine._device import MEMORY_PLANS
    from dgx_pixels.engine._loading import load_pipeline, quiet_libraries

    cfg, placement = trainer.config, trainer.placement
    with quiet_libraries():
        pipe, _ = load_pipeline(trainer.spec, placement, MEMORY_PLANS["none"])
    unet = pipe.unet
    del pipe  # only the UNet is used; the rest goes
    unet.requires_grad_(False)
    unet.add_adapter(
        LoraConfig(
            r=cfg.rank,
            lora_alpha=cfg.alpha,
            init_lora_weights="gaussian",
            target_modules=list(cfg.target_modules),
        )
    )
    params = [p for p in unet.parameters() if p.requires_grad]
    for p in params:
        p.data = p.data.float()
    if cfg.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    unet.train()
    optimizer = torch.optim.AdamW(params, lr=cfg.lr)
    scheduler = trainer.noise_scheduler
    # Inputs of the same shapes as ours: latents, text embeddings, pooled, time ids.
    mean, _ = trainer.features.latents[(0, False)]
    b, device, dtype = cfg.batch, placement.device, placement.dtype
    latents = torch.randn((b, *mean.shape), device=device)
    width = int(trainer.pipe.unet.config.cross_attention_dim)
    pooled_width = int(trainer.pipe.text_encoder_2.config.projection_dim)
    embeds = torch.randn((b, 77, width), device=device, dtype=dtype)
    pooled = torch.randn((b, pooled_width), device=device, dtype=dtype)
    h, w = trainer.dataset.samples[0].bucket[::-1]
    time_ids = torch.tensor([[h, w, 0, 0, h, w]] * b, device=device, dtype=dtype)
    autocast = trainer._autocast

    def step() -> None:
        noise = torch.randn_like(latents)
        t = torch.randint(0, 1000, (b,), device=device)
        noisy = scheduler.add_noise(latents, noise, t)
        with autocast():
            pred = unet(
                noisy.to(dtype),
                t,
                encoder_hidden_states=embeds,
                added_cond_kwargs={"text_embeds": pooled, "time_ids": time_ids},
            ).sample
        loss: Any = torch.nn.functional.mse_loss(pred.float(), noise.float())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step
