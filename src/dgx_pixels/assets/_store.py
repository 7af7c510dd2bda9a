"""Writing a result to disk: four files per image, all or nothing.

For each image, with ``NAME = <slug>-<seed>``::

    NAME.png        the sprite at true resolution (RGBA), with metadata chunks
    NAME@8x.png     a nearest-neighbour preview, 8 screen pixels per sprite pixel
    NAME.raw.png    the model's drawing before pixel processing (to re-process it)
    NAME.json       the sidecar: request, model, LoRA and file hashes, versions, timings

A result's files are written as one set (:class:`~dgx_pixels.image_files.FileSet`):
existing files are checked for before anything is written, every file goes
to a temporary name first, and only when all are on disk are they moved into
place; if writing stops part-way (a full disk, an error, Ctrl-C) none of the
set is left behind.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.assets._metadata import PNG_KEY, a1111_parameters, image_metadata
from dgx_pixels.engine._types import GenerationResult
from dgx_pixels.errors import OutputExistsError
from dgx_pixels.image_files import FileSet, png_bytes
from dgx_pixels.pixel.preview import upscale
from dgx_pixels.request import GenerationRequest

__all__ = [
    "PREVIEW_SCALE",
    "AssetFiles",
    "asset_stem",
    "check_free",
    "planned_files",
    "save_result",
    "slugify",
]

#: Screen pixels per sprite pixel in the preview.
PREVIEW_SCALE = 8
_SLUG_MAX = 40


@dataclass(frozen=True, slots=True)
class AssetFiles:
    """The four files written for one image."""

    sprite: Path
    preview: Path
    raw: Path
    metadata: Path

    def all(self) -> tuple[Path, Path, Path, Path]:
        """The four paths, sprite first."""
        return (self.sprite, self.preview, self.raw, self.metadata)


def slugify(prompt: str) -> str:
    """A file-name-safe stem from a prompt: ASCII letters, digits and hyphens.

    >>> slugify("A knight with a sword, side view!")
    'a-knight-with-a-sword-side-view'
    >>> slugify("ドラゴン")
    'sprite'
    """
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:_SLUG_MAX].rstrip("-") or "sprite"


def asset_stem(prompt: str, seed: int) -> str:
    """``<slug>-<seed>``: the name shared by an image's files."""
    return f"{slugify(prompt)}-{seed}"


def save_result(
    result: GenerationResult, out_dir: Path, *, force: bool = False
) -> list[AssetFiles]:
    """Write every image of ``result`` into ``out_dir``; return their files in seed order.

    Raises :class:`~dgx_pixels.errors.OutputExistsError` before writing
    anything if a file exists and ``force`` is false.
    """
    # 1. Names, and the check that nothing would be overwritten.
    planned = [
        _files_for(Path(out_dir), asset_stem(result.request.prompt, im.seed))
        for im in result.images
    ]
    if not force:
        check_free(planned)
    # 2. Write the whole set beside its targets, then move it into place: a full
    #    disk or Ctrl-C leaves none of it (and no file it would have replaced).
    with FileSet(force=force) as files:
        for index, paths in enumerate(planned):
            _write_image(result, index, paths, files)
    return planned


def planned_files(request: GenerationRequest, out_dir: Path) -> list[AssetFiles]:
    """The files :func:`save_result` will write for ``request``, in seed order."""
    return [_files_for(Path(out_dir), asset_stem(request.prompt, seed)) for seed in request.seeds()]


def check_free(planned: list[AssetFiles]) -> None:
    """Raise :class:`OutputExistsError` for the first of ``planned`` that exists."""
    for files in planned:
        for path in files.all():
            if path.exists():
                raise OutputExistsError(
                    f"{path} already exists; use --force to overwrite it", path=str(path)
                )


def _files_for(out: Path, stem: str) -> AssetFiles:
    return AssetFiles(
        sprite=out / f"{stem}.png",
        preview=out / f"{stem}@{PREVIEW_SCALE}x.png",
        raw=out / f"{stem}.raw.png",
        metadata=out / f"{stem}.json",
    )


def _write_image(result: GenerationResult, index: int, paths: AssetFiles, files: FileSet) -> None:
    """Stage one image's four files in ``files``."""
    image = result.images[index]
    meta = image_metadata(result, index)
    text = {
        "parameters": a1111_parameters(result, index),
        PNG_KEY: json.dumps(meta, sort_keys=True),
    }
    preview = upscale(image.sprite, factor=PREVIEW_SCALE)
    hashes = {}
    for role, picture, path in (
        ("sprite", image.sprite, paths.sprite),
        ("preview", preview, paths.preview),
        ("raw", image.raw, paths.raw),
    ):
        data = png_bytes(picture, text=text)
        files.add(data, path)
        hashes[role] = {"file": path.name, "sha256": hashlib.sha256(data).hexdigest()}
    sidecar = {**meta, "files": hashes}
    document = json.dumps(sidecar, indent=2, sort_keys=True) + "\n"
    files.add(document.encode("utf-8"), paths.metadata)
