"""Observability: Prometheus metrics of the worker (NVML GPU readings when present)."""

from __future__ import annotations

__all__: list[str] = []
