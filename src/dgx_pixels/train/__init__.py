"""Style LoRA training: a studio's own pixel-art style from a folder of sprites.

Imports no torch until a model is loaded (only ``engine`` and ``train`` ever do).
The parts, each its own module:

- :class:`TrainConfig` and :data:`PRESETS` (``pixel-fast``, ``pixel-quality``):
  every setting of a run, frozen, saved beside every checkpoint and LoRA.
- :func:`load_dataset` -> :class:`TrainingSet`: the folder of sprites as the
  trainer sees it (true sizes, nearest-neighbour drawings, buckets, captions).

Errors (all from :mod:`dgx_pixels.errors`)::

    InputError
    └── DatasetError      a training folder that cannot be used; names the file
"""

from __future__ import annotations

from dgx_pixels.train._config import PRESETS, TrainConfig, preset
from dgx_pixels.train._dataset import DatasetError, Sample, TrainingSet, load_dataset

__all__ = [
    "PRESETS",
    "DatasetError",
    "Sample",
    "TrainConfig",
    "TrainingSet",
    "load_dataset",
    "preset",
]
