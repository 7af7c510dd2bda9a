"""Everything about a request that can be checked before a model is loaded.

:func:`check_request` runs in the CLI before loading (so a bad option costs
nothing and writes nothing) and again in ``Engine.generate``; it imports no
torch. :func:`prepare_request` also returns what the run needs: the drawing
size, the scheduler name and the init and mask images scaled to the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dgx_pixels.engine._loras import check_lora_file, is_local_lora
from dgx_pixels.engine._resolution import DrawingSize, drawing_size
from dgx_pixels.engine._schedulers import canonical_scheduler
from dgx_pixels.engine.models import ModelSpec, resolve_model
from dgx_pixels.errors import InputError, RequestError
from dgx_pixels.image_files import read_image
from dgx_pixels.request import GenerationRequest, LoraRef

__all__ = ["PreparedRequest", "check_request", "effective_loras", "pixel_spec", "prepare_request"]


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A checked request with what its run needs."""

    request: GenerationRequest
    drawing: DrawingSize
    scheduler: str
    init: Image.Image | None  # RGB at drawing size
    mask: Image.Image | None  # L at drawing size, white = repaint


def check_request(request: GenerationRequest, model: ModelSpec | None = None) -> None:
    """Raise the error a run of ``request`` would meet on its inputs; load nothing.

    Checks the model id, the scheduler, that the size is reachable by the
    model, the LoRA files, the palette and the init and mask images.
    """
    prepare_request(request, model)


def prepare_request(request: GenerationRequest, model: ModelSpec | None = None) -> PreparedRequest:
    """Check ``request`` (see :func:`check_request`) and prepare its inputs."""
    spec = model or resolve_model(request.model)
    if spec.kind == "builtin":  # its own options: a 32x32 drawing, its own samplers
        from dgx_pixels.engine._builtin._requests import prepare_builtin_request

        return prepare_builtin_request(request, spec)
    # 1. Scheduler and drawing size.
    scheduler = canonical_scheduler(request.scheduler)
    drawing = drawing_size(request.size, spec, override=request.drawing_size)
    # 2. LoRAs: no repeats; local files are checked now, hub ones when fetched.
    ids = [lo.id for lo in effective_loras(request, spec)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise RequestError(f"LoRA {repeated[0]} is given more than once", option="lora")
    for lora in request.loras:
        if is_local_lora(lora.id):
            path = Path(lora.id).expanduser()
            if path.is_dir():
                continue  # the single file inside is checked when it is loaded
            check_lora_file(path, cross_attention_dim=spec.cross_attention_dim, name=lora.id)
    # 3. The pixel options (palette, dither, background), checked by the pixel toolkit.
    pixel_spec(request)
    # 4. Init and mask images.
    init = mask = None
    if request.init is not None:
        init, mask = _read_init_and_mask(request, drawing)
    return PreparedRequest(request, drawing, scheduler, init, mask)


def effective_loras(request: GenerationRequest, model: ModelSpec) -> tuple[LoraRef, ...]:
    """The LoRAs a run applies: the model's own, the fast LoRA if asked for, the request's."""
    fast = (LoraRef(model.fast_lora),) if request.fast and model.fast_lora else ()
    return (*model.loras, *fast, *request.loras)


def pixel_spec(request: GenerationRequest, seed: int = 0) -> Any:
    """The pixel toolkit's spec for ``request``: sprite size, palette, dither, background.

    ``seed`` is the image's seed, so an ``auto:N`` palette is extracted reproducibly.
    """
    from dgx_pixels.pixel.spec import PixelSpec

    return PixelSpec(
        size=request.size,
        palette=request.palette,
        dither=request.dither,
        background=request.background,
        seed=seed,
    )


def _read_init_and_mask(
    request: GenerationRequest, drawing: DrawingSize
) -> tuple[Image.Image, Image.Image | None]:
    assert request.init is not None  # only called for image requests
    w, h = request.size
    # 1. The init image: any size of the sprite's shape; transparency becomes white.
    rgba = read_image(request.init, mode="RGBA")
    iw, ih = rgba.size
    if iw * h != ih * w:
        raise InputError(
            f"init image {request.init} is {iw}x{ih}, not the shape of the {w}x{h} sprite",
            option="init",
        )
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    init = _scaled(flat.convert("RGB"), drawing)
    # 2. The mask: the init image's size exactly; white is repainted.
    if request.mask is None:
        return init, None
    mask_img = read_image(request.mask, mode="L")
    if mask_img.size != rgba.size:
        mw, mh = mask_img.size
        raise InputError(
            f"mask {request.mask} is {mw}x{mh} but the init image is {iw}x{ih}", option="mask"
        )
    return init, _scaled(mask_img, drawing)


def _scaled(image: Image.Image, drawing: DrawingSize) -> Image.Image:
    """``image`` at the drawing size: nearest for whole multiples (crisp pixels), else Lanczos."""
    target = (drawing.width, drawing.height)
    if image.size == target:
        return image
    whole = drawing.width % image.width == 0 and drawing.height % image.height == 0
    resample = Image.Resampling.NEAREST if whole else Image.Resampling.LANCZOS
    return image.resize(target, resample)
