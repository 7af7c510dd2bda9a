"""The one request type: what a user asks the generator for.

A :class:`GenerationRequest` is validated once, when it is made, and is
immutable afterwards. Its field names are the names used everywhere: CLI
flags (``--size``, ``--count``, ``--palette``...), the job protocol, MCP tool
parameters, the PNG metadata and the JSON sidecars. ``to_dict``/``from_dict``
give the plain-data form used on the wire and on disk.

>>> r = GenerationRequest(prompt="a knight with a sword", size=(32, 32), count=4, seed=7)
>>> r.seeds()
(7, 8, 9, 10)
>>> GenerationRequest.from_dict(r.to_dict()) == r
True
>>> GenerationRequest(prompt="  ")
Traceback (most recent call last):
...
dgx_pixels.errors.RequestError: prompt must not be empty
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dgx_pixels._pixel_options import BACKGROUNDS, DITHER_MODES, check_background, check_dither
from dgx_pixels.errors import RequestError

__all__ = [
    "BACKGROUNDS",
    "DEFAULT_MODEL",
    "DEFAULT_NEGATIVE",
    "DITHERS",
    "MAX_SPRITE_SIDE",
    "SEAMLESS",
    "GenerationRequest",
    "LoraRef",
]

#: The default model id: SDXL base 1.0 with the pixel-art LoRA ``nerijs/pixel-art-xl``
#: (resolved by ``dgx_pixels.engine.models``).
DEFAULT_MODEL = "pixel-art-xl"

#: What pixel art must not look like; used when the request gives no negative prompt.
DEFAULT_NEGATIVE = (
    "blurry, smooth shading, gradient, photo, photorealistic, 3d render, "
    "anti-aliasing, jpeg artifacts, noise, text, watermark, signature, "
    "cropped, out of frame, multiple views"
)

DITHERS = DITHER_MODES
#: Seamless (wrap-around) drawing along no axis, x, y or both: circular padding in the model.
SEAMLESS = ("none", "x", "y", "xy")

#: The largest sprite side we generate. SDXL draws about 1024 px; a sprite side
#: above 512 would leave fewer than two drawn pixels per sprite pixel.
MAX_SPRITE_SIDE = 512
MAX_COUNT = 64
MAX_SEED = 2**32 - 1


@dataclass(frozen=True, slots=True)
class LoraRef:
    """A LoRA to apply: a hub id, a local folder or a ``.safetensors`` file, and its weight.

    >>> LoraRef.parse("nerijs/pixel-art-xl:0.8")
    LoraRef(id='nerijs/pixel-art-xl', weight=0.8)
    >>> LoraRef.parse("C:/loras/style.safetensors").weight
    1.0
    """

    id: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise RequestError("lora id must not be empty")
        if not -4.0 <= self.weight <= 4.0:
            raise RequestError(f"lora weight must be between -4 and 4, got {self.weight}")

    @classmethod
    def parse(cls, text: str) -> LoraRef:
        """Parse ``ID[:WEIGHT]``; a colon followed by a number is a weight."""
        head, sep, tail = text.rpartition(":")
        if sep and head:
            try:
                return cls(head, float(tail))
            except ValueError:
                pass  # a colon that is part of the id, such as a Windows drive letter
        return cls(text)

    def __str__(self) -> str:
        return f"{self.id}:{self.weight:g}"


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything that decides what the generator makes.

    Sizes are of the final sprite (``size=(32, 32)`` gives 32x32 PNGs); the
    engine picks the drawing resolution from it and the model. ``seed=None``
    draws a random seed when the request is made, so a request always knows
    the seeds it will use and can be reproduced from its metadata.
    ``seamless`` draws a tile that wraps around along x, y or both (``"none"``:
    an ordinary picture).
    """

    prompt: str
    size: tuple[int, int] = (32, 32)
    count: int = 1
    seed: int | None = None
    model: str = DEFAULT_MODEL
    loras: tuple[LoraRef, ...] = ()
    steps: int = 30
    guidance: float = 6.0
    scheduler: str = "euler-a"
    negative: str | None = None
    palette: str | None = None
    dither: str = "none"
    background: str = "transparent"
    init: str | None = None
    strength: float = 0.6
    mask: str | None = None
    seamless: str = "none"
    fast: bool = False
    out: str | None = None
    #: The size the model draws at, a whole multiple of ``size``; None: the engine picks it.
    drawing_size: tuple[int, int] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here, then never again
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise RequestError("prompt must not be empty")
        set_(self, "prompt", self.prompt.strip())
        size = tuple(self.size)
        if len(size) != 2 or not all(isinstance(v, int) for v in size):
            raise RequestError(f"size must be two whole numbers (width, height), got {self.size!r}")
        for name, v in zip(("width", "height"), size, strict=True):
            if not 1 <= v <= MAX_SPRITE_SIDE:
                raise RequestError(
                    f"sprite {name} must be between 1 and {MAX_SPRITE_SIDE}, got {v}"
                )
        set_(self, "size", size)
        if not 1 <= self.count <= MAX_COUNT:
            raise RequestError(f"count must be between 1 and {MAX_COUNT}, got {self.count}")
        if self.seed is None:
            set_(self, "seed", secrets.randbelow(MAX_SEED + 1 - MAX_COUNT))
        elif not 0 <= self.seed <= MAX_SEED - (self.count - 1):
            raise RequestError(f"seed must be between 0 and {MAX_SEED}, got {self.seed}")
        if not self.model.strip():
            raise RequestError("model must not be empty")
        set_(
            self,
            "loras",
            tuple(lo if isinstance(lo, LoraRef) else LoraRef.parse(str(lo)) for lo in self.loras),
        )
        if not 1 <= self.steps <= 200:
            raise RequestError(f"steps must be between 1 and 200, got {self.steps}")
        if not 0.0 <= self.guidance <= 30.0:
            raise RequestError(f"guidance must be between 0 and 30, got {self.guidance}")
        check_dither(self.dither, error=RequestError)  # the rules PixelSpec applies too
        check_background(self.background, error=RequestError)
        if not 0.0 < self.strength <= 1.0:
            raise RequestError(f"strength must be in (0, 1], got {self.strength}")
        if self.seamless not in SEAMLESS:
            raise RequestError(
                f"seamless must be one of {', '.join(SEAMLESS)}, got {self.seamless!r}"
            )
        if self.mask is not None and self.init is None:
            raise RequestError("a mask needs an init image (--init) to paint into")
        extra = dict(self.extra)
        drawing = extra.pop("drawing_size", None)  # where requests made before the field kept it
        drawing = self.drawing_size if self.drawing_size is not None else drawing
        if drawing is not None:
            if not isinstance(drawing, (list, tuple)) or len(drawing) != 2:
                raise RequestError(f"drawing_size must be [width, height], got {drawing!r}")
            set_(self, "drawing_size", tuple(drawing))
        if self.init is not None and self.steps * self.strength < 1:  # img2img runs that many
            raise RequestError(
                f"an init image is repainted in steps x strength = {self.steps} x "
                f"{self.strength:g} = {self.steps * self.strength:g} denoising steps, under 1; "
                "raise --steps or --strength"
            )
        set_(self, "extra", extra)

    @property
    def negative_prompt(self) -> str:
        """The negative prompt in effect: the request's own or the pixel-art default."""
        return DEFAULT_NEGATIVE if self.negative is None else self.negative

    def seeds(self) -> tuple[int, ...]:
        """One seed per image: ``seed, seed + 1, ...``, so image *i* is reproducible alone."""
        assert self.seed is not None  # set in __post_init__
        return tuple(self.seed + i for i in range(self.count))

    def replace(self, **changes: Any) -> GenerationRequest:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, int, float, bool, None, list, dict) for JSON and msgpack."""
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["size"] = list(self.size)
        d["loras"] = [{"id": lo.id, "weight": lo.weight} for lo in self.loras]
        d["drawing_size"] = None if self.drawing_size is None else list(self.drawing_size)
        d["extra"] = dict(self.extra)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationRequest:
        """Build a request from :meth:`to_dict` output; unknown keys are an error."""
        if not isinstance(data, Mapping):
            raise RequestError(f"a request must be a mapping, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequestError(f"unknown request field(s): {', '.join(map(str, unknown))}")
        kwargs = dict(data)
        if "size" in kwargs:
            size = kwargs["size"]
            if not isinstance(size, (list, tuple)):
                raise RequestError(f"size must be [width, height], got {size!r}")
            kwargs["size"] = tuple(size)
        if isinstance(kwargs.get("drawing_size"), list):
            kwargs["drawing_size"] = tuple(kwargs["drawing_size"])
        if "loras" in kwargs:
            kwargs["loras"] = tuple(_lora_from_data(lo) for lo in kwargs["loras"])
        try:
            return cls(**kwargs)
        except TypeError as exc:  # a missing prompt, or a value of the wrong type
            raise RequestError(f"invalid request: {exc}") from None


def _lora_from_data(data: Any) -> LoraRef:
    if isinstance(data, Mapping):
        return LoraRef(str(data.get("id", "")), float(data.get("weight", 1.0)))
    return LoraRef.parse(str(data))
