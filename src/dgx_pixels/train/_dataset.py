"""A training set: a folder of sprites, as the trainer sees them.

Each image is read at its true resolution. A file that is an exact
whole-number nearest-neighbour upscale (a sprite exported at 4x) is reduced
to its true size; one whose cells are uneven (a smooth or non-integer resize,
AI "pseudo pixel art") is refused, since training on it would teach blurred
cells. Each sprite is then drawn the way the engine draws a sprite of its size
(:func:`dgx_pixels.engine.drawing_size`): upscaled by a whole factor with
nearest neighbour, never resampled smoothly, so a 32x32 sprite becomes
1024x1024 on SDXL with 32 px cells. Sprites of one drawing size form one
bucket; every batch comes from one bucket.

Captions, first found wins: ``NAME.txt`` beside ``NAME.png``, our own JSON
sidecar ``NAME.json`` (the prompt of the request that made it), else the
file name (``red_goblin-2.png``: "red goblin"). The trigger word goes in
front. Previews and raw drawings that ``generate`` writes beside a sprite
(``NAME@8x.png``, ``NAME.raw.png``) are skipped and counted.

Bad data is refused up front with the file named: not an image, animated,
too small or too large to draw, cells of mixed sizes, a caption without an
image, a file of another kind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from dgx_pixels.engine._resolution import DrawingSize, drawing_size
from dgx_pixels.engine.models import ModelSpec
from dgx_pixels.errors import InputError
from dgx_pixels.image_files import read_image
from dgx_pixels.train._config import TrainConfig

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_CAPTION_CHARS",
    "MAX_IMAGES",
    "MIN_SPRITE_SIDE",
    "DatasetError",
    "Sample",
    "TrainingSet",
    "exact_factor",
    "load_dataset",
    "training_spec",
]

IMAGE_SUFFIXES = frozenset({".png", ".gif", ".bmp", ".webp", ".jpg", ".jpeg", ".tga", ".tif"})
#: The most images one training set may hold.
MAX_IMAGES = 10_000
#: The longest caption read from a file; CLIP reads 77 tokens anyway.
MAX_CAPTION_CHARS = 1_000
#: The smallest sprite side trained on.
MIN_SPRITE_SIDE = 4
#: The largest side of a file read (an exported upscale may be large; true sprites are small).
MAX_FILE_SIDE = 4096
#: Grid-detection confidence above which a non-exact image counts as unevenly upscaled.
UNEVEN_GRID_CONFIDENCE = 0.6

_SKIPPED = re.compile(r".*(@\d+x|\.raw)$")
_NAME_WORDS = re.compile(r"[_\-\s]+")
_TRAILING_NUMBER = re.compile(r"\s*\d+$")


class DatasetError(InputError):
    """A training set that cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One training image: its true-resolution sprite, caption and drawing size."""

    path: Path
    sprite: Image.Image  # RGBA, true resolution
    caption: str  # with the trigger in front
    caption_source: str  # "txt", "sidecar" or "name"
    file_factor: int  # 1: the file is the true sprite; 4: it was a 4x upscale
    drawing: DrawingSize
    sha256: str  # of the sprite's pixels

    @property
    def bucket(self) -> tuple[int, int]:
        """The drawing size ``(width, height)`` this sample trains at."""
        return self.drawing.width, self.drawing.height

    def picture(self, background: str, *, flip: bool = False) -> Image.Image:
        """The RGB image the VAE encodes: the sprite flattened onto ``background``
        and upscaled by the drawing factor with nearest neighbour."""
        flat = Image.new("RGBA", self.sprite.size, (*_rgb(background), 255))
        flat.alpha_composite(self.sprite)
        rgb = flat.convert("RGB")
        if flip:
            rgb = rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return rgb.resize(self.bucket, Image.Resampling.NEAREST)


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """The samples of a folder, grouped in buckets, and a hash of all of it."""

    root: Path
    samples: tuple[Sample, ...]
    skipped: tuple[Path, ...]  # previews and raw drawings
    sha256: str

    @property
    def buckets(self) -> dict[tuple[int, int], list[int]]:
        """Drawing size -> indices of the samples trained at it."""
        out: dict[tuple[int, int], list[int]] = {}
        for i, s in enumerate(self.samples):
            out.setdefault(s.bucket, []).append(i)
        return dict(sorted(out.items()))

    def batches_per_epoch(self, batch: int) -> int:
        """How many batches one pass over the data makes (each batch from one bucket)."""
        return sum(-(-len(ix) // batch) for ix in self.buckets.values())

    def epoch_batches(self, epoch: int, *, batch: int, seed: int) -> list[list[int]]:
        """The batches of ``epoch``, in order: a pure function of its arguments, so a
        resumed run sees exactly the batches an uninterrupted one would."""
        rng = np.random.default_rng([seed, epoch])
        batches: list[list[int]] = []
        for indices in self.buckets.values():
            order = [indices[i] for i in rng.permutation(len(indices))]
            batches.extend(order[i : i + batch] for i in range(0, len(order), batch))
        return [batches[i] for i in rng.permutation(len(batches))]

    def batch_at(self, step: int, *, batch: int, seed: int) -> list[int]:
        """The sample indices of training step ``step`` (0-based)."""
        per_epoch = self.batches_per_epoch(batch)
        epoch, position = divmod(step, per_epoch)
        return self.epoch_batches(epoch, batch=batch, seed=seed)[position]

    def describe(self) -> list[str]:
        """The dry run's lines: each sample, then the buckets."""
        lines = [f"{len(self.samples)} images in {self.root} (dataset {self.sha256[:12]})"]
        for s in self.samples:
            w, h = s.sprite.size
            scale = f" (file at {s.file_factor}x)" if s.file_factor > 1 else ""
            lines.append(
                f"  {s.path.name}: {w}x{h}{scale} -> {s.drawing.width}x{s.drawing.height} "
                f"at {s.drawing.factor}x, caption ({s.caption_source}): {s.caption!r}"
            )
        lines.append("buckets:")
        for (bw, bh), indices in self.buckets.items():
            lines.append(f"  {bw}x{bh}: {len(indices)} image(s)")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} preview/raw file(s) written by generate")
        return lines


