"""Noise schedule, v-prediction and the samplers of the built-in model.

Continuous time ``t`` in [0, 1] with a cosine schedule: ``x_t = a(t) x0 +
s(t) noise`` where ``a = cos(pi/2 u)``, ``s = sin(pi/2 u)`` and ``u`` keeps a
little away from both ends. The network predicts ``v = a noise - s x0``
(Salimans & Ho 2022), from which ``x0 = a x_t - s v``.

Sprites are tensors (N, 4, 32, 32) in [-1, 1], RGBA; a transparent pixel's
colour is black, so the model never has to learn colours nobody sees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from dgx_pixels.engine._builtin._samplers import DEFAULT_SAMPLER, SAMPLERS
from dgx_pixels.errors import InputError, Interrupted

__all__ = ["alpha_sigma", "from_pixels", "sample", "to_pixels", "v_target"]

_EDGE = 1e-3


def alpha_sigma(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Signal and noise scales at time ``t`` (each of ``t``'s shape)."""
    u = _EDGE + (1 - 2 * _EDGE) * t
    return torch.cos(0.5 * math.pi * u), torch.sin(0.5 * math.pi * u)


def v_target(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    a, s = (z[:, None, None, None] for z in alpha_sigma(t))
    return a * noise - s * x0


def from_pixels(rgba: np.ndarray) -> torch.Tensor:
    """uint8 sprites (N, 32, 32, 4) -> float (N, 4, 32, 32) in [-1, 1], transparent = black."""
    x = torch.from_numpy(np.array(rgba, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 127.5 - 1
    opaque = x[:, 3:4] > 0
    return torch.cat([torch.where(opaque, x[:, :3], -1.0), x[:, 3:4]], dim=1)


def to_pixels(x: torch.Tensor) -> np.ndarray:
    """Model output -> uint8 sprites (N, 32, 32, 4); alpha is cut at half (sprites are binary)."""
    scaled = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    rgba: np.ndarray = scaled.permute(0, 2, 3, 1).cpu().numpy().copy()
    opaque = rgba[..., 3] >= 128
    rgba[..., 3] = np.where(opaque, 255, 0)
    rgba[~opaque, :3] = 0
    return rgba


Denoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _log_snr(t: torch.Tensor) -> torch.Tensor:
    a, s = alpha_sigma(t)
    return torch.log(a) - torch.log(s)


@torch.inference_mode()
def sample(
    model: Denoiser,
    text: torch.Tensor,
    *,
    seeds: Sequence[int],
    steps: int = 25,
    guidance: float = 3.0,
    sampler: str = DEFAULT_SAMPLER,
    init: torch.Tensor | None = None,
    strength: float = 1.0,
    callback: Callable[[int, int, torch.Tensor], bool | None] | None = None,
) -> torch.Tensor:
    """Draw one sprite per row of ``text`` (N, 384) with ``sampler``: a seed fixes its sprite.

    ``sampler`` is one of :data:`~dgx_pixels.engine._builtin._samplers.SAMPLERS`.

    ``init`` (N, 4, 32, 32) starts from a noised sprite at time ``strength``
    (img2img): 1.0 ignores it, 0.3 keeps its shapes. ``guidance`` 1.0 is the
    conditional prediction alone; otherwise the conditional and unconditional
    predictions run as one batch. ``callback(step, total, x0)`` runs after each
    step with the current estimate of the sprites; returning True stops the run
    with :class:`~dgx_pixels.errors.Interrupted`.
    """
    n = text.shape[0]
    if len(seeds) != n:
        raise InputError(f"need one seed per prompt: {n} prompts, {len(seeds)} seeds")
    if steps < 1:
        raise InputError(f"steps must be at least 1, got {steps}")
    if not 0.0 < strength <= 1.0:
        raise InputError(f"strength must be in (0, 1], got {strength}")
    if sampler not in SAMPLERS:
        raise InputError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    device = text.device
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    noise = torch.stack([torch.randn(4, 32, 32, generator=g) for g in generators]).to(device)
    times = torch.linspace(strength, 0.0, steps + 1, device=device)
    a, s = alpha_sigma(times[:1].expand(n))
    x = (
        noise
        if init is None
        else a[:, None, None, None] * init.to(device) + s[:, None, None, None] * noise
    )
    cond = torch.zeros(n, dtype=torch.bool, device=device)
    both_text, both_drop = torch.cat([text, text]), torch.cat([cond, ~cond])
    previous: tuple[torch.Tensor, torch.Tensor] | None = None  # DPM++: (x0, step in log-SNR)
    for i in range(steps):
        t = times[i].expand(n)
        if guidance == 1.0:
            v = model(x, t, text, cond)
        else:
            v_c, v_u = model(torch.cat([x, x]), torch.cat([t, t]), both_text, both_drop).chunk(2)
            v = v_u + guidance * (v_c - v_u)
        a, s = (z[:, None, None, None] for z in alpha_sigma(t))
        x0 = (a * x - s * v).clamp(-1, 1)
        last = i == steps - 1
        if last:
            x = x0
        elif sampler == "dpm++ 2m":
            x, previous = _dpm_step(x, x0, previous, times[i], times[i + 1])
        else:
            x = _ddim_step(x, x0, a, s, times[i + 1].expand(n), generators, sampler == "euler-a")
        if callback is not None and callback(i + 1, steps, x0):
            raise Interrupted(f"stopped after step {i + 1} of {steps}", step=i + 1)
    return x


def _ddim_step(
    x: torch.Tensor,
    x0: torch.Tensor,
    a: torch.Tensor,
    s: torch.Tensor,
    t_next: torch.Tensor,
    generators: list[torch.Generator],
    ancestral: bool,
) -> torch.Tensor:
    """One DDIM step to ``t_next``; ``ancestral`` (eta 1) adds fresh per-seed noise."""
    eps = (x - a * x0) / s
    a2, s2 = (z[:, None, None, None] for z in alpha_sigma(t_next))
    if not ancestral:
        return a2 * x0 + s2 * eps
    # DDPM posterior: of the next noise s2, the part ``up`` is fresh, the rest follows eps.
    up = (s2 / s) * torch.sqrt((1 - (a / a2) ** 2).clamp(min=0))
    up = torch.minimum(up, s2)
    down = torch.sqrt((s2**2 - up**2).clamp(min=0))
    fresh = torch.stack([torch.randn(4, 32, 32, generator=g) for g in generators]).to(x.device)
    return a2 * x0 + down * eps + up * fresh


def _dpm_step(
    x: torch.Tensor,
    x0: torch.Tensor,
    previous: tuple[torch.Tensor, torch.Tensor] | None,
    t: torch.Tensor,
    t_next: torch.Tensor,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One DPM-Solver++ 2M step from ``t`` to ``t_next`` (first order on the first step)."""
    lam, lam_next = _log_snr(t), _log_snr(t_next)
    h = lam_next - lam
    _, s = alpha_sigma(t)
    a2, s2 = alpha_sigma(t_next)
    d = x0
    if previous is not None:
        x0_prev, h_prev = previous
        r = h_prev / h
        d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_prev
    return (s2 / s) * x - a2 * torch.expm1(-h) * d, (x0, h)
