"""Style LoRA training: a studio's own pixel-art style from a folder of sprites.

Imports no torch until a model is loaded (only ``engine`` and ``train`` ever do).
The parts, each its own module:

- :class:`TrainConfig` and :data:`PRESETS` (``pixel-fast``, ``pixel-quality``):
  every setting of a run, frozen, saved beside every checkpoint and LoRA.
- :func:`load_dataset` -> :class:`TrainingSet`: the folder of sprites as the
  trainer sees it (true sizes, nearest-neighbour drawings, buckets, captions).
- :class:`Trainer` (``setup``, ``step``, ``evaluate``, ``save``, ``resume``,
  ``export``) and :func:`train_lora`, the loop that runs it to the end or to
  an interrupt, with a checkpoint either way.

The built-in sprite model's data, trainer and evaluation are the private
package ``train._builtin`` (``python -m dgx_pixels.train._builtin``; see
docs/builtin-model.md): it has no public surface until its weights ship.

A run::

    config = preset("pixel-fast", trigger="ourstyle", model="random:sdxl-tiny", steps=20)
    dataset = load_dataset("our-sprites", config, resolve_model(config.model))
    result = train_lora(Trainer(config, dataset, Path("ourstyle.safetensors")))

Errors (all from :mod:`dgx_pixels.errors`)::

    InputError
    └── DatasetError      a training folder that cannot be used; names the file
"""

from __future__ import annotations

from dgx_pixels.train._config import PRESETS, TrainConfig, preset
from dgx_pixels.train._dataset import DatasetError, Sample, TrainingSet, load_dataset
from dgx_pixels.train._trainer import (
    RunPaths,
    StepMetrics,
    Trainer,
    TrainResult,
    stop_on_signals,
    train_lora,
)

__all__ = [
    "PRESETS",
    "DatasetError",
    "RunPaths",
    "Sample",
    "StepMetrics",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingSet",
    "load_dataset",
    "preset",
    "stop_on_signals",
    "train_lora",
]