def training_spec(spec: ModelSpec, resolution: int | None) -> ModelSpec:
    """The model spec drawings are sized by: ``resolution`` replaces the native side."""
    if resolution is None:
        return spec
    return dataclasses.replace(spec, native_side=resolution)


def load_dataset(root: str | Path, config: TrainConfig, spec: ModelSpec) -> TrainingSet:
    """Read and check every file under ``root`` (not recursive) for training on ``spec``.

    Raises :class:`DatasetError` naming the first bad file.
    """
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder of training images", path=str(folder))
    sizing = training_spec(spec, config.resolution)
    # 1. Sort the folder's files into images, captions and the rest.
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    skipped = tuple(p for p in images if _SKIPPED.fullmatch(p.stem))
    images = [p for p in images if p not in skipped]
    if len(images) > MAX_IMAGES:
        raise DatasetError(f"{folder}: {len(images)} images, more than the {MAX_IMAGES} allowed")
    stems = {p.stem for p in images} | {p.stem for p in skipped}
    for p in files:
        if p.is_dir():
            continue
        suffix = p.suffix.lower()
        if suffix in (".txt", ".json") and p.stem not in stems:
            raise DatasetError(f"{p}: a caption file with no image named {p.stem}.*", path=str(p))
        if suffix not in IMAGE_SUFFIXES and suffix not in (".txt", ".json"):
            raise DatasetError(
                f"{p}: not an image (a training folder holds images and their .txt or .json "
                "captions only)",
                path=str(p),
            )
    if not images:
        raise DatasetError(f"{folder}: no images to train on", path=str(folder))
    # 2. Each image: true sprite, caption, drawing size.
    samples = tuple(_sample(p, config, sizing) for p in images)
    digest = hashlib.sha256()
    for s in samples:
        digest.update(f"{s.path.name}\0{s.sha256}\0{s.caption}\0".encode())
    return TrainingSet(folder, samples, skipped, digest.hexdigest())


