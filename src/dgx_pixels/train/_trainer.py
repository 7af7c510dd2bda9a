"""The trainer: setup, step, evaluate, save, resume, export, and the loop that runs them.

One :class:`Trainer` owns one run. Everything random in a step (which
batch, the latent sample, the noise, the timesteps) comes from
:meth:`TrainingSet.batch_at` (a pure function of the step) and one seeded
CPU generator whose state is saved in every checkpoint with the LoRA weights
and the optimizer state, so a resumed run takes exactly the steps an
uninterrupted one would. Checkpoints are safetensors and JSON, never pickles.

Files of a run whose LoRA is ``ourstyle.safetensors``::

    ourstyle.safetensors          the LoRA (peft or kohya layout)
    ourstyle.json                 the full config, dataset, model, versions, result
    ourstyle.metrics.jsonl        one line per step: step, loss, lr, it/s, memory
    ourstyle.train/checkpoints/   step-000250/ {adapter,optimizer}.safetensors, state.json
    ourstyle.train/validation/    step-000250.png: the validation grid
    ourstyle.train/cache/         latents and text embeddings by content hash
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dgx_pixels import __version__
from dgx_pixels.errors import InputError, Interrupted, ModelError
from dgx_pixels.image_files import write_atomic, write_png
from dgx_pixels.train._cache import FeatureCache
from dgx_pixels.train._conditioning import encode_prompts, time_ids
from dgx_pixels.train._config import RESUMABLE_CHANGES, TrainConfig
from dgx_pixels.train._dataset import TrainingSet
from dgx_pixels.train._features import Features, compute_features, model_identity
from dgx_pixels.train._lora_files import Layout, lora_file_bytes

__all__ = ["RunPaths", "StepMetrics", "TrainResult", "Trainer", "stop_on_signals", "train_lora"]

_TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "out_proj")
_CHECKPOINT = re.compile(r"step-(\d{6,})")


@dataclass(frozen=True, slots=True)
class RunPaths:
    """Where a run keeps its files, all beside the LoRA ``out``."""

    out: Path

    @property
    def sidecar(self) -> Path:
        return self.out.with_suffix(".json")

    @property
    def metrics(self) -> Path:
        return self.out.with_suffix(".metrics.jsonl")

    @property
    def work(self) -> Path:
        return self.out.with_suffix(".train")

    @property
    def checkpoints(self) -> Path:
        return self.work / "checkpoints"

    @property
    def validation(self) -> Path:
        return self.work / "validation"

    @property
    def cache(self) -> Path:
        return self.work / "cache"

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint of the highest step, if any."""
        found = [p for p in self.checkpoints.glob("step-*") if _CHECKPOINT.fullmatch(p.name)]
        return max(found, key=lambda p: int(p.name[5:]), default=None)


@dataclass(frozen=True, slots=True)
class StepMetrics:
    """One training step, as logged."""

    step: int
    loss: float
    lr: float
    it_s: float
    memory_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TrainResult:
    """A finished (or stopped) run."""

    lora: Path | None
    sidecar: Path | None
    steps: int
    stopped: bool
    final_loss: float | None
    validation: list[Path]
    notes: list[str]


