"""The jobs besides ``generate``: generated sets and LoRA training, admitted and run.

A ``submit`` names its task (``protocol.TASKS``); ``generate`` is the
worker's own path (batched). For the others this module holds both halves:

- :func:`admit` (the worker's main thread, at submit): checks the task's
  parameters with the very checks the commands use (``sprites.plan_set``,
  ``train.TrainConfig.check`` and ``train.load_dataset``), confines every path
  (``roots.Roots``) and returns what the store keeps. A bad value is refused
  now, named in the ``request`` error, never later in the queue.
- :func:`run_set` and :func:`run_train` (the runner thread): run one job alone.

Parameters on the wire (``submit.request``), see docs/jobs.md, "Tasks":

- ``animate``, ``tiles``, ``tileset``: a GenerationRequest in ``to_dict`` form
  plus ``"options"``: the set's options (``sprites.SET_OPTIONS``). An
  ``animate`` of the user's sprite (``--from``) adds ``"from": NAME`` (its
  file name) and sends the sprite's bytes as ``submit.inputs["from"]``, with
  no palette (the sprite's colours are its palette). The worker decodes it at
  submit (a still image of at most ``MAX_SPRITE_PIXELS``, checked by
  ``plan_set``), stores it under ``<data>/inputs`` by content hash and keeps
  ``"from": {"name": NAME, "path": STORED}`` in the job's request.
- ``train``: ``{"config": TrainConfig.to_dict(), "dataset": PATH, "layout":
  "peft"|"kohya", "save_precision": "fp16"|"bf16"|"fp32"}``; the dataset is a
  folder on the worker inside its roots, or the folder's files sent in
  ``submit.inputs`` as ``dataset/NAME`` (then ``dataset`` may be omitted).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dgx_pixels.errors import InputError, Interrupted, RequestError
from dgx_pixels.image_files import decode_image, read_image
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.limits import Limits
from dgx_pixels.jobs.roots import FROM_INPUT, Roots
from dgx_pixels.request import GenerationRequest

__all__ = [
    "MAX_SPRITE_PIXELS",
    "TRAIN_LAYOUTS",
    "TRAIN_PRECISIONS",
    "Admitted",
    "TrainProgress",
    "admit",
    "lora_path",
    "run_set",
    "run_train",
    "set_parts",
]

#: The most pixels of an ``animate`` job's sent sprite: two frames of it fill the widest canvas.
MAX_SPRITE_PIXELS = 256 * 512

TRAIN_LAYOUTS = ("peft", "kohya")
TRAIN_PRECISIONS = ("fp16", "bf16", "fp32")
_TRAIN_KEYS = frozenset({"config", "dataset", "layout", "save_precision"})


@dataclass(frozen=True, slots=True)
class Admitted:
    """A checked job of another task: its parameters as stored, and what job lists show."""

    params: dict[str, Any]
    prompt: str
    model: str


def admit(
    msg: p.Submit, *, roots: Roots, limits: Limits, check: Callable[[GenerationRequest], None]
) -> Admitted:
    """Check and confine a ``submit`` of a set or train task.

    ``check`` is the backend's cheap check of a set's request, the one a
    ``generate`` submit meets (an unknown model id, a bad palette), so a set
    may name any model the worker can load, as a sprite may. Raises
    :class:`~dgx_pixels.errors.InputError` (a ``request`` error reply) naming
    the bad value, or the check's own error.
    """
    if msg.task == "train":
        return _admit_train(msg, roots=roots, limits=limits)
    from dgx_pixels.sprites import plan_set

    data = dict(msg.request)
    options = data.pop("options", {})
    if not isinstance(options, dict):
        raise RequestError(f"options must be a map of {msg.task} options")
    from_name = data.pop(FROM_INPUT, None)
    inputs = dict(msg.inputs)
    from_bytes = inputs.pop(FROM_INPUT, None)
    request = p.generation_request(data)
    limits.check_request(request)
    for key, value in options.items():
        if isinstance(value, str):
            limits.check_text(key, value, "name_chars" if key != "over" else "prompt_chars")
    request = roots.admit(request, inputs, limits=limits)
    check(request)
    sprite = None
    if from_name is not None or from_bytes is not None:
        if not isinstance(from_name, str) or not from_name or from_bytes is None:
            raise RequestError(
                "from must name the sprite (its file name) whose bytes are sent as input 'from'",
                option=FROM_INPUT,
            )
        limits.check_text(FROM_INPUT, from_name, "path_chars")
        limits.check_bytes(from_name, len(from_bytes), "input_bytes", option=FROM_INPUT)
        sprite = decode_image(from_bytes, from_name, max_pixels=MAX_SPRITE_PIXELS)
    plan = plan_set(msg.task, request, options, from_sprite=sprite, from_name=from_name)
    params = {**plan.request.to_dict(), "options": dict(plan.options)}
    if from_bytes is not None:  # stored only once checked: a refused sprite leaves nothing
        stored = roots.store_input(FROM_INPUT, from_name, from_bytes)
        params[FROM_INPUT] = {"name": from_name, "path": str(stored)}
    return Admitted(params, request.prompt, request.model)


def set_parts(job: p.JobRecord) -> tuple[GenerationRequest, dict[str, Any]]:
    """A set job's request and options (as checked when it was queued)."""
    data = {**job.request, "prompt": job.prompt}
    options = data.pop("options", {})
    data.pop(FROM_INPUT, None)
    return GenerationRequest.from_dict(data), options


