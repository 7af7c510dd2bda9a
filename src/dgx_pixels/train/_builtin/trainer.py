"""Train the built-in model on a sprite cache for a fixed wall time, resumably.

The loop is :func:`train`: set up (resuming from ``out/checkpoint.safetensors``
when it exists), step until the wall-time budget or the step limit is spent,
saving a checkpoint every ``checkpoint_every_s``, then :meth:`Trainer.finish`
writes the EMA weights, a sample grid and ``report.json``.

One step: balanced batch, one random caption variant per sprite, CFG dropout
(the null embedding), continuous-time cosine noise, v-prediction loss with
min-SNR weighting (Hang et al. 2023: ``min(snr, gamma) / (snr + 1)`` for v),
AdamW with warm-up, EMA of the weights. On CUDA: bf16 autocast, channels-last
and, optionally, a compiled network.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from dgx_pixels.engine._builtin import _diffusion, _unet
from dgx_pixels.errors import InputError
from dgx_pixels.image_files import write_atomic
from dgx_pixels.train._builtin import data

__all__ = ["RUN_FIELDS", "TrainConfig", "Trainer", "train"]

CHECKPOINT = "checkpoint.safetensors"
WEIGHTS = "sprites-32.safetensors"
SAMPLES = "samples.png"
REPORT = "report.json"


@dataclass(frozen=True)
class TrainConfig:
    """The recipe and the run settings; saved in every checkpoint and report."""

    model: str = "full"
    batch_size: int = 256
    learning_rate: float = 4e-4
    warmup_steps: int = 250
    cfg_dropout: float = 0.1
    min_snr_gamma: float = 5.0
    ema_decay: float = 0.999
    balance_power: float = 0.5
    seed: int = 0
    # Run settings (RUN_FIELDS): these may differ when a run resumes.
    budget_s: float = 480.0
    max_steps: int = 0  # 0: no limit but the budget
    checkpoint_every_s: float = 120.0
    device: str = "cpu"
    bf16: bool = False
    channels_last: bool = False
    compile: bool = False
    sample_steps: int = 25
    guidance: float = 3.0
    evaluate: bool = True
    eval_min_category: int = 20  # categories with fewer sprites are left out of the score
    eval_classifier_steps: int = 1500

    def check(self) -> None:
        """Refuse a config that cannot train, naming the bad value."""
        if self.model not in _unet.PRESETS:
            raise InputError(f"model must be one of {sorted(_unet.PRESETS)}, got {self.model!r}")
        if not 1 <= self.batch_size <= 8192:
            raise InputError(f"batch size must be in 1..8192, got {self.batch_size}")
        if not 0 < self.learning_rate < 1:
            raise InputError(f"learning rate must be in (0, 1), got {self.learning_rate}")
        if not 0 <= self.cfg_dropout < 1:
            raise InputError(f"cfg dropout must be in [0, 1), got {self.cfg_dropout}")
        if not 0 < self.ema_decay < 1:
            raise InputError(f"ema decay must be in (0, 1), got {self.ema_decay}")
        if not 0 < self.budget_s <= 7 * 86400:
            raise InputError(f"budget must be in (0, 1 week] seconds, got {self.budget_s}")
        if self.max_steps < 0 or self.warmup_steps < 0:
            raise InputError(f"steps cannot be negative, got {self.max_steps}/{self.warmup_steps}")
        if self.device.split(":")[0] not in ("cpu", "cuda"):
            raise InputError(f"device must be cpu or cuda[:N], got {self.device!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise InputError(f"device {self.device!r} asked for, but torch sees no CUDA GPU")
        if self.bf16 and not self.device.startswith("cuda"):
            raise InputError("bf16 needs a CUDA device; drop --bf16 on the CPU")


#: Settings a resumed run may change; every other field is the recipe and must match.
RUN_FIELDS = frozenset(
    {"budget_s", "max_steps", "checkpoint_every_s", "device", "bf16", "channels_last",
     "compile", "sample_steps", "guidance", "evaluate", "eval_min_category",
     "eval_classifier_steps"}
)  # fmt: skip


def _cache_id(sprites: data.SpriteSet) -> str:
    return hashlib.sha256("\n".join(sprites.paths).encode()).hexdigest()[:16]


class Trainer:
    """Setup, step, evaluate, save, resume and finish, over one output folder."""

    def __init__(self, config: TrainConfig, cache: Path, out: Path) -> None:
        config.check()
        self.config, self.cache_path, self.out = config, cache, out
        self.steps = 0
        self.elapsed_s = 0.0
        self.history: list[dict[str, float]] = []
        self._loss_sum, self._loss_n = 0.0, 0

    # -- setup ---------------------------------------------------------------------------
    def setup(self) -> None:
        """Load the cache onto the device, build the network, its EMA and optimizer; resume."""
        cfg = self.config
        self.device = torch.device(cfg.device)
        cache = data.load_cache(self.cache_path)
        self.sprites = cache.sprites
        train_ids = np.flatnonzero(~self.sprites.heldout)
        val_ids = np.flatnonzero(self.sprites.heldout)
        if len(train_ids) == 0:
            raise InputError(f"{self.cache_path}: every sprite is held out; nothing to train on")
        weights = data.sampling_weights(
            self.sprites.category_ids[train_ids], power=cfg.balance_power
        )
        self.train_ids = torch.from_numpy(train_ids).to(self.device)
        self.weights = torch.from_numpy(weights).float().to(self.device)
        self.val_ids = val_ids if len(val_ids) else train_ids[:64]
        self.images = _diffusion.from_pixels(self.sprites.images).to(self.device)
        self.text = torch.from_numpy(cache.text.astype(np.float32)).to(self.device)

        torch.manual_seed(cfg.seed)
        self.model = _unet.SpriteUNet(_unet.PRESETS[cfg.model]).to(self.device)
        self.ema = _unet.SpriteUNet(_unet.PRESETS[cfg.model]).to(self.device).eval()
        self.ema.load_state_dict(self.model.state_dict())
        self.ema.requires_grad_(False)
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=cfg.learning_rate, weight_decay=0.0
        )
        self.forward = torch.compile(self.model) if cfg.compile else self.model
        self.compiled: bool | None = None if cfg.compile else False
        if (self.out / CHECKPOINT).is_file():
            self.resume(self.out / CHECKPOINT)
        self.generator = torch.Generator(self.device).manual_seed(cfg.seed * 1_000_003 + self.steps)

    # -- step ----------------------------------------------------------------------------
    def step(self) -> float:
        """One optimiser step on a balanced batch; returns its weighted loss."""
        cfg, g, dev = self.config, self.generator, self.device
        pick = torch.multinomial(self.weights, cfg.batch_size, replacement=True, generator=g)
        idx = self.train_ids[pick]
        variant = torch.randint(0, self.text.shape[1], (cfg.batch_size,), device=dev, generator=g)
        x0, text = self.images[idx], self.text[idx, variant]
        drop = torch.rand(cfg.batch_size, device=dev, generator=g) < cfg.cfg_dropout
        t = torch.rand(cfg.batch_size, device=dev, generator=g)
        noise = torch.randn(x0.shape, device=dev, generator=g)
        a, s = _diffusion.alpha_sigma(t)
        x_t = a[:, None, None, None] * x0 + s[:, None, None, None] * noise
        target = _diffusion.v_target(x0, noise, t)
        if cfg.channels_last:
            x_t = x_t.contiguous(memory_format=torch.channels_last)
        snr = (a / s) ** 2
        weight = snr.clamp(max=cfg.min_snr_gamma) / (snr + 1)

        lr_scale = min(1.0, (self.steps + 1) / max(1, cfg.warmup_steps))
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.learning_rate * lr_scale
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            pred = self._predict(x_t, t, text, drop)
        per_sprite = F.mse_loss(pred.float(), target, reduction="none").mean(dim=(1, 2, 3))
        loss = (weight * per_sprite).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        decay = min(cfg.ema_decay, (1 + self.steps) / (10 + self.steps))
        with torch.no_grad():
            torch._foreach_lerp_(
                list(self.ema.parameters()), list(self.model.parameters()), 1 - decay
            )
        self.steps += 1
        value = float(loss.detach())  # one sync a step: cheap next to the step at batch 256
        self._loss_sum, self._loss_n = self._loss_sum + value, self._loss_n + 1
        return value

    def _predict(
        self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, drop: torch.Tensor
    ) -> torch.Tensor:
        """The network's forward; a compile that fails on its first call falls back to eager.

        A failed compile would otherwise cost a whole GPU lease; the report says
        which ran (``compiled``).
        """
        if self.forward is self.model or self.compiled is not None:
            out: torch.Tensor = self.forward(x, t, text, drop)
            return out
        try:
            out = self.forward(x, t, text, drop)
            self.compiled = True
        except Exception as exc:  # torch.compile raises many kinds; eager still works
            print(f"torch.compile failed, training eagerly: {type(exc).__name__}: {exc}"[:500])
            self.forward, self.compiled = self.model, False
            out = self.model(x, t, text, drop)
        return out

    def log(self, elapsed_s: float) -> None:
        """Append the mean training loss since the last entry to the history."""
        if self._loss_n:
            mean = self._loss_sum / self._loss_n
            self.history.append({"step": self.steps, "elapsed_s": round(elapsed_s, 2),
                                 "loss": round(mean, 5)})  # fmt: skip
        self._loss_sum, self._loss_n = 0.0, 0

    # -- evaluate ------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, *, ema: bool = True) -> float:
        """Validation v-loss (unweighted) on the held-out sprites at 8 fixed times, fixed noise."""
        net = self.ema if ema else self.model
        net.eval()
        g = torch.Generator().manual_seed(1234)
        ids = torch.from_numpy(self.val_ids[:256]).to(self.device)
        x0, text = self.images[ids], self.text[ids, 0]
        keep = torch.zeros(len(ids), dtype=torch.bool, device=self.device)
        total = 0.0
        times = torch.linspace(0.05, 0.95, 8)
        for tv in times:
            t = tv.expand(len(ids)).to(self.device)
            noise = torch.randn(x0.shape, generator=g).to(self.device)
            a, s = _diffusion.alpha_sigma(t)
            x_t = a[:, None, None, None] * x0 + s[:, None, None, None] * noise
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.bf16):
                pred = net(x_t, t, text, keep)
            total += float(F.mse_loss(pred.float(), _diffusion.v_target(x0, noise, t)))
        self.model.train()
        return total / len(times)

    # -- save / resume -------------------------------------------------------------------
    def save(self) -> Path:
        """Write the checkpoint (network, EMA, optimizer, progress) atomically."""
        from safetensors.torch import save

        tensors: dict[str, torch.Tensor] = {}
        for prefix, net in (("model.", self.model), ("ema.", self.ema)):
            for k, v in net.state_dict().items():
                tensors[prefix + k] = v.detach().cpu().contiguous()
        opt = self.optimizer.state_dict()
        for i, state in opt["state"].items():
            for k, v in state.items():
                tensors[f"opt.{i}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt["param_groups"]]
        meta = {
            "config": json.dumps(asdict(self.config)),
            "steps": str(self.steps),
            "elapsed_s": str(self.elapsed_s),
            "history": json.dumps(self.history),
            "param_groups": json.dumps(groups),
            "cache_id": _cache_id(self.sprites),
        }
        self.out.mkdir(parents=True, exist_ok=True)
        return write_atomic(save(tensors, metadata=meta), self.out / CHECKPOINT, force=True)

    def resume(self, path: Path) -> None:
        """Continue from a checkpoint of the same recipe and cache; refuse any other."""
        from safetensors import safe_open
        from safetensors.torch import load_file

        with safe_open(str(path), "pt") as f:
            meta = dict(f.metadata() or {})
        saved = json.loads(meta["config"])
        for field in fields(TrainConfig):
            if field.name not in RUN_FIELDS and saved.get(field.name) != getattr(
                self.config, field.name
            ):
                raise InputError(
                    f"{path}: the checkpoint's {field.name} is {saved.get(field.name)!r}, "
                    f"this run's is {getattr(self.config, field.name)!r}; use another output folder"
                )
        if meta["cache_id"] != _cache_id(self.sprites):
            raise InputError(f"{path}: the checkpoint was trained on another sprite cache")
        state = load_file(str(path), device=str(self.device))
        self.model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
        self.ema.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("ema.")})
        opt_state: dict[int, dict[str, torch.Tensor]] = {}
        for k, v in state.items():
            if k.startswith("opt."):
                _, i, name = k.split(".", 2)
                opt_state.setdefault(int(i), {})[name] = v.cpu() if name == "step" else v
        groups = json.loads(meta["param_groups"])
        for group, ids in zip(groups, self.optimizer.state_dict()["param_groups"], strict=True):
            group["params"] = ids["params"]
        self.optimizer.load_state_dict({"state": opt_state, "param_groups": groups})
        self.steps = int(meta["steps"])
        self.elapsed_s = float(meta["elapsed_s"])
        self.history = json.loads(meta["history"])

    # -- finish --------------------------------------------------------------------------
    def grid_prompts(self, most: int = 12) -> tuple[list[str], torch.Tensor]:
        """One held-out caption per category, largest categories first (their embeddings cached)."""
        counts = data.category_counts(self.sprites)
        prompts, rows = [], []
        for name in list(counts)[:most]:
            cat = self.sprites.categories.index(name)
            ids = [i for i in self.val_ids if self.sprites.category_ids[i] == cat]
            ids = ids or np.flatnonzero(self.sprites.category_ids == cat).tolist()
            prompts.append(self.sprites.captions[ids[0]][0])
            rows.append(self.text[ids[0], 0])
        return prompts, torch.stack(rows)

    def finish(self, *, train_seconds: float, steps_this_run: int) -> dict[str, Any]:
        """Write the EMA weights, the sample grid and the report; return the report."""
        from dgx_pixels.train._builtin import evaluate, grid

        cfg = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        val_ema, val_raw = self.evaluate(ema=True), self.evaluate(ema=False)
        _unet.save_weights(
            self.ema, self.out / WEIGHTS, dtype=torch.float16,
            extra={"steps": str(self.steps), "val_v_loss": f"{val_ema:.5f}"},
        )  # fmt: skip
        prompts, text = self.grid_prompts()
        seeds = [0, 1, 2, 3]
        started = time.perf_counter()
        drawn = _diffusion.sample(
            self.ema, text.repeat_interleave(len(seeds), 0), seeds=seeds * len(prompts),
            steps=cfg.sample_steps, guidance=cfg.guidance,
        )  # fmt: skip
        sample_s = time.perf_counter() - started
        sprites = _diffusion.to_pixels(drawn).reshape(len(prompts), len(seeds), 32, 32, 4)
        write_atomic(grid.render(prompts, sprites), self.out / SAMPLES, force=True)
        report: dict[str, Any] = {
            "model_id": _unet.MODEL_ID,
            "recipe": asdict(cfg),
            "parameters": _unet.parameter_count(self.ema),
            "sprites": {
                "train": len(self.train_ids),
                "heldout": int(self.sprites.heldout.sum()),
                "categories": len(self.sprites.categories),
            },
            "steps": self.steps,
            "steps_this_run": steps_this_run,
            "train_seconds_this_run": round(train_seconds, 2),
            "train_seconds_total": round(self.elapsed_s, 2),
            "steps_per_second": round(steps_this_run / max(train_seconds, 1e-9), 3),
            "val_v_loss_ema": round(val_ema, 5),
            "val_v_loss": round(val_raw, 5),
            "history": self.history,
            "samples": {
                "file": SAMPLES,
                "prompts": prompts,
                "seeds": seeds,
                "steps": cfg.sample_steps,
                "guidance": cfg.guidance,
                "seconds": round(sample_s, 3),
            },
            "device": str(self.device),
            "device_name": torch.cuda.get_device_name(self.device)
            if self.device.type == "cuda"
            else "cpu",
            "compiled": bool(self.compiled),
            "torch": torch.__version__,
        }
        if cfg.evaluate:
            report["evaluation"] = evaluate.evaluate(
                self.ema, self.sprites, self.text, device=self.device,
                steps=cfg.sample_steps, guidance=cfg.guidance,
                min_category=cfg.eval_min_category, classifier_steps=cfg.eval_classifier_steps,
            ).as_dict()  # fmt: skip
        text_out = json.dumps(report, indent=2) + "\n"
        write_atomic(text_out.encode(), self.out / REPORT, force=True)
        return report


def train(config: TrainConfig, cache: Path, out: Path) -> dict[str, Any]:
    """Train for ``config.budget_s`` seconds of wall time (or ``max_steps``), then finish."""
    trainer = Trainer(config, cache, out)
    trainer.setup()
    base, first_step = trainer.elapsed_s, trainer.steps
    start = last_save = last_log = time.monotonic()
    while time.monotonic() - start < config.budget_s:
        if config.max_steps and trainer.steps >= config.max_steps:
            break
        trainer.step()
        now = time.monotonic()
        trainer.elapsed_s = base + now - start
        if now - last_log >= max(1.0, config.budget_s / 50):
            trainer.log(trainer.elapsed_s)
            last_log = now
        if now - last_save >= config.checkpoint_every_s:
            trainer.save()
            last_save = now
    train_seconds = time.monotonic() - start
    trainer.elapsed_s = base + train_seconds
    trainer.log(trainer.elapsed_s)
    trainer.save()
    return trainer.finish(train_seconds=train_seconds, steps_this_run=trainer.steps - first_step)