class Trainer:
    """One LoRA training run on ``config`` and ``dataset``, writing beside ``out``."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: TrainingSet,
        out: Path,
        *,
        device: str | None = None,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config.check()
        self.dataset = dataset
        self.paths = RunPaths(out)
        self.device_name = device
        self.step_count = 0
        self.notes: list[str] = []
        self._note = note
        self._last_loss: float | None = None
        self.ready = False

    def note(self, text: str) -> None:
        """Something the user should know (a fallback taken); kept in the sidecar."""
        self.notes.append(text)
        if self._note is not None:
            self._note(text)

    # -- setup -------------------------------------------------------------------

    def setup(self) -> None:
        """Load the model, cache the features, add the LoRA and build the optimizer."""
        import torch

        from dgx_pixels.engine._device import MEMORY_PLANS, place
        from dgx_pixels.engine._loading import check_available, load_pipeline, quiet_libraries
        from dgx_pixels.engine.models import resolve_model

        cfg = self.config
        # 1. The model, whole, on one device (training does not offload).
        spec = resolve_model(cfg.model)
        if spec.loras:
            raise InputError(
                f"model {cfg.model} is a preset with LoRAs "
                f"({', '.join(lo.id for lo in spec.loras)}); train on a base model "
                "such as sdxl-base",
                option="model",
            )
        check_available(spec)
        dtype = None if cfg.precision == "auto" else cfg.precision
        self.placement = place(self.device_name, dtype)
        with quiet_libraries():
            self.pipe, self.model_info = load_pipeline(spec, self.placement, MEMORY_PLANS["none"])
        self.spec = spec
        pipe = self.pipe
        for module in (pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
            module.requires_grad_(False)
        # 2. Latents and text embeddings, once, from the cache; the VAE in float32.
        vae_dtype = pipe.vae.dtype
        pipe.vae.to(torch.float32)
        self.features: Features = compute_features(
            self.dataset,
            cfg,
            pipe,
            model_identity(self.model_info),
            FeatureCache(self.paths.cache),
            with_text=not cfg.train_text_encoders,
        )
        pipe.vae.to(vae_dtype)  # bf16 decodes fine; fp16 is upcast by the pipeline itself
        # 3. The LoRA adapters, initialised from the seed.
        from peft import LoraConfig

        torch.manual_seed(cfg.seed)
        pipe.unet.add_adapter(
            LoraConfig(
                r=cfg.rank,
                lora_alpha=cfg.alpha,
                init_lora_weights="gaussian",
                target_modules=list(cfg.target_modules),
            )
        )
        self.components: dict[str, Any] = {"unet": pipe.unet}
        if cfg.train_text_encoders:
            # peft directly: transformers' own add_adapter wants a newer peft than diffusers.
            from peft import inject_adapter_in_model

            for name in ("text_encoder", "text_encoder_2"):
                config = LoraConfig(
                    r=cfg.rank,
                    lora_alpha=cfg.alpha,
                    init_lora_weights="gaussian",
                    target_modules=list(_TEXT_TARGETS),
                )
                self.components[name] = inject_adapter_in_model(config, getattr(pipe, name))
        self.params: dict[str, Any] = {}
        for component, module in self.components.items():
            for name, param in module.named_parameters():
                if param.requires_grad:
                    param.data = param.data.float()  # trainable weights in float32
                    self.params[f"{component}.{name}"] = param
            if cfg.gradient_checkpointing:
                if component == "unet":
                    module.enable_gradient_checkpointing()
                else:
                    module.gradient_checkpointing_enable()
            module.train()
        # 4. Optimizer, noise schedule, generator, loss scaler.
        self.optimizer = self._optimizer()
        diffusers: Any = __import__("diffusers")
        self.noise_scheduler = diffusers.DDPMScheduler.from_config(pipe.scheduler.config)
        self.generator = torch.Generator("cpu").manual_seed(cfg.seed)
        fp16 = self.placement.dtype_name == "fp16"
        kind = self.placement.device_name.split(":")[0]  # "cuda:1" -> "cuda"
        self.scaler = torch.amp.GradScaler(kind, enabled=fp16)
        if self.placement.device_name.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        self.ready = True

    def _optimizer(self) -> Any:
        import torch

        cfg = self.config
        groups = [
            {
                "params": [p for n, p in self.params.items() if n.startswith("unet.")],
                "lr": cfg.lr,
            }
        ]
        text = [p for n, p in self.params.items() if not n.startswith("unet.")]
        if text:
            groups.append({"params": text, "lr": cfg.text_encoder_lr})
        choice = cfg.optimizer
        if choice in ("auto", "adamw8bit"):
            reason = _bitsandbytes_problem(self.placement.device_name)
            if reason is None:
                import bitsandbytes as bnb  # type: ignore[import-not-found]

                self.optimizer_name = "adamw8bit"
                return bnb.optim.AdamW8bit(groups, weight_decay=cfg.weight_decay)
            if choice == "adamw8bit":
                raise InputError(f"optimizer adamw8bit is not available: {reason}")
            self.note(f"8-bit AdamW is not used: {reason}; using torch AdamW (more memory)")
        self.optimizer_name = "adamw"
        return torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)

    # -- one step ----------------------------------------------------------------

    def lr_at(self, step: int) -> float:
        """The learning-rate multiplier of step ``step`` (0-based): warm-up, then the schedule."""
        cfg = self.config
        if step < cfg.warmup_steps:
            return (step + 1) / (cfg.warmup_steps + 1)
        if cfg.lr_schedule == "constant":
            return 1.0
        span = max(1, cfg.steps - cfg.warmup_steps)
        progress = min(1.0, (step - cfg.warmup_steps) / span)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def step(self) -> StepMetrics:
        """Take one optimisation step and return what it measured."""
        import torch

        cfg = self.config
        started = time.perf_counter()
        # 1. The batch of this step, and its loss.
        indices = self.dataset.batch_at(self.step_count, batch=cfg.batch, seed=cfg.seed)
        loss = self._loss(indices, self.generator, weighted=True).mean()
        if not torch.isfinite(loss):
            raise ModelError(
                f"the loss is {loss.item()} at step {self.step_count + 1}; lower --lr, or use "
                "--precision bf16 or fp32 instead of fp16"
            )
        # 2. Backward, clip, update at this step's learning rate.
        scale = self.lr_at(self.step_count)
        for group, base in zip(self.optimizer.param_groups, self._base_lrs(), strict=True):
            group["lr"] = base * scale
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        if cfg.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(list(self.params.values()), cfg.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step_count += 1
        if self.placement.device_name.startswith("cuda"):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        self._last_loss = float(loss.item())
        return StepMetrics(
            self.step_count, self._last_loss, cfg.lr * scale, 1.0 / seconds, self._memory()
        )

    def measure_loss(self, *, draws: int = 4, seed: int = 1234) -> float:
        """The plain (unweighted) loss on every training image over fixed noise and evenly
        spaced timesteps: comparable between steps and runs, unlike the training loss."""
        import torch

        total, count = 0.0, 0
        steps_total = int(self.noise_scheduler.config.num_train_timesteps)
        with torch.no_grad():
            for d in range(draws):
                gen = torch.Generator("cpu").manual_seed(seed + d)
                for i in range(len(self.dataset.samples)):
                    t = (steps_total * (2 * d + 1)) // (2 * draws)
                    total += float(self._loss([i], gen, weighted=False, timestep=t).sum())
                    count += 1
        return total / count

    def _loss(
        self, indices: list[int], gen: Any, *, weighted: bool, timestep: int | None = None
    ) -> Any:
        """The per-sample loss of ``indices``, all randomness drawn from ``gen``."""
        import torch

        cfg, pipe = self.config, self.pipe
        device, dtype = self.placement.device, self.placement.dtype
        # 1. Latent samples (flipped at random where flips are on) and captions.
        flips = [bool(torch.rand((), generator=gen) < 0.5) if cfg.flip else False for _ in indices]
        latents = []
        for i, flip in zip(indices, flips, strict=True):
            mean, std = self.features.latents[(i, flip)]
            latents.append(mean + std * torch.randn(mean.shape, generator=gen))
        x0 = torch.stack(latents) * pipe.vae.config.scaling_factor
        captions = [self.dataset.samples[i].caption for i in indices]
        # 2. Noise (with offset) and timesteps.
        noise = torch.randn(x0.shape, generator=gen)
        if cfg.noise_offset:
            noise = noise + cfg.noise_offset * torch.randn(
                (x0.shape[0], x0.shape[1], 1, 1), generator=gen
            )
        steps_total = self.noise_scheduler.config.num_train_timesteps
        if timestep is None:
            t = torch.randint(0, steps_total, (x0.shape[0],), generator=gen)
        else:
            t = torch.full((x0.shape[0],), timestep, dtype=torch.long)
        x0, noise, t = x0.to(device), noise.to(device), t.to(device)
        noisy = self.noise_scheduler.add_noise(x0, noise, t)
        # 3. Conditioning: cached text, or the text encoders with their LoRAs.
        with self._autocast():
            if self.features.text:
                embeds = torch.stack([self.features.text[c][0] for c in captions]).to(device)
                pooled = torch.stack([self.features.text[c][1] for c in captions]).to(device)
            else:
                embeds, pooled = encode_prompts(
                    [pipe.tokenizer, pipe.tokenizer_2],
                    [pipe.text_encoder, pipe.text_encoder_2],
                    captions,
                )
            bh, bw = self.dataset.samples[indices[0]].bucket[::-1]
            ids = time_ids((bh, bw), (0, 0), (bh, bw), dtype=embeds.dtype).to(device)
            # 4. The UNet's prediction.
            pred = pipe.unet(
                noisy.to(dtype),
                t,
                encoder_hidden_states=embeds.to(dtype),
                added_cond_kwargs={
                    "text_embeds": pooled.to(dtype),
                    "time_ids": ids.repeat(len(indices), 1).to(dtype),
                },
            ).sample
        # 5. The loss against the model's target, min-SNR weighted.
        prediction_type = self.noise_scheduler.config.prediction_type
        target = (
            noise
            if prediction_type == "epsilon"
            else self.noise_scheduler.get_velocity(x0, noise, t)
        )
        per_sample = ((pred.float() - target.float()) ** 2).mean(dim=(1, 2, 3))
        if weighted and cfg.min_snr_gamma:
            ac = self.noise_scheduler.alphas_cumprod.to(device)[t].float()
            snr = ac / (1 - ac)
            clamped = torch.clamp(snr, max=cfg.min_snr_gamma)
            per_sample = per_sample * (
                clamped / (snr + 1) if prediction_type == "v_prediction" else clamped / snr
            )
        return per_sample

    def _base_lrs(self) -> list[float]:
        cfg = self.config
        return [cfg.lr] + ([cfg.text_encoder_lr] if len(self.optimizer.param_groups) > 1 else [])

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self.placement.dtype_name == "fp32":
            return contextlib.nullcontext()
        kind = self.placement.device_name.split(":")[0]
        return torch.autocast(kind, dtype=self.placement.dtype)

    def _memory(self) -> int:
        """Peak GPU memory on CUDA, else the process's peak resident memory."""
        import torch

        if self.placement.device_name.startswith("cuda"):
            return int(torch.cuda.max_memory_allocated())
        from dgx_pixels.engine._bench import _peak_rss

        return _peak_rss()

    # -- evaluate ----------------------------------------------------------------

    def evaluate(self, interrupt: threading.Event | None = None) -> Path | None:
        """Draw the validation grid through our own engine and pixel pipeline; return its path
        (``None`` when ``interrupt`` stopped it: a stop never waits for a grid).

        Rows are the validation prompts (trigger in front), columns the seeds;
        each cell is the finished true-resolution sprite, upscaled with nearest
        neighbour. The same prompts and seeds at every step, so grids compare.
        """
        import torch
        from PIL import Image

        from dgx_pixels.engine import Engine
        from dgx_pixels.pixel.preview import upscale
        from dgx_pixels.request import GenerationRequest

        cfg = self.config
        engine = Engine(self.spec, self.pipe, self.placement, dict(self.model_info), max_batch=8)
        side = cfg.validation_size
        # Validation draws without touching the training RNG or gradients.
        rng_state = torch.get_rng_state()
        for module in self.components.values():
            module.eval()
        requests = [
            GenerationRequest(
                prompt,
                size=(side, side),
                seed=seed,
                model=self.spec.id,
                steps=cfg.validation_steps,
                scheduler="euler",
            )
            for prompt in cfg.validation_prompt_texts()
            for seed in cfg.validation_seeds
        ]
        try:
            results = engine.generate(requests, interrupt=interrupt)
        except Interrupted:
            return None
        finally:
            for module in self.components.values():
                module.train()
            torch.set_rng_state(rng_state)
        columns = len(cfg.validation_seeds)
        sprites = [r.images[0].sprite for r in results]
        rows = [sprites[i : i + columns] for i in range(0, len(sprites), columns)]
        factor = max(1, 128 // side)
        cell = side * factor
        grid = Image.new("RGBA", (cell * len(rows[0]), cell * len(rows)), (255, 255, 255, 255))
        for r, row in enumerate(rows):
            for c, sprite in enumerate(row):
                tile = upscale(sprite, factor=factor)
                grid.alpha_composite(tile, (c * cell, r * cell))
        path = self.paths.validation / f"step-{self.step_count:06d}.png"
        text = {"prompts": json.dumps(cfg.validation_prompt_texts())}
        write_png(grid, path, force=True, text=text)
        return path

    # -- save and resume ---------------------------------------------------------

    def save(self) -> Path:
        """Write a checkpoint of this step (atomically: a folder renamed into place)."""
        from safetensors.torch import save

        cfg = self.config
        folder = self.paths.checkpoints / f"step-{self.step_count:06d}"
        tmp = self.paths.checkpoints / f".{folder.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        adapter = {n: p.detach().to("cpu").contiguous() for n, p in self.params.items()}
        state_tensors, state_meta = _flatten_optimizer(self.optimizer.state_dict())
        state_tensors["rng.noise"] = self.generator.get_state()
        write_atomic(save(adapter), tmp / "adapter.safetensors")
        write_atomic(save(state_tensors), tmp / "optimizer.safetensors")
        state = {
            "format": "dgx-pixels-train/1",
            "step": self.step_count,
            "config": cfg.to_dict(),
            "fingerprint": cfg.fingerprint(),
            "dataset": self.dataset.sha256,
            "optimizer": self.optimizer_name,
            "optimizer_state": state_meta,
            "scaler": self.scaler.state_dict(),
            "last_loss": self._last_loss,
        }
        write_atomic((json.dumps(state, indent=2) + "\n").encode(), tmp / "state.json")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
        # Keep only the newest few.
        old = sorted(
            (p for p in self.paths.checkpoints.glob("step-*") if _CHECKPOINT.fullmatch(p.name)),
            key=lambda p: int(p.name[5:]),
        )[: -cfg.keep_checkpoints]
        for p in old:
            shutil.rmtree(p, ignore_errors=True)
        return folder

    def check_resume(self) -> tuple[Path, dict[str, Any]]:
        """The newest checkpoint and its state, checked against this run before any
        model is loaded: :class:`InputError` when there is none, or when it was made
        with other settings (naming them) or on other images or captions."""
        folder = self.paths.latest_checkpoint()
        if folder is None:
            raise InputError(
                f"--resume: no checkpoint in {self.paths.checkpoints}; start without --resume",
                path=str(self.paths.checkpoints),
            )
        try:
            state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
            saved = TrainConfig.from_dict(state["config"]).to_dict()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"--resume: {folder} is not a readable checkpoint ({exc})") from None
        ours = self.config.to_dict()
        changed = [n for n, v in ours.items() if n not in RESUMABLE_CHANGES and saved.get(n) != v]
        if changed:
            listed = ", ".join(f"{n} {saved[n]!r} -> {ours[n]!r}" for n in changed)
            raise InputError(f"--resume: the checkpoint in {folder} was made with {listed}")
        if state["dataset"] != self.dataset.sha256:
            raise InputError(
                f"--resume: the images or captions in {self.dataset.root} changed since the "
                f"checkpoint in {folder}"
            )
        if state["step"] > self.config.steps:
            raise InputError(
                f"--resume: the checkpoint is at step {state['step']}, past --steps "
                f"{self.config.steps}"
            )
        return folder, state

    def resume(self) -> int:
        """Continue from the newest checkpoint (see :meth:`check_resume`); return its step."""
        import torch
        from safetensors.torch import load_file

        folder, state = self.check_resume()
        if state["optimizer"] != self.optimizer_name:
            raise InputError(
                f"--resume: the checkpoint used {state['optimizer']}, this machine would use "
                f"{self.optimizer_name}"
            )
        adapter = load_file(str(folder / "adapter.safetensors"))
        with torch.no_grad():
            for name, param in self.params.items():
                param.copy_(adapter[name].to(param.device, param.dtype))
        tensors = load_file(str(folder / "optimizer.safetensors"))
        self.generator.set_state(tensors.pop("rng.noise"))
        self.optimizer.load_state_dict(_unflatten_optimizer(tensors, state["optimizer_state"]))
        self.scaler.load_state_dict(state["scaler"])
        self.step_count = int(state["step"])
        self._last_loss = state.get("last_loss")
        return self.step_count

    # -- export ------------------------------------------------------------------

    def lora_weights(self) -> dict[str, dict[str, Any]]:
        """component -> its LoRA weights by peft's saved names (``<module>.lora_A.weight``)."""
        return {
            component: {
                name.replace(".default.", "."): param
                for name, param in module.named_parameters()
                if ".lora_" in name
            }
            for component, module in self.components.items()
        }

    def export(
        self,
        layout: Layout,
        *,
        force: bool = False,
        save_dtype: str = "fp16",
        path: Path | None = None,
    ) -> Path:
        """Write the LoRA file (to ``out``, or ``path``) and its JSON sidecar; return its path."""
        import torch

        paths = self.paths if path is None else RunPaths(path)

        cfg = self.config
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[save_dtype]
        metadata = self.file_metadata(layout, paths.out.stem)
        targets = {"unet": list(cfg.target_modules)}
        targets.update({n: list(_TEXT_TARGETS) for n in self.components if n != "unet"})
        data = lora_file_bytes(
            self.lora_weights(),
            rank=cfg.rank,
            alpha=cfg.alpha,
            target_modules=targets,
            layout=layout,
            layers_per_block=int(self.pipe.unet.config.layers_per_block),
            metadata=metadata,
            dtype=dtype,
        )
        write_atomic(data, paths.out, force=force)
        sidecar = {
            "format": "dgx-pixels-lora/1",
            "file": paths.out.name,
            "layout": layout,
            "save_dtype": save_dtype,
            "config": cfg.to_dict(),
            "dataset": {
                "root": str(self.dataset.root),
                "sha256": self.dataset.sha256,
                "images": [
                    {"file": s.path.name, "caption": s.caption, "size": list(s.sprite.size)}
                    for s in self.dataset.samples
                ],
            },
            "model": dict(self.model_info),
            "steps": self.step_count,
            "final_loss": self._last_loss,
            "optimizer": self.optimizer_name,
            "device": self.placement.description,
            "precision": self.placement.dtype_name,
            "notes": list(self.notes),
            "versions": _versions(),
        }
        document = json.dumps(sidecar, indent=2, default=str) + "\n"
        write_atomic(document.encode("utf-8"), paths.sidecar, force=True)
        return paths.out

    def file_metadata(self, layout: Layout, name: str) -> dict[str, str]:
        """The string metadata stored in the LoRA file: ours and sd-scripts' ``ss_*``."""
        cfg = self.config
        resolution = self.dataset.samples[0].bucket if self.dataset.samples else (0, 0)
        tags: dict[str, int] = {}
        for s in self.dataset.samples:
            for tag in (t.strip() for t in s.caption.split(",")):
                if tag:
                    tags[tag] = tags.get(tag, 0) + 1
        return {
            "dgx_pixels.version": __version__,
            "dgx_pixels.base_model": self.spec.id,
            "dgx_pixels.rank": str(cfg.rank),
            "dgx_pixels.alpha": str(cfg.alpha),
            "dgx_pixels.trigger": cfg.trigger,
            "dgx_pixels.dataset_sha256": self.dataset.sha256,
            "dgx_pixels.steps": str(self.step_count),
            "dgx_pixels.layout": layout,
            "dgx_pixels.config": json.dumps(cfg.to_dict(), sort_keys=True),
            "ss_network_module": "networks.lora",
            "ss_network_dim": str(cfg.rank),
            "ss_network_alpha": str(cfg.alpha),
            "ss_base_model_version": "sdxl_base_v1-0",
            "ss_sd_model_name": self.spec.source,
            "ss_v2": "False",
            "ss_output_name": name,
            "ss_steps": str(self.step_count),
            "ss_max_train_steps": str(cfg.steps),
            "ss_learning_rate": str(cfg.lr),
            "ss_text_encoder_lr": str(cfg.text_encoder_lr if cfg.train_text_encoders else 0),
            "ss_unet_lr": str(cfg.lr),
            "ss_lr_scheduler": cfg.lr_schedule,
            "ss_lr_warmup_steps": str(cfg.warmup_steps),
            "ss_optimizer": self.optimizer_name,
            "ss_batch_size_per_device": str(cfg.batch),
            "ss_resolution": f"({resolution[0]}, {resolution[1]})",
            "ss_seed": str(cfg.seed),
            "ss_noise_offset": str(cfg.noise_offset),
            "ss_min_snr_gamma": str(cfg.min_snr_gamma),
            "ss_num_train_images": str(len(self.dataset.samples)),
            "ss_dataset_dirs": json.dumps(
                {self.dataset.root.name: {"n_repeats": 1, "img_count": len(self.dataset.samples)}}
            ),
            "ss_tag_frequency": json.dumps({self.dataset.root.name: tags}),
            "ss_network_args": json.dumps({"trigger": cfg.trigger}),
            "ss_training_comment": f"trigger: {cfg.trigger}" if cfg.trigger else "",
            "modelspec.architecture": "stable-diffusion-xl-v1-base/lora",
            "modelspec.implementation": "https://github.com/Stability-AI/generative-models",
            "modelspec.title": name,
        }


