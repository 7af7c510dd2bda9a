"""What every loaded model offers: the :class:`Backend` protocol.

``Engine.load`` returns one of these: the SDXL :class:`~dgx_pixels.engine.Engine`
for SDXL ids, the built-in model's engine for ``builtin:*`` ids. Callers (the
CLI, the job worker, the TUI) use only these members, so a later backend is one
more class that has them and one more branch in ``Engine.load``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from dgx_pixels.engine._device import Placement
from dgx_pixels.engine._types import GenerationResult, StepInfo
from dgx_pixels.engine.models import ModelSpec
from dgx_pixels.request import GenerationRequest

__all__ = ["Backend", "LoadedModel"]


class Backend(Protocol):
    """A loaded model ready to generate: requests in, :class:`GenerationResult` out."""

    @property
    def model_id(self) -> str:
        """The model id it was loaded with."""
        ...

    @property
    def spec(self) -> ModelSpec:
        """The resolved model."""
        ...

    @property
    def device(self) -> str:
        """The device name, such as ``cuda`` or ``cpu``."""
        ...

    @property
    def dtype(self) -> str:
        """The number format: ``fp32``, ``fp16`` or ``bf16``."""
        ...

    @property
    def device_description(self) -> str:
        """The device in words."""
        ...

    def warm_up(self) -> float:
        """Draw once through the whole path; the seconds it took."""
        ...

    def batch_key(self, request: GenerationRequest) -> Hashable:
        """Requests with equal keys may run as one batch in :meth:`generate`."""
        ...

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        on_step: Callable[[StepInfo], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> list[GenerationResult]:
        """One result per request, its images in ``request.seeds()`` order; raises
        ``RequestError``, ``Interrupted`` (within one step of ``interrupt``) or
        ``GenerationError``."""
        ...

    def close(self) -> None:
        """Let go of the model's memory (a worker unloading it to make room);
        :meth:`generate` then raises ``ModelError``. Closing twice does nothing."""
        ...


class LoadedModel:
    """The members every backend has in the same way, from its resolved model and
    where it was placed; a backend sets ``_spec`` and ``_placement`` when loaded."""

    _spec: ModelSpec
    _placement: Placement

    @property
    def model_id(self) -> str:
        """The model id this engine was loaded with."""
        return self._spec.id

    @property
    def spec(self) -> ModelSpec:
        """The resolved model."""
        return self._spec

    @property
    def device(self) -> str:
        """The device name, such as ``cuda`` or ``cpu``."""
        return self._placement.device_name

    @property
    def dtype(self) -> str:
        """The number format: ``fp32``, ``fp16`` or ``bf16``."""
        return self._placement.dtype_name

    @property
    def device_description(self) -> str:
        """The device in words: the GPU's name, ``Apple GPU (MPS)`` or ``CPU``."""
        return self._placement.description
