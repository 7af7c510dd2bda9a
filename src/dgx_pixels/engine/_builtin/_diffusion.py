"""Noise schedule, v-prediction and the deterministic DDIM sampler of the built-in model.

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


@torch.inference_mode()
def sample(
    model: Denoiser,
    text: torch.Tensor,
    *,
    seeds: Sequence[int],
    steps: int = 25,
    guidance: float = 3.0,
    init: torch.Tensor | None = None,
    strength: float = 1.0,
    callback: Callable[[int, int], bool | None] | None = None,
) -> torch.Tensor:
    """Draw one sprite per row of ``text`` (N, 384) by DDIM (eta 0): a seed fixes its sprite.

    ``init`` (N, 4, 32, 32) starts from a noised sprite at time ``strength``
    (img2img): 1.0 ignores it, 0.3 keeps its shapes. ``guidance`` 1.0 is the
    conditional prediction alone. ``callback(step, total)`` runs after each
    step; returning True stops the run with :class:`~dgx_pixels.errors.Interrupted`.
    """
    n = text.shape[0]
    if len(seeds) != n:
        raise InputError(f"need one seed per prompt: {n} prompts, {len(seeds)} seeds")
    if steps < 1:
        raise InputError(f"steps must be at least 1, got {steps}")
    if not 0.0 < strength <= 1.0:
        raise InputError(f"strength must be in (0, 1], got {strength}")
    device = text.device
    noise = torch.stack(
        [torch.randn(4, 32, 32, generator=torch.Generator().manual_seed(s)) for s in seeds]
    ).to(device)
    times = torch.linspace(strength, 0.0, steps + 1, device=device)
    a, s = alpha_sigma(times[:1].expand(n))
    x = (
        noise
        if init is None
        else a[:, None, None, None] * init.to(device) + s[:, None, None, None] * noise
    )
    cond = torch.zeros(n, dtype=torch.bool, device=device)
    for i in range(steps):
        t = times[i].expand(n)
        if guidance == 1.0:
            v = model(x, t, text, cond)
        else:
            both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([text, text]),
                         torch.cat([cond, ~cond]))  # fmt: skip
            v_c, v_u = both.chunk(2)
            v = v_u + guidance * (v_c - v_u)
        a, s = (z[:, None, None, None] for z in alpha_sigma(t))
        x0 = (a * x - s * v).clamp(-1, 1)
        if i == steps - 1:
            x = x0
        else:
            eps = (x - a * x0) / s
            a2, s2 = (z[:, None, None, None] for z in alpha_sigma(times[i + 1].expand(n)))
            x = a2 * x0 + s2 * eps
        if callback is not None and callback(i + 1, steps):
            raise Interrupted(f"stopped after step {i + 1} of {steps}", step=i + 1)
    return x
