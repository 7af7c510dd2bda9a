"""The built-in model's sampler names (a module of its own: no torch to import it).

``ddim`` and ``euler`` are one method: deterministic DDIM is Euler's method on
the probability-flow ODE in the variables ``x / a`` and ``s / a``. ``euler-a``
is its ancestral form (DDIM with eta 1: fresh noise every step, from each
sprite's own seed). ``dpm++ 2m`` is DPM-Solver++ 2M (Lu et al. 2022), second
order in log-SNR: the fewest steps for a given quality, and the default.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SAMPLER", "SAMPLERS"]

SAMPLERS = ("dpm++ 2m", "ddim", "euler", "euler-a")
DEFAULT_SAMPLER = "dpm++ 2m"
