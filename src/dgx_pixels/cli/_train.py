"""``dgx-pixels train lora DIR``: a style LoRA from a folder of sprites.

Starts from a preset; every flag given replaces the preset's value. ``--dry-run``
prints the dataset as the trainer will see it and stops. Ctrl-C or SIGTERM
saves a checkpoint and stops; ``--resume`` continues it exactly.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import click

from dgx_pixels.cli._jobs import SubmitTo, submit_options
from dgx_pixels.errors import InputError, Interrupted, OutputExistsError

__all__ = ["train"]


@click.group("train")
def train() -> None:
    """Train a model on your own sprites."""


def _float(low: float, high: float) -> click.FloatRange:
    return click.FloatRange(low, high)


@train.command("lora")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--trigger", help="A rare word the style is bound to; put in front of each caption.")
@click.option(
    "--preset",
    "preset_name",
    type=click.Choice(["pixel-fast", "pixel-quality"]),
    default="pixel-fast",
    show_default=True,
    help="Starting values (see docs/training.md); every flag below replaces one.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="The LoRA file [TRIGGER.safetensors, else FOLDER.safetensors].",
)
@click.option(
    "--format",
    "layout",
    type=click.Choice(["peft", "kohya"]),
    default="peft",
    show_default=True,
    help="peft: diffusers' layout; kohya: lora_unet_... as ComfyUI and A1111 load.",
)
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint beside --out.")
@click.option("--dry-run", is_flag=True, help="Print the dataset as the trainer sees it; no model.")
@click.option("--force", is_flag=True, help="Replace an existing LoRA and earlier checkpoints.")
@click.option("--model", help="Base model id [sdxl-base].")
@click.option("--steps", type=click.IntRange(1, 1_000_000))
@click.option("--rank", type=click.IntRange(1, 1024))
@click.option("--alpha", type=click.IntRange(1, 4096))
@click.option("--lr", type=_float(1e-8, 1.0), help="UNet learning rate.")
@click.option("--batch", type=click.IntRange(1, 256))
@click.option("--seed", type=click.IntRange(0, 2**63 - 1))
@click.option("--resolution", type=click.IntRange(64, 2048), help="Side of the training area.")
@click.option("--train-text-encoders/--no-train-text-encoders", default=None)
@click.option("--text-encoder-lr", type=_float(1e-8, 1.0))
@click.option("--lr-schedule", type=click.Choice(["constant", "cosine"]))
@click.option("--warmup-steps", type=click.IntRange(0, 1_000_000))
@click.option("--optimizer", type=click.Choice(["auto", "adamw", "adamw8bit"]))
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]))
@click.option("--min-snr-gamma", type=_float(0.0, 1000.0), help="0 turns min-SNR off.")
@click.option("--noise-offset", type=_float(0.0, 1.0))
@click.option("--gradient-checkpointing/--no-gradient-checkpointing", default=None)
@click.option("--flip/--no-flip", default=None, help="Horizontal flips (off: sprites face a way).")
@click.option("--background", help="Colour transparent pixels are trained on (#rrggbb).")
@click.option("--checkpoint-every", type=click.IntRange(1, 1_000_000))
@click.option("--validate-every", type=click.IntRange(0, 1_000_000), help="0: no grids.")
@click.option("--validation-prompt", "validation_prompts", multiple=True, help="Repeatable.")
@click.option("--validation-steps", type=click.IntRange(1, 200))
@click.option("--device", help="auto, cuda[:N], mps or cpu [auto].")
@click.option(
    "--save-precision",
    type=click.Choice(["fp16", "bf16", "fp32"]),
    default="fp16",
    show_default=True,
    help="Number format of the weights in the LoRA file.",
)
@submit_options
def lora(
    folder: str,
    trigger: str | None,
    preset_name: str,
    out: str | None,
    layout: str,
    resume: bool,
    dry_run: bool,
    force: bool,
    device: str | None,
    save_precision: str,
    validation_prompts: tuple[str, ...],
    submit: bool,
    priority: int,
    worker_address: str | None,
    timeout: float,
    **flags: Any,
) -> None:
    """Train a style LoRA on the sprites in FOLDER.

    FOLDER holds sprites at their true size (or exact whole-number upscales),
    each with an optional caption: NAME.txt, our NAME.json sidecar, else the
    file name. Beside the LoRA go NAME.json (the full config), NAME.metrics.jsonl
    and NAME.train/ (checkpoints, validation grids, cache).

    With --submit the worker trains it as a job (FOLDER's files are sent; it
    reports step, loss, lr, it/s and validation grids; Ctrl-C cancels it,
    leaving a checkpoint on the worker) and the LoRA, its config and its
    metrics log are copied to --out.
    """
    from dgx_pixels.engine.models import resolve_model
    from dgx_pixels.train import Trainer, load_dataset, preset, stop_on_signals, train_lora

    # 1. The settings, then the data: both checked before any model is loaded.
    config = preset(
        preset_name,
        trigger=trigger,
        validation_prompts=validation_prompts or None,
        **flags,
    )
    dataset = load_dataset(folder, config, resolve_model(config.model))
    if dry_run:
        click.echo(f"preset {config.preset}, model {config.model}, trigger {config.trigger!r}")
        for line in dataset.describe():
            click.echo(line)
        return
    # 2. Where the LoRA goes: never over an existing file without --force.
    path = Path(out or f"{config.trigger or Path(folder).resolve().name}.safetensors")
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    if path.exists() and not force:
        raise OutputExistsError(f"{path} already exists; use --force to overwrite it")
    to_worker = SubmitTo.given(submit, worker_address, timeout, priority)
    if to_worker is not None:
        if resume or device is not None:
            raise InputError(
                "--resume and --device are for a training in this process; a worker "
                "resumes a job it runs again by itself, on its own device"
            )
        click.echo(str(to_worker.run_train(config, Path(folder), path, layout, save_precision,
                                           force=force)))  # fmt: skip
        return
    # 3. Train, reporting each step; Ctrl-C or SIGTERM stops after the step in flight.
    interrupt = threading.Event()
    trainer = Trainer(config, dataset, path, device=device, note=lambda s: click.echo(s, err=True))
    report = _Report(config.steps)
    restore = stop_on_signals(interrupt)
    try:
        result = train_lora(
            trainer,
            resume=resume,
            layout=layout,  # type: ignore[arg-type]
            force=force,
            save_precision=save_precision,
            interrupt=interrupt,
            on_step=report,
            on_validation=lambda p: click.echo(f"validation grid: {p}", err=True),
        )
    finally:
        restore()
    if result.stopped:
        raise Interrupted(
            f"stopped at step {result.steps} of {config.steps}; checkpoint saved in "
            f"{trainer.paths.checkpoints}; continue with --resume",
            stage="train",
        )
    click.echo(f"LoRA: {result.lora} ({layout} layout, {result.steps} steps)")
    click.echo(f"config and dataset: {result.sidecar}")
    click.echo(f"metrics: {trainer.paths.metrics}")


class _Report:
    """A line on stderr every few steps: step, loss, learning rate, speed, ETA."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.every = max(1, total // 100)
        self.started = time.perf_counter()
        self.first: int | None = None

    def __call__(self, m: Any) -> None:
        if self.first is None:
            self.first = m.step - 1
        if m.step % self.every and m.step != self.total:
            return
        done = m.step - self.first
        rate = done / max(1e-9, time.perf_counter() - self.started)
        eta = (self.total - m.step) / rate if rate else 0.0
        memory = f" {m.memory_bytes / 2**30:.1f} GiB"
        click.echo(
            f"step {m.step}/{self.total} loss {m.loss:.4f} lr {m.lr:.2e} "
            f"{rate:.2f} it/s{memory} eta {eta / 60:.1f} min",
            err=True,
        )