def _stored_sprite(job: p.JobRecord) -> tuple[Image.Image | None, str | None]:
    """An ``animate`` job's sprite as stored at submit, and its name; (None, None) without one.

    A sprite gone from the worker's inputs fails the job (an :class:`InputError`).
    """
    sent = job.request.get(FROM_INPUT)
    if sent is None:
        return None, None
    name, path = str(sent["name"]), Path(sent["path"])
    if not path.is_file():
        raise InputError(f"the sprite {name} sent with job {job.id} is gone from the worker's "
                         "inputs; submit the job again")  # fmt: skip
    return read_image(path), name


def run_set(
    generator: Any,
    job: p.JobRecord,
    out_dir: Path,
    *,
    interrupt: threading.Event,
    on_unit: Callable[[int, int, Any], None],
    force: bool,
) -> list[dict[str, str]]:
    """Draw a set job with the warm ``generator`` and write its asset into ``out_dir``.

    Returns one output map: ``manifest`` and each file of the asset by its
    path inside the asset folder. An interrupt raises
    :class:`~dgx_pixels.errors.Interrupted` before anything is written (the
    asset folder is published with one rename, all or none).
    """
    from dgx_pixels.assets import MANIFEST_NAME
    from dgx_pixels.sprites import plan_set

    request, options = set_parts(job)
    sprite, from_name = _stored_sprite(job)
    plan = plan_set(job.task, request, options, from_sprite=sprite, from_name=from_name)
    bundle = plan.make(generator, on_unit=on_unit, interrupt=interrupt)
    if interrupt.is_set():  # the last draw ended just as the cancel came: write nothing
        raise Interrupted("cancelled")
    folder = bundle.write(out_dir / plan.name, force=force)
    files = {name: str(folder / name) for name in sorted(bundle.files)}
    return [{"manifest": str(folder / MANIFEST_NAME), **files}]


@dataclass(frozen=True, slots=True)
class TrainProgress:
    """A training step done, or a validation grid drawn, as the runner publishes it.

    A grid comes after the step it follows, with that step's figures (before
    the first step: step 0, no figures).
    """

    step: int
    total: int
    loss: float | None
    lr: float | None
    it_s: float | None
    elapsed_s: float
    eta_s: float | None
    validation: Path | None = None


def lora_path(job: p.JobRecord, out_dir: Path) -> Path:
    """Where a train job's LoRA goes: ``<job folder>/<trigger or lora>.safetensors``."""
    trigger = str(job.request.get("config", {}).get("trigger") or "lora")
    from dgx_pixels.assets import slugify

    return out_dir / f"{slugify(trigger)[:60] or 'lora'}.safetensors"