def exact_factor(pixels: np.ndarray) -> int:
    """The largest whole factor ``f`` for which ``pixels`` is a nearest upscale by ``f``.

    >>> tile = np.array([[[1], [2]], [[3], [4]]], dtype=np.uint8)
    >>> exact_factor(tile.repeat(3, axis=0).repeat(3, axis=1)), exact_factor(tile)
    (3, 1)
    """
    h, w = pixels.shape[:2]
    g = int(np.gcd(h, w))
    for f in sorted((d for d in range(2, g + 1) if g % d == 0), reverse=True):
        small = pixels[::f, ::f]
        if np.array_equal(small.repeat(f, axis=0).repeat(f, axis=1), pixels):
            return f
    return 1


def _sample(path: Path, config: TrainConfig, sizing: ModelSpec) -> Sample:
    from dgx_pixels.pixel.grid import detect_grid

    # 1. The file, at most MAX_FILE_SIDE on a side (read_image refuses the unreadable).
    try:
        image = read_image(path, mode="RGBA")
    except InputError as exc:
        raise DatasetError(exc.message, path=str(path)) from None
    w, h = image.size
    if max(w, h) > MAX_FILE_SIDE:
        raise DatasetError(
            f"{path}: image is {w}x{h}, larger than {MAX_FILE_SIDE} px on a side", path=str(path)
        )
    # 2. True resolution: an exact upscale is reduced; uneven cells are refused.
    pixels = np.asarray(image)
    factor = exact_factor(pixels)
    if factor > 1:
        sprite = Image.fromarray(np.ascontiguousarray(pixels[::factor, ::factor]), "RGBA")
    else:
        grid = detect_grid(pixels) if min(w, h) >= 16 else None
        cw, ch = grid.cell_size if grid is not None else (1.0, 1.0)
        if grid is not None and grid.confidence >= UNEVEN_GRID_CONFIDENCE and min(cw, ch) >= 2:
            raise DatasetError(
                f"{path}: cells of mixed sizes (a grid of {grid.describe()}, not a whole-number "
                "upscale); give the sprite at its true resolution or exactly upscaled",
                path=str(path),
            )
        sprite = image
    sw, sh = sprite.size
    if min(sw, sh) < MIN_SPRITE_SIDE:
        raise DatasetError(
            f"{path}: sprite is {sw}x{sh}, too small to train on (at least "
            f"{MIN_SPRITE_SIDE}x{MIN_SPRITE_SIDE})",
            path=str(path),
        )
    # 3. Its drawing size, exactly as the engine would draw a sprite of this size.
    try:
        drawing = drawing_size((sw, sh), sizing)
    except InputError as exc:
        raise DatasetError(f"{path}: {exc.message}", path=str(path)) from None
    caption, source = _caption(path)
    sha = hashlib.sha256(np.asarray(sprite).tobytes() + f"{sw}x{sh}".encode()).hexdigest()
    return Sample(path, sprite, config.caption(caption), source, factor, drawing, sha)


def _caption(path: Path) -> tuple[str, str]:
    txt, sidecar = path.with_suffix(".txt"), path.with_suffix(".json")
    if txt.is_file():
        return _read_text(txt), "txt"
    if sidecar.is_file():
        return _sidecar_prompt(sidecar), "sidecar"
    words = _NAME_WORDS.sub(" ", path.stem).strip()
    return _TRAILING_NUMBER.sub("", words) or words, "name"


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()[: MAX_CAPTION_CHARS * 4 + 1]
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: caption is not readable UTF-8 text ({exc})") from None
    text = " ".join(text.split())
    if len(text) > MAX_CAPTION_CHARS:
        raise DatasetError(
            f"{path}: caption is longer than {MAX_CAPTION_CHARS} characters", path=str(path)
        )
    return text


def _sidecar_prompt(path: Path) -> str:
    from dgx_pixels.assets import read_metadata

    if path.stat().st_size > 1_000_000:
        raise DatasetError(f"{path}: sidecar is larger than 1 MB", path=str(path))
    try:
        data = read_metadata(path)
    except InputError as exc:
        raise DatasetError(exc.message, path=str(path)) from None
    prompt = data["request"].get("prompt") if isinstance(data["request"], dict) else None
    if not isinstance(prompt, str) or not prompt.strip():
        raise DatasetError(f"{path}: its request has no prompt to use as a caption")
    if len(prompt) > MAX_CAPTION_CHARS:
        raise DatasetError(f"{path}: prompt is longer than {MAX_CAPTION_CHARS} characters")
    return " ".join(prompt.split())


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