def train_lora(
    trainer: Trainer,
    *,
    resume: bool = False,
    layout: Layout = "peft",
    force: bool = False,
    save_precision: str = "fp16",
    interrupt: threading.Event | None = None,
    on_step: Callable[[StepMetrics], None] | None = None,
    on_validation: Callable[[Path], None] | None = None,
) -> TrainResult:
    """Run ``trainer`` to its last step: the loop.

    Stops cleanly when ``interrupt`` is set: saves a checkpoint and returns a
    result with ``stopped=True`` (and no LoRA file).
    """
    cfg = trainer.config
    grids: list[Path] = []
    _start(trainer, resume=resume, force=force)

    def validate() -> None:
        grid = trainer.evaluate(interrupt)
        if grid is not None:
            grids.append(grid)
            if on_validation is not None:
                on_validation(grid)

    if cfg.validate_every and trainer.step_count == 0:
        validate()  # the base model, to compare the others with
    with _metrics_log(trainer.paths.metrics, append=resume) as log:
        while trainer.step_count < cfg.steps:
            if interrupt is not None and interrupt.is_set():
                trainer.save()
                return TrainResult(None, None, trainer.step_count, True, trainer._last_loss,
                                   grids, trainer.notes)  # fmt: skip
            metrics = trainer.step()
            log(metrics)
            if on_step is not None:
                on_step(metrics)
            if trainer.step_count % cfg.checkpoint_every == 0 and trainer.step_count < cfg.steps:
                trainer.save()
            if cfg.validate_every and trainer.step_count % cfg.validate_every == 0:
                validate()
    trainer.save()
    lora = trainer.export(layout, force=force or resume, save_dtype=save_precision)
    return TrainResult(lora, trainer.paths.sidecar, trainer.step_count, False,
                       trainer._last_loss, grids, trainer.notes)  # fmt: skip


