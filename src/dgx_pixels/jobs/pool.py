"""The worker's warm models: several loaded generators within one memory budget.

A worker serves jobs for any model it can load. :class:`ModelPool` loads a
model through :meth:`Backend.load` the first time a job needs it and keeps
it loaded for the next ones, as long as the loaded models fit the budget
together (``dgx-pixels worker --memory-gib``; by default the backend's
:meth:`Backend.budget_gib`: most of the GPU's memory, or half the RAM
without one). A model's cost is the backend's estimate
(:meth:`Backend.memory_gib`: its weights). To make room for another, the
least recently used models are unloaded first (:meth:`Backend.unload`).

The pool is keyed by the request's ``model`` alone: LoRA variants of one
base are requests with other ``loras`` on the same loaded engine (the
engine switches adapters per batch), so a base is never loaded twice.

A model over the whole budget on its own is still loaded, alone (the others
are unloaded first), with a warning: the budget is a target, not a refusal.
The costs are estimates: a load that runs out of device memory
(:class:`~dgx_pixels.errors.DeviceError`) while other models are warm is
tried once more after unloading them all.

Only the runner thread loads and unloads, between batches, so the model a
batch is drawing with is never unloaded under it; other threads read
:attr:`warm` and :attr:`loading` (for ``ping`` and ``models``).

>>> from dgx_pixels.jobs.pool import ModelPool
>>> class Tiny:  # a backend whose models cost 1 GiB each
...     def load(self, model_id): return model_id
...     def memory_gib(self, model_id): return 1.0
...     def budget_gib(self): return 2.0
...     def unload(self, generator): pass
>>> pool = ModelPool(Tiny())
>>> for model in ("a", "b", "a", "c"):
...     _ = pool.get(model)
>>> pool.warm  # most recently used first; b was the least recently used
['c', 'a']
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from dgx_pixels.errors import DeviceError, InputError
from dgx_pixels.jobs.backend import Backend, Generator
from dgx_pixels.observability.metrics import WorkerMetrics

__all__ = ["Loaded", "ModelPool"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A generator from :meth:`ModelPool.get`; ``load_s`` is None when it was warm."""

    generator: Generator
    load_s: float | None


@dataclass(frozen=True, slots=True)
class _Entry:
    generator: Generator
    gib: float


class ModelPool:
    """Loads models on demand and keeps them warm within ``budget_gib``.

    ``budget_gib`` None asks the backend (:meth:`Backend.budget_gib`) at the
    first load. ``on_change`` is told the warm models (most recent first)
    after each load and unload.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        budget_gib: float | None = None,
        metrics: WorkerMetrics | None = None,
        on_change: Callable[[list[str]], None] | None = None,
    ) -> None:
        if budget_gib is not None and not budget_gib > 0:
            raise InputError(f"memory budget must be above 0 GiB, got {budget_gib}")
        self._backend = backend
        self._budget = budget_gib
        self._metrics = metrics
        self._on_change = on_change
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._loading: str | None = None
        self._lock = threading.Lock()  # for readers in other threads

    # ------------------------------------------------------------- any thread

    @property
    def warm(self) -> list[str]:
        """The loaded models, most recently used first."""
        with self._lock:
            return list(reversed(self._entries))

    @property
    def loading(self) -> str | None:
        """The model being loaded now, if any."""
        with self._lock:
            return self._loading

    @property
    def used_gib(self) -> float:
        """The loaded models' estimated memory, together."""
        with self._lock:
            return sum(e.gib for e in self._entries.values())

    @property
    def known_budget_gib(self) -> float | None:
        """The memory budget, or None until the first load has asked the backend for it."""
        return self._budget

    # ------------------------------------------------------ the runner thread

    @property
    def budget_gib(self) -> float:
        """The memory budget (asked of the backend once, when none was given)."""
        if self._budget is None:
            self._budget = float(self._backend.budget_gib())
            log.info("memory budget for warm models: %.1f GiB", self._budget)
        return self._budget

    def peek(self, model_id: str) -> Generator | None:
        """The warm generator of ``model_id``, or None; does not count as a use."""
        with self._lock:
            entry = self._entries.get(model_id)
        return entry.generator if entry is not None else None

    def get(self, model_id: str) -> Loaded:
        """The generator of ``model_id``: the warm one, or loaded now (making room first).

        Raises what :meth:`Backend.load` or :meth:`Backend.memory_gib` raise;
        the warm models stay as they were unless room had to be made.
        """
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is not None:
                self._entries.move_to_end(model_id)
                return Loaded(entry.generator, None)
        # 1. The cost, and room for it.
        gib = float(self._backend.memory_gib(model_id))
        self._make_room(model_id, gib)
        # 2. Load (slow: other threads still read the pool meanwhile).
        with self._lock:
            self._loading = model_id
        started = time.monotonic()
        try:
            generator = self._load(model_id)
        finally:
            with self._lock:
                self._loading = None
        seconds = time.monotonic() - started
        # 3. Keep it, as the most recently used.
        with self._lock:
            self._entries[model_id] = _Entry(generator, gib)
            warm = len(self._entries)
        log.info(
            "model %s loaded in %.1f s (about %.1f GiB; %d warm, %.1f of %.1f GiB)",
            model_id,
            seconds,
            gib,
            warm,
            self.used_gib,
            self.budget_gib,
        )
        if self._metrics is not None:
            self._metrics.observe_load(seconds=seconds, warm=warm)
        self._changed()
        return Loaded(generator, seconds)

    def _load(self, model_id: str) -> Generator:
        """``backend.load``, once more with every other model unloaded when the device
        ran out of memory (the estimates were short)."""
        try:
            generator: Generator = self._backend.load(model_id)
        except DeviceError as exc:
            if not self._entries:
                raise
            log.warning(
                "loading %s ran out of device memory (%s): unloading %s and trying again",
                model_id,
                exc.message,
                ", ".join(self._entries),
            )
            for other in list(self._entries):
                self._evict(other)
            generator = self._backend.load(model_id)
        return generator

    def _make_room(self, model_id: str, gib: float) -> None:
        """Unload the least recently used models until ``gib`` more fits the budget."""
        budget = self.budget_gib
        if gib > budget:
            log.warning(
                "model %s needs about %.1f GiB, over the memory budget of %.1f GiB on its "
                "own: loading it alone",
                model_id,
                gib,
                budget,
            )
        while self._entries and self.used_gib + gib > budget:
            oldest = next(iter(self._entries))
            log.info(
                "unloading model %s (least recently used) to make room for %s", oldest, model_id
            )
            self._evict(oldest)

    def _evict(self, model_id: str) -> None:
        """Unload ``model_id`` to make room (counted in the metrics)."""
        self._unload(model_id)
        if self._metrics is not None:
            self._metrics.observe_eviction(warm=len(self._entries))

    def _unload(self, model_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(model_id)
        try:
            self._backend.unload(entry.generator)
        except Exception:  # its memory may stay taken; the pool goes on without it
            log.exception("unloading model %s failed", model_id)
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.warm)
