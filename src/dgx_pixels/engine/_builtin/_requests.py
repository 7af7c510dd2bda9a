"""What a request to the built-in model may ask for, checked before anything loads.

The built-in model draws 32x32 RGBA sprites and nothing else, so a request's
options either map onto its sampler or are refused here with one line that
names the option: the CLI calls this (through ``check_request``) before it
loads a model. No torch at import.
"""

from __future__ import annotations

from PIL import Image

from dgx_pixels.engine._builtin._samplers import SAMPLERS
from dgx_pixels.engine._checks import PreparedRequest, pixel_spec
from dgx_pixels.engine._resolution import DrawingSize
from dgx_pixels.engine._schedulers import canonical_scheduler
from dgx_pixels.engine.models import ModelSpec
from dgx_pixels.errors import InputError, RequestError
from dgx_pixels.image_files import read_image
from dgx_pixels.request import GenerationRequest

__all__ = ["prepare_builtin_request"]

#: The smallest sprite side: below it the 32x32 drawing is mostly thrown away.
_MIN_SIDE = 8


def prepare_builtin_request(request: GenerationRequest, spec: ModelSpec) -> PreparedRequest:
    """Check ``request`` for the built-in model ``spec`` and read its init sprite.

    Sizes are squares whose side divides the drawing (32, 16, 8); the
    schedulers are :data:`SAMPLERS`; LoRAs, ``--fast``, negative prompts,
    masks and drawing sizes are SDXL's and refused.
    """
    side = spec.native_side
    name = spec.id
    # 1. What only SDXL has.
    if request.loras:
        raise RequestError(f"{name} takes no LoRAs (they are SDXL's)", option="lora")
    if request.fast:
        raise RequestError(
            f"--fast is SDXL's LCM LoRA; {name} is fast already (try --steps 12)", option="fast"
        )
    if request.negative is not None:
        raise RequestError(
            f"{name} has no negative prompt: its guidance is against no prompt at all",
            option="negative",
        )
    if request.mask is not None:
        raise RequestError(f"{name} does not inpaint (--mask is SDXL's)", option="mask")
    # 2. The scheduler and the size.
    scheduler = canonical_scheduler(request.scheduler)
    if scheduler not in SAMPLERS:
        raise RequestError(
            f"{name} cannot use scheduler {scheduler!r}; choose one of: {', '.join(SAMPLERS)}",
            option="scheduler",
        )
    w, h = request.size
    if w != h or side % w or w < _MIN_SIDE:
        sizes = ", ".join(str(s) for s in range(side, _MIN_SIDE - 1, -1) if side % s == 0)
        raise RequestError(
            f"size {w}x{h} cannot be drawn by {name}: it draws square sprites of side {sizes}",
            option="size",
        )
    if request.drawing_size not in (None, (side, side)):
        raise RequestError(
            f"{name} draws at {side}x{side} only, not {request.drawing_size}",
            option="drawing_size",
        )
    # 3. The pixel options and the init sprite.
    pixel_spec(request)
    init = _read_init(request, side) if request.init is not None else None
    return PreparedRequest(request, DrawingSize(side, side, side // w), scheduler, init, None)


def _read_init(request: GenerationRequest, side: int) -> Image.Image:
    """The init sprite as RGBA at the drawing size (nearest: its pixels stay crisp)."""
    assert request.init is not None  # only called for image requests
    rgba = read_image(request.init, mode="RGBA")
    iw, ih = rgba.size
    if iw != ih:
        raise InputError(
            f"init image {request.init} is {iw}x{ih}, not square like the sprite", option="init"
        )
    if rgba.size == (side, side):
        return rgba
    whole = side % iw == 0 or iw % side == 0
    resample = Image.Resampling.NEAREST if whole else Image.Resampling.LANCZOS
    return rgba.resize((side, side), resample)
