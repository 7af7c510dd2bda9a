"""Seamless drawing on random:sdxl-tiny: circular padding makes the model shift-equivariant,
exactly, and is switched on for one run only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from dgx_pixels.engine import Engine, circular_padding
from dgx_pixels.errors import RequestError
from dgx_pixels.request import GenerationRequest

MakeRequest = Callable[..., GenerationRequest]
SIDE = 32  # drawing pixels


def draw(engine: Engine, latents: object, seamless: str) -> np.ndarray:
    """The tiny pipeline's drawing from fixed initial latents with DDIM (no noise added)."""
    import torch
    from diffusers import DDIMScheduler

    pipe = engine.pipeline
    pipe.scheduler = DDIMScheduler.from_config(engine.base_scheduler_config)
    with torch.inference_mode(), circular_padding([pipe.unet, pipe.vae], seamless):
        out = pipe(
            prompt="a mossy cobblestone floor",
            num_inference_steps=2,
            guidance_scale=3.0,
            latents=latents,
            height=SIDE,
            width=SIDE,
            output_type="np",
        )
    return np.asarray(out.images[0], dtype=np.float64)


@pytest.fixture(scope="module")
def factors(tiny_engine: Engine) -> tuple[int, int]:
    """The UNet's downsampling factor (latent cells per step of equivariance) and the VAE's."""
    pipe = tiny_engine.pipeline
    unet = 2 ** (len(pipe.unet.config.block_out_channels) - 1)
    vae = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    return unet, vae


def test_rolling_the_latents_rolls_the_drawing(
    tiny_engine: Engine, factors: tuple[int, int]
) -> None:
    import torch

    unet, vae = factors
    dy, dx = 1 * unet, 3 * unet  # whole multiples of the UNet's downsampling
    side = SIDE // vae
    latents = torch.randn((1, 4, side, side), generator=torch.Generator().manual_seed(5))
    rolled = torch.roll(latents, shifts=(dy, dx), dims=(2, 3))
    shift = (dy * vae, dx * vae)
    on = draw(tiny_engine, latents, "xy")
    assert np.abs(draw(tiny_engine, rolled, "xy") - np.roll(on, shift, axis=(0, 1))).max() < 1e-4
    # x only: a roll along x rolls the drawing, a roll along y does not.
    x_on = draw(tiny_engine, latents, "x")
    x_rolled = draw(tiny_engine, torch.roll(latents, dx, dims=3), "x")
    assert np.abs(x_rolled - np.roll(x_on, shift[1], axis=1)).max() < 1e-4
    y_rolled = draw(tiny_engine, torch.roll(latents, dy, dims=2), "x")
    assert np.abs(y_rolled - np.roll(x_on, shift[0], axis=0)).max() > 1e-2
    # Without the mode no roll rolls the drawing.
    off = draw(tiny_engine, latents, "none")
    assert np.abs(draw(tiny_engine, rolled, "none") - np.roll(off, shift, axis=(0, 1))).max() > 1e-2


def test_only_the_run_wraps(tiny_engine: Engine, make_request: MakeRequest) -> None:
    request = make_request("a mossy cobblestone floor", background="keep")
    [before] = tiny_engine.generate([request])
    [tile] = tiny_engine.generate([request.replace(seamless="xy")])
    [after] = tiny_engine.generate([request])
    raw_before, raw_after = (np.asarray(r.images[0].raw) for r in (before, after))
    assert np.array_equal(raw_before, raw_after)  # the warm pipeline is unchanged
    assert not np.array_equal(np.asarray(tile.images[0].raw), raw_before)
    assert tile.images[0].sprite.size == (16, 16)
    assert tile.request.seamless == "xy"
    convs = [m for m in tiny_engine.pipeline.unet.modules() if "_conv_forward" in vars(m)]
    assert convs == []


def test_a_seamless_batch_is_its_own_batch(tiny_engine: Engine, make_request: MakeRequest) -> None:
    plain, tile = make_request(), make_request(seamless="x")
    assert tiny_engine.batch_key(plain) != tiny_engine.batch_key(tile)
    with pytest.raises(RequestError, match="seamless must be one of none, x, y, xy, got 'z'"):
        make_request(seamless="z")
