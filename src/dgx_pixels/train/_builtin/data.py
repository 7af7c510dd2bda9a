"""The training set of the built-in model: DCSS sprites, their captions, a tensor cache.

A sprite's caption comes from its path (``item/weapon/long_sword1.png`` ->
"long sword, weapon, item") and its colours from its pixels; each sprite gets
:data:`CAPTION_VARIANTS` captions, so the model sees several ways of asking
for the same thing. Sampling is balanced across categories (the first two
folders: ``item/weapon``), because the set has hundreds of walls and three
long swords.

The cache is one safetensors file: the pixels (uint8), one MiniLM sentence
embedding per caption variant (float16), the category of each sprite and
whether it is held out. Training reads only the cache, so a GPU machine needs
neither the PNGs nor the text encoder.

>>> caption_from_path("item/weapon/long_sword1.png")
'long sword, weapon, item'
>>> category_of("dngn/wall/abyss/abyss_lightblue5.png")
'dngn/wall'
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dgx_pixels.errors import ImageReadError, InputError
from dgx_pixels.image_files import read_image

__all__ = [
    "CAPTION_VARIANTS",
    "MAX_SPRITES",
    "SPRITE_SIZE",
    "SpriteSet",
    "caption_from_path",
    "caption_variants",
    "category_of",
    "colour_words",
    "load_cache",
    "read_sprites",
    "sampling_weights",
    "write_cache",
]

SPRITE_SIZE = 32
CAPTION_VARIANTS = 4
#: The most sprites one folder may give (DCSS has about 5,700 of 32x32).
MAX_SPRITES = 50_000
#: What the top folder of a DCSS path means, in words a prompt would use.
TOP_WORDS = {
    "dngn": "dungeon",
    "mon": "monster",
    "item": "item",
    "player": "player",
    "gui": "icon",
    "effect": "effect",
    "misc": "misc",
}


def _words(part: str) -> str:
    """'long_sword1' -> 'long sword'; digits and separators go."""
    text = re.sub(r"[0-9]+", " ", part.lower().replace("_", " ").replace("-", " "))
    return " ".join(text.split())


def category_of(rel: str) -> str:
    """The category of a sprite: its first two folders (or one, if it has only one)."""
    parts = Path(rel).parts[:-1]
    return "/".join(parts[:2]) if parts else "."


def caption_from_path(rel: str) -> str:
    """Name first, then the folders from the nearest to the top, without repeats."""
    parts = Path(rel).parts
    words: list[str] = []
    for i, part in enumerate([Path(rel).stem, *reversed(parts[:-1])]):
        w = TOP_WORDS.get(part, _words(part)) if i == len(parts) - 1 else _words(part)
        if w and w not in words:
            words.append(w)
    return ", ".join(words)


_HUES = [(15, "red"), (40, "orange"), (70, "yellow"), (160, "green"), (200, "cyan")]
_HUES += [(260, "blue"), (300, "purple"), (345, "pink"), (360, "red")]


def _colour_name(r: float, g: float, b: float) -> str:
    hi, lo = max(r, g, b), min(r, g, b)
    if hi < 0.2:
        return "black"
    sat = (hi - lo) / hi
    if sat < 0.2:
        return "white" if hi > 0.8 else "grey"
    if hi == r:
        hue = (60 * (g - b) / (hi - lo)) % 360
    elif hi == g:
        hue = 60 * (b - r) / (hi - lo) + 120
    else:
        hue = 60 * (r - g) / (hi - lo) + 240
    name = next(n for edge, n in _HUES if hue < edge)
    return "brown" if name in ("red", "orange") and hi < 0.6 else name


def colour_words(rgba: np.ndarray, *, most: int = 2, share: float = 0.25) -> list[str]:
    """The colour names covering at least ``share`` of the opaque pixels, commonest first.

    Black needs twice the share: it is the outline of most sprites.

    >>> red = np.zeros((2, 2, 4), np.uint8); red[..., 0] = 220; red[..., 3] = 255
    >>> colour_words(red)
    ['red']
    """
    opaque = rgba[rgba[..., 3] > 127][:, :3].astype(np.float64) / 255.0
    if len(opaque) == 0:
        return []
    counts = Counter(_colour_name(*px) for px in opaque)
    # Outlines are black in most sprites: black is a colour word only where it dominates.
    need = {"black": 2 * share}
    return [n for n, c in counts.most_common(most) if c >= need.get(n, share) * len(opaque)][:most]


def caption_variants(rel: str, rgba: np.ndarray) -> tuple[str, ...]:
    """:data:`CAPTION_VARIANTS` captions for one sprite: full, coloured, short, colours + top.

    >>> sword = np.zeros((2, 2, 4), np.uint8); sword[..., :3] = 150; sword[..., 3] = 255
    >>> for c in caption_variants("item/weapon/long_sword1.png", sword):
    ...     print(c)
    long sword, weapon, item
    grey long sword, weapon, item
    long sword
    grey long sword, item
    """
    full = caption_from_path(rel)
    parts = full.split(", ")
    colours = " and ".join(colour_words(rgba))
    tinted = f"{colours} {full}" if colours else full
    top = f"{colours} {parts[0]}" if colours else parts[0]
    tail = f", {parts[-1]}" if len(parts) > 1 else ""
    return (full, tinted, parts[0], top + tail)


@dataclass(frozen=True)
class SpriteSet:
    """Sprites of one folder, with captions and categories (numpy, no torch)."""

    paths: tuple[str, ...]
    images: np.ndarray  # (N, 32, 32, 4) uint8 RGBA
    captions: tuple[tuple[str, ...], ...]  # N x CAPTION_VARIANTS
    categories: tuple[str, ...]  # the category names, sorted
    category_ids: np.ndarray  # (N,) int64, index into categories
    heldout: np.ndarray  # (N,) bool: kept out of training, for validation


def _is_heldout(rel: str, fraction: float) -> bool:
    digest = hashlib.sha256(rel.encode()).digest()
    return int.from_bytes(digest[:4], "big") < fraction * 2**32


def read_sprites(root: Path, *, heldout: float = 0.05, limit: int = MAX_SPRITES) -> SpriteSet:
    """Read every 32x32 PNG under ``root`` (others are skipped), captioned and categorised.

    A sprite is held out by a hash of its path, so the split is the same on
    every machine and does not move when sprites are added.
    """
    if not root.is_dir():
        raise InputError(f"{root}: no such folder of sprites", path=str(root))
    if not 0.0 <= heldout < 1.0:
        raise InputError(f"heldout must be in [0, 1), got {heldout}")
    files = sorted(root.rglob("*.png"))
    if len(files) > limit:
        raise InputError(f"{root}: {len(files)} PNG files, more than the limit of {limit}")
    paths, images, captions = [], [], []
    for f in files:
        try:
            img = read_image(f)
        except ImageReadError:
            continue
        if img.size != (SPRITE_SIZE, SPRITE_SIZE):
            continue
        rel = f.relative_to(root).as_posix()
        rgba = np.asarray(img, dtype=np.uint8)
        paths.append(rel)
        images.append(rgba)
        captions.append(caption_variants(rel, rgba))
    if not paths:
        raise InputError(f"{root}: no {SPRITE_SIZE}x{SPRITE_SIZE} PNG sprites found")
    cats = [category_of(p) for p in paths]
    names = tuple(sorted(set(cats)))
    return SpriteSet(
        paths=tuple(paths),
        images=np.stack(images),
        captions=tuple(captions),
        categories=names,
        category_ids=np.array([names.index(c) for c in cats], dtype=np.int64),
        heldout=np.array([_is_heldout(p, heldout) for p in paths], dtype=bool),
    )


def sampling_weights(category_ids: np.ndarray, *, power: float) -> np.ndarray:
    """Per-sprite sampling probabilities: a category of n sprites gets mass n**(1 - power).

    ``power=0`` samples sprites uniformly (walls dominate); ``power=1`` gives
    every category the same mass (three long swords as often as 600 walls).

    >>> sampling_weights(np.array([0, 0, 0, 1]), power=1.0).round(3).tolist()
    [0.167, 0.167, 0.167, 0.5]
    """
    if not 0.0 <= power <= 1.0:
        raise InputError(f"balance power must be in [0, 1], got {power}")
    counts = np.bincount(category_ids)
    w = counts[category_ids].astype(np.float64) ** -power
    return np.asarray(w / w.sum())


def write_cache(sprites: SpriteSet, encode: Callable[[list[str]], np.ndarray], path: Path) -> Path:
    """Embed every caption with ``encode`` and write the cache file at ``path`` (atomically)."""
    from safetensors.numpy import save

    from dgx_pixels.image_files import write_atomic

    flat = [c for caps in sprites.captions for c in caps]
    unique = sorted(set(flat))
    emb = np.asarray(encode(unique), dtype=np.float32)
    index = {c: i for i, c in enumerate(unique)}
    rows = np.array([index[c] for c in flat], dtype=np.int64)
    text = emb[rows].reshape(len(sprites.paths), CAPTION_VARIANTS, -1).astype(np.float16)
    meta = {
        "paths": json.dumps(sprites.paths),
        "captions": json.dumps(sprites.captions),
        "categories": json.dumps(sprites.categories),
    }
    tensors = {
        "images": np.ascontiguousarray(sprites.images),
        "text": text,
        "category_ids": sprites.category_ids,
        "heldout": sprites.heldout.astype(np.uint8),
    }
    return write_atomic(save(tensors, metadata=meta), path, force=True)


@dataclass(frozen=True)
class SpriteCache:
    """A cache file read back: the sprite set and one text embedding per caption."""

    sprites: SpriteSet
    text: np.ndarray  # (N, CAPTION_VARIANTS, D) float16


def load_cache(path: Path) -> SpriteCache:
    """Read a cache written by :func:`write_cache`."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    if not path.is_file():
        raise InputError(f"{path}: no such sprite cache; build it with the 'cache' step")
    t = load_file(str(path))
    with safe_open(str(path), "np") as f:
        meta = f.metadata()
    sprites = SpriteSet(
        paths=tuple(json.loads(meta["paths"])),
        images=t["images"],
        captions=tuple(tuple(c) for c in json.loads(meta["captions"])),
        categories=tuple(json.loads(meta["categories"])),
        category_ids=t["category_ids"],
        heldout=t["heldout"].astype(bool),
    )
    return SpriteCache(sprites=sprites, text=t["text"])


def category_counts(sprites: SpriteSet) -> dict[str, int]:
    """How many sprites each category has, largest first (for reports)."""
    counts = np.bincount(sprites.category_ids, minlength=len(sprites.categories))
    order: Sequence[int] = np.argsort(-counts, kind="stable").tolist()
    return {sprites.categories[i]: int(counts[i]) for i in order}
