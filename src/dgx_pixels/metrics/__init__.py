"""Measuring quality: how well restore tools recover real pixel art.

:mod:`~dgx_pixels.metrics.degrade` draws true sprites the way image
generators do; :mod:`~dgx_pixels.metrics.restore_eval` restores them with
dgx-pixels and its peers and scores the results
(``python -m dgx_pixels.metrics.restore_eval``).
"""

from __future__ import annotations

from dgx_pixels.metrics._machine import machine

__all__ = ["machine"]
