"""A cheap preview of SDXL latents: a linear map from 4 latent channels to RGB.

The factors are the least-squares fit of SDXL's VAE used by ComfyUI's latent
previews; one 4x3 matrix product per latent pixel, no VAE decode.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

__all__ = ["latent_preview"]

_SDXL_LATENT_RGB = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
_SDXL_LATENT_BIAS = (0.1084, -0.0175, -0.0011)


def latent_preview(latents: Any, index: int = 0) -> Image.Image:
    """An RGB image, one pixel per latent pixel, of image ``index`` in a latent batch."""
    import torch

    lat = latents[index].detach().to(dtype=torch.float32)
    factors = torch.tensor(_SDXL_LATENT_RGB, dtype=torch.float32, device=lat.device)
    bias = torch.tensor(_SDXL_LATENT_BIAS, dtype=torch.float32, device=lat.device)
    rgb = torch.einsum("chw,cr->hwr", lat[: factors.shape[0]], factors) + bias
    pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).cpu().numpy()
    return Image.fromarray(pixels, "RGB")
