"""What an output says about itself: our JSON, A1111's ``parameters`` text, and reading them back.

The same JSON document is the ``.json`` sidecar (with the output files'
hashes) and, without the hashes, the ``dgx-pixels`` text chunk of each PNG.
The ``parameters`` chunk follows AUTOMATIC1111's layout so existing tools
(A1111's PNG info, ComfyUI, image boards) show the prompt and settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dgx_pixels.engine._schedulers import A1111_NAMES
from dgx_pixels.engine._types import GenerationResult
from dgx_pixels.errors import InputError
from dgx_pixels.image_files import read_image
from dgx_pixels.request import GenerationRequest

__all__ = [
    "FORMAT",
    "PNG_KEY",
    "a1111_parameters",
    "image_metadata",
    "read_metadata",
    "request_from_metadata",
]

#: The format tag of our metadata documents.
FORMAT = "dgx-pixels/1"
#: The PNG text chunk holding our JSON.
PNG_KEY = "dgx-pixels"


def image_metadata(result: GenerationResult, index: int) -> dict[str, Any]:
    """The metadata document of image ``index`` of ``result`` (without file hashes)."""
    image = result.images[index]
    return {
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": image.seed,
        "index": index,
        "request": result.request.to_dict(),
        "model": result.model,
        "loras": [lo.to_dict() for lo in result.loras],
        "scheduler": result.scheduler,
        "drawing_size": list(result.drawing_size),
        "factor": result.factor,
        "sprite_size": list(image.sprite.size),
        "pixel_spec": dict(result.pixel_spec),
        "device": result.device,
        "dtype": result.dtype,
        "versions": dict(result.versions),
        "timings": result.timings.to_dict(),
    }


def a1111_parameters(result: GenerationResult, index: int) -> str:
    """The A1111-style ``parameters`` text of image ``index``.

    Three parts: the prompt (LoRAs as ``<lora:name:weight>`` tags), the
    negative prompt, and a ``Key: value`` settings line.
    """
    request = result.request
    tags = "".join(f" <lora:{Path(lo.file).stem}:{lo.weight:g}>" for lo in result.loras)
    width, height = result.drawing_size
    settings = [
        f"Steps: {request.steps}",
        f"Sampler: {A1111_NAMES.get(result.scheduler, result.scheduler)}",
        f"CFG scale: {request.guidance:g}",
        f"Seed: {result.images[index].seed}",
        f"Size: {width}x{height}",
        f"Model: {result.model.get('id', request.model)}",
    ]
    if "sha256" in result.model:
        settings.append(f"Model hash: {str(result.model['sha256'])[:10]}")
    if request.init is not None:
        settings.append(f"Denoising strength: {request.strength:g}")
    if result.loras:
        hashes = ", ".join(f"{Path(lo.file).stem}: {lo.sha256[:12]}" for lo in result.loras)
        settings.append(f'Lora hashes: "{hashes}"')
    settings.append(f"Version: dgx-pixels {result.versions.get('dgx_pixels', '')}")
    return f"{request.prompt}{tags}\nNegative prompt: {request.negative_prompt}\n" + ", ".join(
        settings
    )


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an output, from its ``.json`` sidecar or its PNG's text chunk."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        if not p.is_file():
            raise InputError(f"{p}: no such file", path=str(p))
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{p}: not a readable JSON file ({exc})", path=str(p)) from None
    else:
        image = read_image(p)
        text = image.info.get(PNG_KEY)
        if not isinstance(text, str):
            raise InputError(
                f"{p}: has no dgx-pixels metadata (not made by dgx-pixels?)", path=str(p)
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: its dgx-pixels metadata is not JSON ({exc})") from None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT or "request" not in data:
        raise InputError(f"{p}: not dgx-pixels output metadata (format {FORMAT})", path=str(p))
    return dict(data)


def request_from_metadata(metadata: Mapping[str, Any]) -> GenerationRequest:
    """The request that reproduces one output: its request with that image's seed, count 1.

    An ``auto:N`` palette becomes the exact colours the output's batch shared,
    so the image made again alone has the palette it had in its batch.
    """
    request = GenerationRequest.from_dict(metadata["request"])
    seed = metadata.get("seed", request.seed)
    if not isinstance(seed, int):
        raise InputError(f"metadata seed must be a whole number, got {seed!r}")
    changes: dict[str, Any] = {"seed": seed, "count": 1}
    spec = metadata.get("pixel_spec")
    if request.palette is not None and isinstance(spec, Mapping):
        locked = spec.get("palette")
        if isinstance(locked, str) and locked != request.palette:
            changes["palette"] = locked
    return request.replace(**changes)