def _start(trainer: Trainer, *, resume: bool, force: bool) -> None:
    """Check what is on disk (before the model loads), set up, and resume if asked."""
    paths = trainer.paths
    if resume:
        trainer.check_resume()
    elif paths.latest_checkpoint() is not None and not force:
        raise InputError(
            f"{paths.checkpoints} holds checkpoints of an earlier run; continue it "
            "with --resume or start again with --force"
        )
    if not trainer.ready:
        trainer.setup()
    if not resume:
        shutil.rmtree(paths.checkpoints, ignore_errors=True)
        return
    step = trainer.resume()
    # The log keeps the steps up to the checkpoint: a crash may have logged later ones.
    if paths.metrics.is_file():
        lines = paths.metrics.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line and json.loads(line)["step"] <= step]
        write_atomic("".join(f"{line}\n" for line in kept).encode(), paths.metrics, force=True)


@contextlib.contextmanager
def _metrics_log(path: Path, *, append: bool) -> Iterator[Callable[[StepMetrics], None]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as f:

        def write(metrics: StepMetrics) -> None:
            f.write(json.dumps(metrics.to_dict()) + "\n")
            f.flush()

        yield write


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An optimizer state dict as safetensors tensors plus JSON (no pickle)."""
    import torch

    tensors: dict[str, Any] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def _bitsandbytes_problem(device: str) -> str | None:
    """Why 8-bit AdamW cannot be used here, or ``None`` when it can."""
    if not device.startswith("cuda"):
        return f"bitsandbytes' 8-bit optimizers need a CUDA GPU, this run is on {device}"
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        return "bitsandbytes is not installed (pip install bitsandbytes)"
    except Exception as exc:  # a broken native library raises anything
        return f"bitsandbytes does not load ({exc})"
    return None


def _versions() -> dict[str, str]:
    from dgx_pixels.engine._engine import _versions as engine_versions

    return engine_versions()


def stop_on_signals(interrupt: threading.Event) -> Callable[[], None]:
    """Set ``interrupt`` on SIGINT and SIGTERM; return a function that restores the old handlers."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        interrupt.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for s, h in old.items():
            signal.signal(s, h)

    return restore
