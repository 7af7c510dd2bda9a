"""The built-in model as an engine backend: the same requests, results and progress as SDXL.

:class:`BuiltinEngine` has the members of :class:`~dgx_pixels.engine.Backend`;
``Engine.load("builtin:sprites-32")`` returns one. A request's prompt, seeds,
count, steps, guidance, scheduler (one of the built-in samplers), ``--init``
with ``strength`` and ``seamless`` map onto :func:`_diffusion.sample`; its
32x32 RGBA drawings then go through the same pixel post-processing as SDXL's
(palette, background, the sprite size). What the model cannot do is refused
before anything loads (``_requests``).

The weights: ``$DGX_PIXELS_BUILTIN_WEIGHTS`` when set (a retrained file), else
the file in the package (``weights/sprites-32.safetensors``, written by
``examples/train_builtin.sh --ship``). Without either, loading fails with
:class:`~dgx_pixels.errors.ModelNotFoundError` saying how to train them.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from dgx_pixels.engine._backend import LoadedModel
from dgx_pixels.engine._builtin import _text
from dgx_pixels.engine._device import Placement, place
from dgx_pixels.engine._engine import (
    Item,
    _first_line,
    _is_device_failure,
    finish_results,
    prepare_batch,
)
from dgx_pixels.engine._schedulers import canonical_scheduler
from dgx_pixels.engine._types import GenerationResult, StepInfo
from dgx_pixels.engine.models import ModelSpec
from dgx_pixels.errors import (
    DeviceError,
    DgxPixelsError,
    GenerationError,
    Interrupted,
    ModelError,
    ModelNotFoundError,
    RequestError,
)
from dgx_pixels.request import GenerationRequest

__all__ = ["TRAIN_COMMAND", "WEIGHTS_ENV", "BuiltinEngine", "shipped_weights", "weights_path"]

#: A retrained weights file to use instead of the shipped one.
WEIGHTS_ENV = "DGX_PIXELS_BUILTIN_WEIGHTS"

#: What trains the weights (on a GPU, about 10 minutes) and puts them in the package.
TRAIN_COMMAND = (
    "bash examples/train_builtin.sh OUT_DIR on a GPU, then "
    "bash examples/train_builtin.sh --ship OUT_DIR (see docs/builtin-model.md)"
)

#: The most sprites drawn at once (each is two network rows with guidance).
_MAX_BATCH_CPU = 16
_MAX_BATCH_GPU = 128


def shipped_weights() -> Path:
    """Where the package keeps the trained weights (the file may be absent)."""
    return Path(__file__).with_name("weights") / "sprites-32.safetensors"


def weights_path() -> Path:
    """The weights file to load: ``$DGX_PIXELS_BUILTIN_WEIGHTS``, else the shipped one.

    Raises :class:`ModelNotFoundError`, with the command that trains them, when
    there is none.
    """
    chosen = os.environ.get(WEIGHTS_ENV, "").strip()
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ModelNotFoundError(f"{WEIGHTS_ENV}={chosen}: no such weights file", path=chosen)
        return path
    path = shipped_weights()
    if not path.is_file():
        raise ModelNotFoundError(
            f"builtin:sprites-32 is not trained yet in this install (no {path.name}); "
            f"train it with {TRAIN_COMMAND}, or set {WEIGHTS_ENV} to a weights file",
            model="builtin:sprites-32",
        )
    return path


class BuiltinEngine(LoadedModel):
    """The built-in model loaded and ready to generate. Create it with :meth:`load`."""

    def __init__(
        self,
        spec: ModelSpec,
        net: Any,
        placement: Placement,
        model_info: dict[str, Any],
        max_batch: int,
        encode: Callable[[Sequence[str]], Any],
    ) -> None:
        self._spec = spec
        self._net = net
        self._placement = placement
        self._model_info = model_info
        self._max_batch = max_batch
        self._encode = encode
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        spec: ModelSpec,
        *,
        device: str | None = None,
        dtype: str | None = None,
        memory: str | None = None,
        max_batch: int | None = None,
    ) -> BuiltinEngine:
        """Load the weights (see :func:`weights_path`) and the text encoder onto a device.

        Raises :class:`ModelNotFoundError` without weights, :class:`ModelError`
        for a bad weights file or a missing text encoder.
        """
        from dgx_pixels.engine._builtin._unet import load_weights, parameter_count

        if memory not in (None, "auto"):
            raise RequestError(f"{spec.id} takes no memory plan (it is a few MB)", option="memory")
        if max_batch is not None and max_batch < 1:
            raise RequestError(f"max_batch must be at least 1, got {max_batch}")
        path = weights_path()
        placement = place(device, dtype)
        net, meta = load_weights(path, device=placement.device_name)
        if meta.get("model_id") != spec.id:
            raise ModelError(
                f"{path}: weights of {meta.get('model_id')!r}, not {spec.id}", path=str(path)
            )
        net = net.to(dtype=placement.dtype)
        encode = _text.encode_prompts  # looked up now: a test may stand another encoder in
        encode(["sprite"])  # a missing text encoder fails the load, not the first job
        info: dict[str, Any] = {
            "id": spec.id,
            "kind": spec.kind,
            "source": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "parameters": parameter_count(net),
            "metadata": {k: v for k, v in meta.items() if k != "format"},
        }
        if max_batch is None:
            max_batch = _MAX_BATCH_CPU if placement.device_name == "cpu" else _MAX_BATCH_GPU
        return cls(spec, net, placement, info, max_batch, encode)

    def warm_up(self) -> float:
        """Draw one sprite through the whole path and return the seconds it took."""
        started = time.perf_counter()
        self.generate([GenerationRequest("warm-up", steps=2, seed=0, model=self._spec.id)])
        return time.perf_counter() - started

    def batch_key(self, request: GenerationRequest) -> Hashable:
        """Requests with equal keys may run as one batch in :meth:`generate`."""
        return (
            request.model,
            request.size,
            request.steps,
            _scheduler_key(request.scheduler),
            request.guidance,
            request.init is not None,
            request.strength if request.init is not None else None,
            request.seamless,
        )

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        on_step: Callable[[StepInfo], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> list[GenerationResult]:
        """Draw every image of ``requests`` (one batch) and turn each into a sprite.

        As :meth:`dgx_pixels.engine.Engine.generate`: one result per request,
        its images in ``request.seeds()`` order.
        """
        with self._lock:
            return self._generate(requests, on_step, interrupt)

    def close(self) -> None:
        """Let go of the network (as :meth:`dgx_pixels.engine.Engine.close`);
        :meth:`generate` then raises :class:`ModelError`."""
        with self._lock:
            self._net = None

    def _generate(
        self,
        requests: Sequence[GenerationRequest],
        on_step: Callable[[StepInfo], None] | None,
        interrupt: threading.Event | None,
    ) -> list[GenerationResult]:
        started = time.perf_counter()
        if self._net is None:
            raise ModelError(f"the engine for {self._spec.id} was closed")
        prepared = prepare_batch(requests, self._spec, self.batch_key)
        items = [Item(i, p, seed) for i, p in enumerate(prepared) for seed in p.request.seeds()]
        chunks = [items[i : i + self._max_batch] for i in range(0, len(items), self._max_batch)]
        steps = _run_steps(prepared[0].request)
        total = steps * len(chunks)
        raws: list[Image.Image] = []
        for n, chunk in enumerate(chunks):
            if interrupt is not None and interrupt.is_set():
                raise Interrupted("generation interrupted", stage="denoise")

            def callback(step: int, of: int, x0: Any, done: int = n * steps) -> bool:
                if on_step is not None:
                    on_step(StepInfo(done + step, total, time.perf_counter() - started,
                                     lambda: _preview(x0)))  # fmt: skip
                return interrupt is not None and interrupt.is_set()

            raws.extend(self._draw(chunk, steps, callback))
        return finish_results(prepared, items, raws, started, self._placement, self._model_info, [])

    def _draw(
        self, chunk: list[Item], steps: int, callback: Callable[[int, int, Any], bool]
    ) -> list[Image.Image]:
        import numpy as np
        import torch

        from dgx_pixels.engine._builtin import _diffusion
        from dgx_pixels.engine._seamless import circular_padding

        p = chunk[0].prepared
        request = p.request
        device = self._placement.device_name
        prompts = sorted({it.prepared.request.prompt for it in chunk})
        embedded = dict(zip(prompts, np.asarray(self._encode(prompts)), strict=True))
        text = torch.from_numpy(np.stack([embedded[it.prepared.request.prompt] for it in chunk]))
        init = None
        if p.init is not None:
            pixels = np.stack([np.asarray(it.prepared.init.convert("RGBA")) for it in chunk])  # type: ignore[union-attr]
            init = _diffusion.from_pixels(pixels)
        try:
            with circular_padding([self._net], request.seamless):
                drawn = _diffusion.sample(
                    self._denoise,
                    text.to(device),
                    seeds=[it.seed for it in chunk],
                    steps=steps,
                    guidance=request.guidance,
                    sampler=p.scheduler,
                    init=init,
                    strength=request.strength if init is not None else 1.0,
                    callback=callback,
                )
        except Interrupted:
            raise Interrupted("generation interrupted", stage="denoise") from None
        except DgxPixelsError:
            raise
        except (RuntimeError, ValueError) as exc:
            error = DeviceError if _is_device_failure(exc) else GenerationError
            raise error(
                f"generation failed on {self._placement.description}: {_first_line(exc)}",
                stage="denoise",
            ) from exc
        return [Image.fromarray(rgba, "RGBA") for rgba in _diffusion.to_pixels(drawn)]

    def _denoise(self, x: Any, t: Any, text: Any, drop: Any) -> Any:
        """The network at its number format, answering in float32 for the sampler."""
        dtype = self._placement.dtype
        return self._net(x.to(dtype), t, text.to(dtype), drop).float()


def _run_steps(request: GenerationRequest) -> int:
    """The steps a request runs: as for SDXL, an init image is repainted in
    ``steps x strength`` of them (the request checks that is at least one)."""
    if request.init is None:
        return request.steps
    return max(1, int(request.steps * request.strength))


def _scheduler_key(name: str) -> str:
    try:
        return canonical_scheduler(name)
    except RequestError:  # refused when the batch is prepared
        return name


def _preview(x0: Any) -> Image.Image:
    """The first sprite's current estimate, on grey where it is transparent."""
    from dgx_pixels.engine._builtin._diffusion import to_pixels

    sprite = Image.fromarray(to_pixels(x0[:1])[0], "RGBA")
    flat = Image.new("RGBA", sprite.size, (128, 128, 128, 255))
    flat.alpha_composite(sprite)
    return flat.convert("RGB")
