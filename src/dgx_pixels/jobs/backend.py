"""What the worker needs from the engine and the asset store, as a small interface.

The worker loads :class:`Generator` s through a :class:`Backend` (several,
kept warm by :class:`~dgx_pixels.jobs.pool.ModelPool` within a memory budget
the backend sizes), unloads them to make room, and saves each result through
it. :class:`EngineBackend` is the real one
(``dgx_pixels.engine`` + ``dgx_pixels.assets``); tests use a fake that keeps
the same contract: ``on_step`` once per denoising step, and
:class:`~dgx_pixels.errors.Interrupted` within one step of ``interrupt.set()``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from dgx_pixels.request import GenerationRequest

__all__ = [
    "GPU_SHARE",
    "RAM_SHARE",
    "Backend",
    "EngineBackend",
    "Generator",
    "ResultLike",
    "StepLike",
]

log = logging.getLogger(__name__)


class StepLike(Protocol):
    """Progress of one denoising step (``dgx_pixels.engine.StepInfo``)."""

    @property
    def step(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def elapsed_s(self) -> float: ...
    def preview(self) -> Image.Image: ...


class ResultLike(Protocol):
    """One request's result (``dgx_pixels.engine.GenerationResult``)."""

    @property
    def request(self) -> GenerationRequest: ...


class Generator(Protocol):
    """A loaded model (``dgx_pixels.engine.Engine``)."""

    @property
    def model_id(self) -> str: ...

    def batch_key(self, request: GenerationRequest) -> Hashable:
        """Requests with equal keys may run as one batch."""
        ...

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        on_step: Callable[[Any], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> Sequence[Any]:
        """One result per request; raises ``Interrupted`` once ``interrupt`` is set."""
        ...


class Backend(Protocol):
    """Checks requests, loads generators and saves their results."""

    def check(self, request: GenerationRequest) -> None:
        """Raise the error a run of ``request`` would meet on its inputs (cheap; no model)."""
        ...

    def load(self, model_id: str) -> Generator:
        """Load ``model_id``, ready to draw at full speed (slow); raises
        ``ModelNotFoundError`` / ``ModelError``."""
        ...

    def save(self, result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        """Write ``result``'s files atomically; one ``{role: path}`` map per image."""
        ...

    def memory_gib(self, model_id: str) -> float:
        """About how much memory ``model_id`` takes once loaded (cheap; before loading).

        Raises what :meth:`load` raises for an id that names nothing."""
        ...

    def budget_gib(self) -> float:
        """The memory the loaded models may take together when no budget is given."""
        ...

    def unload(self, generator: Generator) -> None:
        """Free ``generator``'s memory; it is not used again."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class EngineBackend:
    """The real backend: ``Engine.load`` and ``assets.save_result``."""

    device: str | None = None
    dtype: str | None = None

    def check(self, request: GenerationRequest) -> None:
        from dgx_pixels.engine import check_request

        check_request(request)

    def load(self, model_id: str) -> Generator:
        """Load the engine and draw once (:meth:`Engine.warm_up`), so a loaded engine is
        as fast on its first job as on the next ones."""
        import torch

        from dgx_pixels.engine import Engine  # imports torch lazily, inside the engine
        from dgx_pixels.errors import DeviceError

        try:
            engine = Engine.load(model_id, device=self.device, dtype=self.dtype)
        except torch.OutOfMemoryError as exc:  # transient: the pool makes room and tries again
            raise DeviceError(
                f"out of device memory loading {model_id}: {str(exc).splitlines()[0]}",
                model=model_id,
            ) from None
        seconds = engine.warm_up()
        log.info("model %s warmed up (one draw) in %.1f s", model_id, seconds)
        loaded: Generator = engine
        return loaded

    def memory_gib(self, model_id: str) -> float:
        """The model's weights at 16 bits (:attr:`ModelSpec.weights_gib_16`), twice that
        where the device computes in fp32 (a CPU)."""
        from dgx_pixels.engine.models import resolve_model

        weights = resolve_model(model_id).weights_gib_16
        return weights * 2 if self._placement().dtype_name == "fp32" else weights

    def budget_gib(self) -> float:
        """:data:`GPU_SHARE` of the GPU's memory on CUDA (on a DGX Spark: of the unified
        memory torch reports), else :data:`RAM_SHARE` of the machine's RAM."""
        import torch

        placement = self._placement()
        if placement.device_name == "cuda":
            total = torch.cuda.get_device_properties(placement.device).total_memory
            return GPU_SHARE * total / 2**30
        return RAM_SHARE * _ram_bytes() / 2**30

    def unload(self, generator: Generator) -> None:
        """:meth:`Engine.close`, then give the freed blocks back to the device."""
        import gc

        import torch

        close = getattr(generator, "close", None)
        if callable(close):
            close()
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _placement(self) -> Any:
        """Where :meth:`load` puts a model (``engine._device.Placement``)."""
        from dgx_pixels.engine._device import place

        return place(self.device, self.dtype)

    def save(self, result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        from dgx_pixels.assets import save_result

        return [_paths(files) for files in save_result(result, out_dir, force=force)]


#: Share of a GPU's memory the warm models may fill by default; the rest is for drawing
#: (activations, the VAE decode) and other processes.
GPU_SHARE = 0.75

#: Share of the machine's RAM the warm models may fill by default without a GPU.
RAM_SHARE = 0.5


def _ram_bytes() -> int:
    """The machine's physical memory."""
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _paths(files: Any) -> dict[str, str]:
    """``AssetFiles`` (a dataclass of paths, some maybe ``None``) as ``{role: path}``."""
    if dataclasses.is_dataclass(files) and not isinstance(files, type):
        items = {f.name: getattr(files, f.name) for f in dataclasses.fields(files)}
    else:
        items = dict(vars(files))
    return {role: str(path) for role, path in items.items() if path is not None}
