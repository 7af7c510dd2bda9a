"""``dgx-pixels bench``: generation speed against plain diffusers, in one run.

Real use is on a GPU with ``--model random:sdxl`` (real SDXL shapes, timing
does not depend on weight values). On a CPU it runs the tiny random model at
its own small sizes, so the command itself is tested everywhere.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import click

__all__ = ["bench"]


def _gib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**30:.2f}"


@click.command("bench")
@click.option(
    "--model", default=None, help="Model id [random:sdxl on a GPU, else random:sdxl-tiny]."
)
@click.option("--device", help="auto, cuda[:N], mps or cpu [auto].")
@click.option("--dtype", help="auto, fp32, fp16 or bf16 [auto].")
@click.option(
    "--steps",
    type=click.IntRange(1, 200),
    default=30,
    show_default=True,
    help="Steps of the full-length cases.",
)
@click.option("--repeats", type=click.IntRange(1, 100), default=3, show_default=True)
@click.option("--warmup", type=click.IntRange(0, 10), default=1, show_default=True)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Write the report here [outputs/bench/bench-TIME.json].",
)
@click.option(
    "--train", "train", is_flag=True, help="Time LoRA training steps instead of generation."
)
@click.option("--batch", type=click.IntRange(1, 64), default=1, show_default=True, help="--train")
@click.option("--rank", type=click.IntRange(1, 256), default=16, show_default=True, help="--train")
@click.option(
    "--checkpointing/--no-checkpointing",
    default=True,
    show_default=True,
    help="--train: gradient checkpointing.",
)
def bench(
    model: str | None,
    device: str | None,
    dtype: str | None,
    steps: int,
    repeats: int,
    warmup: int,
    json_path: str | None,
    train: bool,
    batch: int,
    rank: int,
    checkpointing: bool,
) -> None:
    """Time generation cases on our engine and on plain diffusers (the baseline).

    Cases: the model's native size with CFG at batch 1 and 4, 4 steps without
    CFG, and half the native side. Prints latency, images/min, peak GPU memory
    and the speed-up over the baseline (above 1: faster), and writes JSON.

    With --train: LoRA training steps of our trainer against a plain diffusers +
    peft step of the same shapes (32x32 sprites at the model's drawing size).
    """
    from dgx_pixels.engine._device import place

    # 1. The model: full SDXL shapes where there is a GPU, the tiny one on a CPU.
    placement = place(device, dtype)
    if model is None:
        model = "random:sdxl-tiny" if placement.device_name == "cpu" else "random:sdxl"
    if train:
        report: Any = _train_bench(
            model, device, dtype, batch, rank, checkpointing, repeats, warmup
        )
        _write_report(report.to_dict(), json_path, "bench-train")
        return
    from dgx_pixels.cli._generate import load_engine
    from dgx_pixels.engine._bench import default_cases, run_bench

    click.echo(f"loading {model} on {placement.description} ({placement.dtype_name}) ...", err=True)
    engine = load_engine(model, device, dtype, None)
    # 2. Run, printing each case as it ends.
    click.echo(
        f"{'case':<28} {'ours s':>8} {'base s':>8} {'img/min':>8} {'peak GiB':>9} {'speed-up':>9}"
    )

    def show(result: Any) -> None:
        ours, base = result.ours, result.baseline
        click.echo(
            f"{result.case.name:<28} {ours.latency_s:>8.3f} {base.latency_s:>8.3f} "
            f"{ours.images_per_min:>8.1f} {_gib(ours.peak_memory_bytes):>9} "
            f"{result.speedup:>8.2f}x"
        )

    report = run_bench(
        engine,
        default_cases(engine.spec.native_side, steps=steps),
        repeats=repeats,
        warmup=warmup,
        on_case=show,
    )
    click.echo(f"process peak RSS: {_gib(report.process_peak_rss_bytes)} GiB (both pipelines)")
    # 3. The JSON report.
    _write_report(report.to_dict(), json_path, "bench")


def _write_report(data: dict[str, Any], json_path: str | None, name: str) -> None:
    from dgx_pixels.image_files import write_atomic

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    path = Path(json_path or Path("outputs") / "bench" / f"{name}-{stamp}.json")
    document = json.dumps(data, indent=2) + "\n"
    write_atomic(document.encode("utf-8"), path, force=True)
    click.echo(f"report: {path}", err=True)


def _train_bench(
    model: str,
    device: str | None,
    dtype: str | None,
    batch: int,
    rank: int,
    checkpointing: bool,
    repeats: int,
    warmup: int,
) -> Any:
    """Run and print the training benchmark (see :mod:`dgx_pixels.train._bench`)."""
    from dgx_pixels.train import preset
    from dgx_pixels.train._bench import run_train_bench

    config = preset(
        "pixel-fast",
        model=model,
        batch=batch,
        rank=rank,
        alpha=rank,
        steps=1_000_000,
        warmup_steps=0,
        lr_schedule="constant",
        gradient_checkpointing=checkpointing,
        precision=dtype,
        validate_every=0,
    )
    click.echo(f"training steps on {model}, batch {batch}, rank {rank} ...", err=True)
    r = run_train_bench(
        config,
        device=device,
        repeats=repeats,
        warmup=warmup,
        note=lambda s: click.echo(s, err=True),
    )
    click.echo(f"machine: {r.device} ({r.dtype}); {r.machine}")
    click.echo(
        f"drawing {r.drawing[0]}x{r.drawing[1]}, batch {r.batch}, rank {r.rank}, "
        f"gradient checkpointing {'on' if r.gradient_checkpointing else 'off'}"
    )
    click.echo(f"{'':<22} {'s/step':>8} {'min s':>8} {'peak GiB':>9}")
    for name, m in (("dgx-pixels trainer", r.ours), ("diffusers + peft", r.baseline)):
        click.echo(
            f"{name:<22} {m.latency_s:>8.3f} {m.latency_min_s:>8.3f} {_gib(m.peak_memory_bytes):>9}"
        )
    click.echo(f"speed-up over the baseline: {r.speedup:.2f}x (above 1: ours is faster)")
    click.echo(f"process peak RSS: {_gib(r.process_peak_rss_bytes)} GiB (both UNets)")
    return r
