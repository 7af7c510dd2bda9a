"""Option parsing shared by the commands (a size given as ``32`` or ``32x48``).

Bad values raise :class:`~dgx_pixels.errors.InputError`, so the command line
prints one clear line and exits with code 2 (click's own usage errors print a
usage block as well).

>>> parse_size("32"), parse_size("32x48"), parse_size(" 8 X 4 ")
((32, 32), (32, 48), (8, 4))
"""

from __future__ import annotations

import re

from dgx_pixels.errors import InputError

__all__ = ["parse_size"]

_SIZE = re.compile(r"\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*")


def parse_size(text: str, *, option: str = "--size") -> tuple[int, int]:
    """``"32"`` -> ``(32, 32)``; ``"32x48"`` -> ``(32, 48)`` (width x height).

    >>> parse_size("0x8")
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: --size must be at least 1x1, got 0x8
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise InputError(f"{option} must look like 32 or 32x48, got {text!r}", option=option)
    width = int(match.group(1))
    height = int(match.group(2) or width)
    if width < 1 or height < 1:
        raise InputError(f"{option} must be at least 1x1, got {width}x{height}", option=option)
    return width, height
