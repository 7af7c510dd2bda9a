"""What the worker needs from the engine and the asset store, as a small interface.

The worker loads a :class:`Generator` through a :class:`Backend` and saves
each result through it. :class:`EngineBackend` is the real one
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

__all__ = ["Backend", "EngineBackend", "Generator", "ResultLike", "StepLike"]

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
        from dgx_pixels.engine import Engine  # imports torch lazily, inside the engine

        engine = Engine.load(model_id, device=self.device, dtype=self.dtype)
        seconds = engine.warm_up()
        log.info("model %s warmed up (one draw) in %.1f s", model_id, seconds)
        loaded: Generator = engine
        return loaded

    def save(self, result: Any, out_dir: Path, *, force: bool) -> list[dict[str, str]]:
        from dgx_pixels.assets import save_result

        return [_paths(files) for files in save_result(result, out_dir, force=force)]


def _paths(files: Any) -> dict[str, str]:
    """``AssetFiles`` (a dataclass of paths, some maybe ``None``) as ``{role: path}``."""
    if dataclasses.is_dataclass(files) and not isinstance(files, type):
        items = {f.name: getattr(files, f.name) for f in dataclasses.fields(files)}
    else:
        items = dict(vars(files))
    return {role: str(path) for role, path in items.items() if path is not None}