def run_train(
    job: p.JobRecord,
    out_dir: Path,
    *,
    interrupt: threading.Event,
    on_progress: Callable[[TrainProgress], None],
    device: str | None = None,
) -> tuple[list[dict[str, str]], bool]:
    """Train a train job's LoRA into ``out_dir``; returns its outputs and whether it stopped.

    Loads its own pipeline through ``dgx_pixels.train``, on ``device`` (the
    worker's ``--device``; None: the best one). A job run again (after
    a drain or a dead worker) resumes from its newest checkpoint; an interrupt
    saves one and returns ``stopped=True`` with no outputs.
    """
    from dgx_pixels.engine.models import resolve_model
    from dgx_pixels.train import TrainConfig, Trainer, load_dataset, train_lora

    params = job.request
    config = TrainConfig.from_dict(params["config"]).check()
    dataset = load_dataset(params["dataset"], config, resolve_model(config.model))
    path = lora_path(job, out_dir)
    trainer = Trainer(config, dataset, path, device=device)
    resume = trainer.paths.latest_checkpoint() is not None
    started = time.monotonic()
    first: list[int] = []
    last: list[TrainProgress] = [TrainProgress(0, config.steps, None, None, None, 0.0, None)]

    def step(m: Any) -> None:
        if not first:
            first.append(m.step - 1)
        elapsed = time.monotonic() - started
        rate = (m.step - first[0]) / elapsed if elapsed > 0 else 0.0
        eta = (config.steps - m.step) / rate if rate > 0 else None
        last[0] = TrainProgress(m.step, config.steps, m.loss, m.lr, m.it_s, elapsed, eta)
        on_progress(last[0])

    def validation(grid: Path) -> None:
        elapsed = time.monotonic() - started
        on_progress(dataclasses.replace(last[0], elapsed_s=elapsed, validation=grid))

    result = train_lora(
        trainer,
        resume=resume,
        layout=params["layout"],
        force=True,  # the job's own folder: an earlier attempt's files are its own
        save_precision=params["save_precision"],
        interrupt=interrupt,
        on_step=step,
        on_validation=validation,
    )
    if result.stopped:
        return [], True
    assert result.lora is not None  # not stopped
    assert result.sidecar is not None
    outputs = {"lora": str(result.lora), "config": str(result.sidecar)}
    outputs["metrics"] = str(trainer.paths.metrics)
    if result.validation:
        outputs["validation"] = str(result.validation[-1])
    return [outputs], False


def _admit_train(msg: p.Submit, *, roots: Roots, limits: Limits) -> Admitted:
    from dgx_pixels.engine.models import resolve_model
    from dgx_pixels.train import TrainConfig, load_dataset

    data = msg.request
    unknown = sorted(str(k)[:40] for k in data if k not in _TRAIN_KEYS)
    if unknown:
        raise RequestError(
            f"unknown train field(s): {', '.join(unknown)}; the fields are "
            f"{', '.join(sorted(_TRAIN_KEYS))}"
        )
    config_data = data.get("config")
    if not isinstance(config_data, dict):
        raise RequestError("config must be a map of training settings (TrainConfig.to_dict)")
    try:
        config = TrainConfig.from_dict(config_data).check()
    except TypeError as exc:  # a value of the wrong type
        raise RequestError(f"config: {exc}") from None
    layout, precision = data.get("layout", "peft"), data.get("save_precision", "fp16")
    _choice("layout", layout, TRAIN_LAYOUTS)
    _choice("save_precision", precision, TRAIN_PRECISIONS)
    limits.check_text("model", config.model, "name_chars")
    if msg.inputs:
        if "dataset" in data:
            raise RequestError("send the dataset's files or name a folder on the worker, not both")
        folder = roots.admit_dataset(msg.inputs, limits=limits)
    else:
        named = data.get("dataset")
        if not isinstance(named, str) or not named:
            raise RequestError("dataset must name a folder on the worker, or send its files")
        limits.check_text("dataset", named, "path_chars")
        folder = roots.confine(named, field="dataset")
    load_dataset(folder, config, resolve_model(config.model))  # refuses bad files, named
    params = {
        "config": config.to_dict(),
        "dataset": str(folder),
        "layout": layout,
        "save_precision": precision,
    }
    prompt = f"train lora {config.trigger or folder.name}"
    return Admitted(params, prompt, config.model)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise RequestError(f"{name} must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
