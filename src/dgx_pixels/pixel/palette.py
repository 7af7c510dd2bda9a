"""Palettes: the built-in ones, Lospec palette files, and palettes named on a command line.

A :class:`Palette` is a name and an ``(n, 3)`` uint8 array of sRGB colours. It
is *locked* when its colours are final (a built-in, a file, an inline list or
one locked on purpose): mapping an image onto a locked palette uses exactly
those colours, so a batch mapped onto one locked palette shares it exactly.
A palette extracted from one image (:func:`dgx_pixels.pixel.quantize.extract_palette`)
is unlocked until :meth:`Palette.lock` is called.

Built-in palettes (exact published values, in ``pixel/palettes/*.hex``):
``pico-8`` (16, Lexaloffle), ``db16`` and ``db32`` (DawnBringer), ``endesga-32``
and ``endesga-64`` (Endesga), ``aap-64`` (Adigun A. Polack), ``sweetie-16``
(GrafxKid), ``nes`` (55, the Lospec NES palette) and ``gameboy`` (4 greens of
the original DMG screen).

Files: Lospec ``.hex`` (one ``rrggbb`` per line), GIMP ``.gpl`` and JASC ``.pal``.

>>> p = builtin_palette("pico-8")
>>> len(p), p.hex_codes()[:2], p.locked
(16, ['#000000', '#1d2b53'], True)
>>> resolve_palette("#000000,#ffffff").hex_codes()
['#000000', '#ffffff']
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from dgx_pixels.errors import InputError, PaletteError
from dgx_pixels.image_files import write_atomic
from dgx_pixels.pixel._arrays import U8, check_image, opaque_mask, rgba_array
from dgx_pixels.pixel.color import Float, srgb_to_oklab, to_float_rgb

__all__ = [
    "FILE_FORMATS",
    "MAX_COLOURS",
    "Palette",
    "builtin_names",
    "builtin_palette",
    "palette_from_image",
    "parse_auto",
    "resolve_palette",
]

#: The most colours a palette may have (the size of an indexed PNG's palette).
MAX_COLOURS = 256
#: File suffixes :meth:`Palette.load` and :meth:`Palette.save` understand.
FILE_FORMATS = (".hex", ".gpl", ".pal")

_ALIASES = {
    "pico8": "pico-8",
    "dawnbringer16": "db16",
    "dawnbringer32": "db32",
    "endesga32": "endesga-32",
    "edg32": "endesga-32",
    "endesga64": "endesga-64",
    "edg64": "endesga-64",
    "aap64": "aap-64",
    "sweetie16": "sweetie-16",
    "gb": "gameboy",
    "dmg": "gameboy",
}
_HEX_RE = re.compile(r"#?([0-9a-fA-F]{6})")
_AUTO_RE = re.compile(r"auto:(\S+)")


@dataclass(frozen=True, eq=False, init=False)
class Palette:
    """A named, ordered set of sRGB colours.

    Parameters
    ----------
    name : str
        A short name (a built-in's name, a file's stem, ``"auto-8"``...).
    colors : array-like of shape (n, 3)
        The colours as 0..255 integers (a list of tuples, an array); stored as
        a read-only uint8 copy.
    locked : bool
        True when the colours are final and shared by a batch (see the module doc).

    Examples
    --------
    >>> p = Palette("two", [[0, 0, 0], [255, 255, 255]])
    >>> len(p), p.colors.dtype.name, p.locked
    (2, 'uint8', True)
    >>> p == Palette("other", [(0, 0, 0), (255, 255, 255)])
    True
    """

    name: str
    colors: U8
    locked: bool
    _oklab: Float = field(repr=False, compare=False)

    def __init__(self, name: str, colors: ArrayLike, locked: bool = True) -> None:
        raw = np.asarray(colors)
        if raw.ndim != 2 or raw.shape[1:] != (3,):
            raise PaletteError(f"palette {name!r}: colours must have shape (n, 3), got {raw.shape}")
        if not 1 <= raw.shape[0] <= MAX_COLOURS:
            raise PaletteError(
                f"palette {name!r} has {raw.shape[0]} colours; it needs 1 to {MAX_COLOURS}"
            )
        if raw.dtype != np.uint8 and (raw.min() < 0 or raw.max() > 255):
            raise PaletteError(f"palette {name!r}: colour values must be within 0..255")
        rgb = raw.astype(np.uint8)  # always a copy, never a view of the caller's array
        rgb.setflags(write=False)
        lab = srgb_to_oklab(to_float_rgb(rgb))
        lab.setflags(write=False)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "colors", rgb)
        object.__setattr__(self, "locked", bool(locked))
        object.__setattr__(self, "_oklab", lab)

    def __len__(self) -> int:
        return int(self.colors.shape[0])

    def __eq__(self, other: object) -> bool:
        """Palettes are equal when they hold the same colours in the same order."""
        if not isinstance(other, Palette):
            return NotImplemented
        return bool(np.array_equal(self.colors, other.colors))

    def __hash__(self) -> int:
        return hash(self.colors.tobytes())

    @property
    def oklab(self) -> Float:
        """The colours in OKLab, shape ``(n, 3)`` (read-only)."""
        return self._oklab

    def hex_codes(self) -> list[str]:
        """The colours as ``#rrggbb`` strings."""
        return ["#{:02x}{:02x}{:02x}".format(*(int(v) for v in c)) for c in self.colors]

    def lock(self) -> Palette:
        """A locked copy: the palette a whole batch is mapped onto."""
        return Palette(self.name, self.colors, locked=True)

    def to_spec(self) -> str:
        """The palette as one inline string ``"#rrggbb,#rrggbb,..."`` that
        :func:`resolve_palette` reads back exactly (for a ``PixelSpec``).

        >>> Palette("bw", [(0, 0, 0), (255, 255, 255)]).to_spec()
        '#000000,#ffffff'
        """
        return ",".join(self.hex_codes())

    # -- files -------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Palette:
        """Read a ``.hex``, ``.gpl`` or ``.pal`` (JASC) palette file.

        Raises :class:`~dgx_pixels.errors.PaletteError` naming the file (and the
        line, for a line that is not a colour).
        """
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix not in FILE_FORMATS:
            raise PaletteError(
                f"{p}: unknown palette file type {suffix or '(none)'!r}; "
                f"use one of {', '.join(FILE_FORMATS)}",
                path=str(p),
            )
        if not p.is_file():
            raise PaletteError(f"{p}: no such palette file", path=str(p))
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PaletteError(f"{p}: cannot read palette file ({exc})", path=str(p)) from None
        parser = {".hex": _parse_hex, ".gpl": _parse_gpl, ".pal": _parse_pal}[suffix]
        name, colors = parser(text, p)
        if not colors:
            raise PaletteError(f"{p}: palette file holds no colours", path=str(p))
        if len(colors) > MAX_COLOURS:
            raise PaletteError(
                f"{p}: palette has {len(colors)} colours, more than {MAX_COLOURS}", path=str(p)
            )
        return cls(name or p.stem, np.array(colors, dtype=np.uint8), locked=True)

    def dumps(self, fmt: str) -> str:
        """The palette as the text of a ``.hex``, ``.gpl`` or ``.pal`` file.

        >>> print(Palette("bw", [(0, 0, 0), (255, 255, 255)]).dumps(".pal"))
        JASC-PAL
        0100
        2
        0 0 0
        255 255 255
        <BLANKLINE>
        """
        fmt = fmt.lower() if fmt.startswith(".") else "." + fmt.lower()
        rows = [tuple(int(v) for v in c) for c in self.colors]
        if fmt == ".hex":
            return "".join(f"{r:02x}{g:02x}{b:02x}\n" for r, g, b in rows)
        if fmt == ".gpl":
            head = f"GIMP Palette\nName: {self.name}\nColumns: 8\n#\n"
            return head + "".join(
                f"{r:3d} {g:3d} {b:3d}\t#{r:02x}{g:02x}{b:02x}\n" for r, g, b in rows
            )
        if fmt == ".pal":
            return f"JASC-PAL\n0100\n{len(rows)}\n" + "".join(f"{r} {g} {b}\n" for r, g, b in rows)
        raise PaletteError(f"unknown palette format {fmt!r}; use one of {', '.join(FILE_FORMATS)}")

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the palette atomically; the suffix (.hex, .gpl, .pal) picks the format."""
        p = Path(path)
        if p.suffix.lower() not in FILE_FORMATS:
            raise PaletteError(
                f"{p}: cannot save a palette as {p.suffix or '(no suffix)'!r}; "
                f"use one of {', '.join(FILE_FORMATS)}",
                path=str(p),
            )
        return write_atomic(self.dumps(p.suffix).encode("utf-8"), p, force=force)


# -- parsers ------------------------------------------------------------------------------------


def _junk(path: Path, lineno: int, line: str, expected: str) -> PaletteError:
    shown = line.strip()
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return PaletteError(
        f"{path}:{lineno}: not a palette colour: {shown!r} (expected {expected})",
        path=str(path),
        line=lineno,
    )


def _parse_hex(text: str, path: Path) -> tuple[str, list[tuple[int, int, int]]]:
    colors = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        m = _HEX_RE.fullmatch(s)
        if m is None:
            raise _junk(path, lineno, line, "rrggbb")
        v = m.group(1)
        colors.append((int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)))
    return "", colors


def _rgb_triplet(parts: Sequence[str]) -> tuple[int, int, int] | None:
    try:
        r, g, b = (int(x) for x in parts)
    except ValueError:
        return None
    if not all(0 <= v <= 255 for v in (r, g, b)):
        return None
    return r, g, b


def _parse_gpl(text: str, path: Path) -> tuple[str, list[tuple[int, int, int]]]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "GIMP Palette":
        first = lines[0] if lines else ""
        raise _junk(path, 1, first, "the header 'GIMP Palette'")
    name = ""
    colors = []
    for lineno, line in enumerate(lines[1:], start=2):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("Name:"):
            name = s.removeprefix("Name:").strip()
            continue
        if s.startswith("Columns:"):
            continue
        rgb = _rgb_triplet(s.split()[:3])
        if rgb is None:
            raise _junk(path, lineno, line, "'R G B [name]' with values 0..255")
        colors.append(rgb)
    return name, colors


def _parse_pal(text: str, path: Path) -> tuple[str, list[tuple[int, int, int]]]:
    lines = text.splitlines()
    if len(lines) < 3 or lines[0].strip() != "JASC-PAL":
        raise _junk(path, 1, lines[0] if lines else "", "the header 'JASC-PAL'")
    if lines[1].strip() != "0100":
        raise _junk(path, 2, lines[1], "the version '0100'")
    try:
        count = int(lines[2].strip())
    except ValueError:
        raise _junk(path, 3, lines[2], "the number of colours") from None
    colors = []
    for lineno, line in enumerate(lines[3:], start=4):
        s = line.strip()
        if not s:
            continue
        parts = s.split()
        rgb = _rgb_triplet(parts[:3]) if len(parts) in (3, 4) else None
        if rgb is None:
            raise _junk(path, lineno, line, "'R G B' with values 0..255")
        colors.append(rgb)
    if len(colors) != count:
        raise PaletteError(
            f"{path}: header says {count} colours but the file lists {len(colors)}",
            path=str(path),
        )
    return "", colors


# -- built-ins and names ------------------------------------------------------------------------


@functools.cache
def builtin_names() -> tuple[str, ...]:
    """The names of the built-in palettes, sorted.

    >>> "sweetie-16" in builtin_names()
    True
    """
    folder = resources.files("dgx_pixels.pixel") / "palettes"
    return tuple(sorted(f.name[:-4] for f in folder.iterdir() if f.name.endswith(".hex")))


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@functools.cache
def builtin_palette(name: str) -> Palette:
    """A built-in palette by name (case, spaces, ``-`` and ``_`` do not matter).

    >>> builtin_palette("Endesga 32").name, len(builtin_palette("gameboy"))
    ('endesga-32', 4)
    """
    by_key = {_normalise(n): n for n in builtin_names()}
    key = _normalise(name)
    canonical = by_key.get(key) or _ALIASES.get(key)
    if canonical is None:
        raise PaletteError(_unknown_message(name), palette=name)
    text = (resources.files("dgx_pixels.pixel") / "palettes" / f"{canonical}.hex").read_text()
    _, colors = _parse_hex(text, Path(f"{canonical}.hex"))
    return Palette(canonical, np.array(colors, dtype=np.uint8), locked=True)


def _unknown_message(name: str) -> str:
    candidates = {_normalise(n): n for n in builtin_names()}
    candidates.update({k: v for k, v in _ALIASES.items()})
    close = difflib.get_close_matches(_normalise(name), list(candidates), n=3, cutoff=0.5)
    hint = sorted({candidates[c] for c in close})
    msg = f"unknown palette {name!r}"
    if hint:
        msg += f"; did you mean {' or '.join(repr(h) for h in hint)}?"
    return msg + " (run 'dgx-pixels palette list', or give a .hex/.gpl/.pal file or auto:N)"


def parse_auto(text: str) -> int | None:
    """``"auto:N"`` -> N (checked: 2..256); any other text -> None.

    >>> parse_auto("auto:8"), parse_auto("pico-8")
    (8, None)
    """
    m = _AUTO_RE.fullmatch(text.strip())
    if m is None:
        return None
    try:
        n = int(m.group(1))
    except ValueError:
        raise PaletteError(
            f"auto palette size must be a whole number, got {m.group(1)!r}"
        ) from None
    if not 2 <= n <= MAX_COLOURS:
        raise PaletteError(f"auto palette size must be 2 to {MAX_COLOURS}, got {n}")
    return n


def resolve_palette(text: str) -> Palette:
    """A palette from a built-in name, a palette file path, or an inline colour list.

    ``auto:N`` is not a palette yet (it needs an image): see
    :func:`dgx_pixels.pixel.quantize.extract_palette`.

    >>> resolve_palette("db16").name
    'db16'
    >>> try:
    ...     resolve_palette("sweety-16")
    ... except PaletteError as e:
    ...     print(str(e).split(";")[1].split("?")[0])
     did you mean 'sweetie-16'
    """
    s = text.strip()
    if not s:
        raise PaletteError("palette name is empty")
    if parse_auto(s) is not None:
        raise PaletteError(f"{s!r} is extracted from an image; it cannot be loaded by name")
    p = Path(s)
    if p.suffix.lower() in FILE_FORMATS:
        return Palette.load(p)
    if s.startswith("#") or "," in s:
        return _inline(s)
    if p.exists():
        return Palette.load(p)
    return builtin_palette(s)


def _inline(text: str) -> Palette:
    colors = []
    for part in text.split(","):
        m = _HEX_RE.fullmatch(part.strip())
        if m is None:
            raise PaletteError(f"not a hex colour in the palette list: {part.strip()!r}")
        v = m.group(1)
        colors.append((int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)))
    return Palette("inline", np.array(colors, dtype=np.uint8), locked=True)


def palette_from_image(image: Image.Image, *, max_colors: int = MAX_COLOURS) -> Palette:
    """The exact colours of an image's opaque pixels, most used first.

    For a pixel-art image (a palette swatch, a sprite) this *is* its palette.
    An image with more than ``max_colors`` colours is refused: extract a
    palette from it instead (:func:`dgx_pixels.pixel.quantize.extract_palette`).

    >>> img = Image.new("RGB", (3, 1), (255, 0, 0))
    >>> img.putpixel((0, 0), (0, 0, 255))
    >>> palette_from_image(img).hex_codes()
    ['#ff0000', '#0000ff']
    """
    check_image(image)
    if not 1 <= max_colors <= MAX_COLOURS:
        raise InputError(f"max_colors must be 1 to {MAX_COLOURS}, got {max_colors}")
    rgba = rgba_array(image)
    rgb = rgba[..., :3][opaque_mask(rgba)]
    if rgb.size == 0:
        raise PaletteError("image has no opaque pixels to take a palette from")
    uniq, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
    if len(uniq) > max_colors:
        raise PaletteError(
            f"image has {len(uniq)} colours, more than {max_colors}; "
            f"extract a palette of N colours from it instead (auto:N)"
        )
    order = np.argsort(-counts, kind="stable")  # most used first; ties in colour order
    return Palette("image", uniq[order], locked=True)
