"""The training settings: one frozen value object, two presets, saved beside every output.

A :class:`TrainConfig` holds every value a run depends on. The command line
starts from a preset and replaces the values given as flags; the config is
checked once (:meth:`TrainConfig.check`), written into every checkpoint and
beside the finished LoRA, and compared on ``--resume`` so a run never
continues with settings it did not start with.

>>> cfg = preset("pixel-fast", trigger="ourstyle", steps=10)
>>> cfg.rank, cfg.steps, cfg.trigger
(16, 10, 'ourstyle')
>>> TrainConfig.from_dict(cfg.to_dict()) == cfg
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from dgx_pixels.errors import InputError

__all__ = ["PRESETS", "RESUMABLE_CHANGES", "TrainConfig", "preset"]

Optimizer = Literal["auto", "adamw", "adamw8bit"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
Schedule = Literal["constant", "cosine"]

_TRIGGER = re.compile(r"[\w][\w\- ]{0,63}")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

#: Fields a resumed run may change: how long it runs and how often it saves and reports
#: (a changed ``steps`` stretches the learning-rate schedule from the resumed step on).
RESUMABLE_CHANGES = frozenset({"steps", "checkpoint_every", "validate_every", "keep_checkpoints"})


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Everything a LoRA training run depends on.

    The defaults are the ``pixel-fast`` preset; see :data:`PRESETS` for both
    presets and why their values are what they are.
    """

    preset: str = "pixel-fast"
    model: str = "sdxl-base"
    #: The side of the square whose area the drawings fill (``None``: the model's native side).
    resolution: int | None = None
    trigger: str = ""
    steps: int = 1000
    batch: int = 1
    rank: int = 16
    alpha: int = 16
    lr: float = 2e-4
    #: Train LoRAs on both text encoders too (turns off the text-embedding cache).
    train_text_encoders: bool = False
    text_encoder_lr: float = 5e-5
    lr_schedule: Schedule = "cosine"
    warmup_steps: int = 50
    optimizer: Optimizer = "auto"
    weight_decay: float = 1e-2
    max_grad_norm: float = 1.0
    #: Min-SNR loss weighting gamma (Hang et al. 2023); 0 turns it off.
    min_snr_gamma: float = 5.0
    noise_offset: float = 0.05
    gradient_checkpointing: bool = True
    precision: Precision = "auto"
    seed: int = 0
    #: Horizontal flips as augmentation: off, since a flip changes which way a sprite faces.
    flip: bool = False
    #: The colour transparent pixels are flattened onto (the VAE draws RGB).
    background: str = "#ffffff"
    target_modules: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    validate_every: int = 250
    validation_prompts: tuple[str, ...] = (
        "a knight with a sword",
        "a green slime",
        "a treasure chest",
        "a potion bottle",
    )
    validation_seeds: tuple[int, ...] = (1, 2)
    validation_size: int = 32
    validation_steps: int = 25

    # -- checking ----------------------------------------------------------------

    def check(self) -> TrainConfig:
        """Raise :class:`InputError` naming the first bad value; return ``self``."""
        ints = {
            "steps": (self.steps, 1, 1_000_000),
            "batch": (self.batch, 1, 256),
            "rank": (self.rank, 1, 1024),
            "alpha": (self.alpha, 1, 4096),
            "warmup_steps": (self.warmup_steps, 0, 1_000_000),
            "checkpoint_every": (self.checkpoint_every, 1, 1_000_000),
            "keep_checkpoints": (self.keep_checkpoints, 1, 100),
            "validate_every": (self.validate_every, 0, 1_000_000),
            "validation_size": (self.validation_size, 4, 512),
            "validation_steps": (self.validation_steps, 1, 200),
            "seed": (self.seed, 0, 2**63 - 1),
        }
        for name, (value, low, high) in ints.items():
            if not low <= value <= high:
                raise InputError(f"{name} must be {low} to {high}, got {value}", option=name)
        floats = {
            "lr": (self.lr, 0.0, 1.0),
            "text_encoder_lr": (self.text_encoder_lr, 0.0, 1.0),
            "weight_decay": (self.weight_decay, 0.0, 1.0),
            "max_grad_norm": (self.max_grad_norm, 0.0, 1e6),
            "min_snr_gamma": (self.min_snr_gamma, 0.0, 1e3),
            "noise_offset": (self.noise_offset, 0.0, 1.0),
        }
        for name, (number, lo, hi) in floats.items():
            if not lo <= number <= hi or (name == "lr" and number == 0):
                raise InputError(f"{name} must be above {lo} and at most {hi}, got {number}")
        if self.resolution is not None and not 64 <= self.resolution <= 2048:
            raise InputError(f"resolution must be 64 to 2048, got {self.resolution}")
        if self.resolution is not None and self.resolution % 8:
            raise InputError(f"resolution must be a multiple of 8, got {self.resolution}")
        if self.trigger and not _TRIGGER.fullmatch(self.trigger):
            raise InputError(
                "trigger must be 1-64 letters, digits, '_', '-' or spaces, starting with a "
                f"letter or digit, got {self.trigger!r}",
                option="trigger",
            )
        if not _COLOUR.fullmatch(self.background):
            raise InputError(f"background must look like #rrggbb, got {self.background!r}")
        choices = {
            "lr_schedule": (self.lr_schedule, ("constant", "cosine")),
            "optimizer": (self.optimizer, ("auto", "adamw", "adamw8bit")),
            "precision": (self.precision, ("auto", "fp32", "bf16", "fp16")),
        }
        for name, (text, allowed) in choices.items():
            if text not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}, got {text!r}")
        if not self.target_modules:
            raise InputError("target_modules must name at least one module")
        if not self.validation_prompts or len(self.validation_prompts) > 16:
            raise InputError(f"give 1 to 16 validation prompts, got {len(self.validation_prompts)}")
        if not self.validation_seeds or len(self.validation_seeds) > 8:
            raise InputError(f"give 1 to 8 validation seeds, got {len(self.validation_seeds)}")
        return self

    # -- derived values ----------------------------------------------------------

    def caption(self, text: str) -> str:
        """``text`` with the trigger word in front (once)."""
        text = text.strip()
        if not self.trigger:
            return text
        if text == self.trigger or text.startswith(self.trigger + ","):
            return text
        return f"{self.trigger}, {text}" if text else self.trigger

    def validation_prompt_texts(self) -> list[str]:
        """The validation prompts as the model sees them (trigger in front)."""
        return [self.caption(p) for p in self.validation_prompts]

    # -- (de)serialising -------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (tuples as lists)."""
        data = dataclasses.asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The config of :meth:`to_dict` data; :class:`InputError` for unknown fields."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise InputError(f"unknown training setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)

    def fingerprint(self) -> str:
        """A SHA-256 of every setting that shapes the weights (not the reporting ones)."""
        data = {k: v for k, v in self.to_dict().items() if k not in RESUMABLE_CHANGES}
        blob = json.dumps(data, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` (``None`` values are left out: "not given")."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given)


#: The presets: name -> (config, why). Every value can be changed by a flag.
PRESETS: dict[str, tuple[TrainConfig, str]] = {
    "pixel-fast": (
        TrainConfig(
            preset="pixel-fast",
            steps=1000,
            batch=1,
            rank=16,
            alpha=16,
            lr=2e-4,
            warmup_steps=50,
        ),
        "A first look at a style in about a third of the quality preset's time: rank 16 "
        "(published pixel-art LoRAs find 16-32 plenty), alpha = rank so the learning rate "
        "means what it says, 1,000 steps at batch 1 (about 20 passes over 50 sprites) at a "
        "learning rate of 2e-4 with a cosine decay, min-SNR 5 and a small noise offset "
        "(0.05) so flat backgrounds stay flat. UNet only, so text embeddings are cached.",
    ),
    "pixel-quality": (
        TrainConfig(
            preset="pixel-quality",
            steps=3000,
            batch=2,
            rank=32,
            alpha=16,
            lr=1e-4,
            warmup_steps=100,
        ),
        "The style LoRA to keep: rank 32 (the top of the useful range; above about 48 it "
        "learns noise), alpha 16 (half the rank, sd-scripts' usual ratio, a gentler update), "
        "3,000 steps at batch 2 (about 120 passes over 50 sprites: 'a few thousand steps' is "
        "what published style LoRAs take) at 1e-4 with a cosine decay after 100 warm-up steps, "
        "min-SNR 5, noise offset 0.05.",
    ),
}


def preset(name: str, **changes: Any) -> TrainConfig:
    """The preset ``name`` with ``changes`` (``None``: keep the preset's value), checked."""
    if name not in PRESETS:
        raise InputError(
            f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}",
            option="preset",
        )
    return PRESETS[name][0].replace(**changes).check()
