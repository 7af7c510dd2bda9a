"""The values pixel-art options take, defined once for GenerationRequest and PixelSpec.

Light on purpose (no NumPy, no Pillow): ``request.py`` is imported by
``--help`` paths, and ``pixel/`` builds on the same rules, so a value the
request accepts is one the pixel pipeline accepts, with the same message.

>>> parse_hex_colour("#ff8000"), parse_hex_colour("0f0")
((255, 128, 0), (0, 255, 0))
>>> check_background("#abc"), check_background("keep")
('#abc', 'keep')
>>> check_dither("dots")
Traceback (most recent call last):
...
dgx_pixels.errors.InputError: dither must be one of none, ordered, error-diffusion, got 'dots'
"""

from __future__ import annotations

from dgx_pixels.errors import InputError

__all__ = [
    "BACKGROUNDS",
    "DITHER_MODES",
    "check_background",
    "check_dither",
    "check_outline",
    "parse_hex_colour",
]

#: Dithering when mapping onto a palette.
DITHER_MODES = ("none", "ordered", "error-diffusion")
#: Backgrounds by name; any hex colour (see :func:`parse_hex_colour`) is one too.
BACKGROUNDS = ("transparent", "keep")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_hex_colour(text: str) -> tuple[int, int, int]:
    """``"#1a2b3c"`` or ``"1a2b3c"`` (or 3-digit ``"#abc"``) -> ``(r, g, b)``.

    Raises :class:`InputError` for anything else.
    """
    s = text.strip().removeprefix("#") if isinstance(text, str) else ""
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    if len(s) != 6 or not set(s) <= _HEX_DIGITS:
        raise InputError(f"not a hex colour: {text!r} (expected #rrggbb)")
    return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)


def check_dither(value: str, *, error: type[InputError] = InputError) -> str:
    """``value`` if it is one of :data:`DITHER_MODES`, else ``error`` naming it."""
    if value not in DITHER_MODES:
        raise error(
            f"dither must be one of {', '.join(DITHER_MODES)}, got {value!r}", option="dither"
        )
    return value


def check_background(value: str, *, error: type[InputError] = InputError) -> str:
    """``value`` if it is ``transparent``, ``keep`` or a hex colour, else ``error``."""
    if value in BACKGROUNDS:
        return value
    try:
        parse_hex_colour(value)
    except InputError:
        raise error(
            f"background must be transparent, keep or a colour like #1a1c2c, got {value!r}",
            option="background",
        ) from None
    return value


def check_outline(value: str, *, error: type[InputError] = InputError) -> str:
    """``value`` if it is ``darker`` or a hex colour, else ``error``."""
    if value == "darker":
        return value
    try:
        parse_hex_colour(value)
    except InputError:
        raise error(
            f"outline must be 'darker' or '#rrggbb', got {value!r}", option="outline"
        ) from None
    return value
