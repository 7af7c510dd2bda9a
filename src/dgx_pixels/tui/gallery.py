"""The gallery's model: every output in the data dir, a filter, and a trash that can undo.

:func:`scan` finds the sprites under ``<data dir>/outputs`` (not their
previews or raw drawings), newest first, at most :data:`MAX_ITEMS`.
:class:`Trash` moves an output's files into ``<data dir>/trash/<stamp>/``
and back again; nothing is deleted and nothing is overwritten.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import InputError, OutputExistsError
from dgx_pixels.tui.link import is_noise_model

__all__ = ["MAX_ITEMS", "GalleryItem", "Trash", "matches", "scan"]

MAX_ITEMS = 2000
_NOT_SPRITES = re.compile(r"(@\d+x|\.raw)\.png$")


@dataclass(frozen=True, slots=True)
class GalleryItem:
    """One output sprite and what its metadata says."""

    sprite: Path
    prompt: str
    model: str
    created: str
    request: dict[str, object]

    @property
    def noise(self) -> bool:
        """Made by a random-weight model."""
        return is_noise_model(self.model)

    def files(self) -> list[Path]:
        """The sprite and the files beside it that belong to it."""
        stem = self.sprite.name.removesuffix(".png")
        found = [self.sprite]
        for name in (f"{stem}.json", f"{stem}.raw.png"):
            if (self.sprite.parent / name).exists():
                found.append(self.sprite.parent / name)
        found += sorted(self.sprite.parent.glob(f"{glob_escape(stem)}@*x.png"))
        return found


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _item(sprite: Path) -> GalleryItem:
    stem = sprite.name.removesuffix(".png")
    meta: dict[str, object] = {}
    sidecar = sprite.with_name(f"{stem}.json")
    try:
        if sidecar.is_file() and sidecar.stat().st_size < 1 << 20:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        else:
            from dgx_pixels.assets import read_metadata

            meta = read_metadata(sprite)
    except (OSError, ValueError, InputError):
        meta = {}
    request = meta.get("request") if isinstance(meta.get("request"), dict) else {}
    assert isinstance(request, dict)
    model = meta.get("model")
    model_id = model.get("id", "") if isinstance(model, dict) else request.get("model", "")
    created = meta.get("created")
    if not isinstance(created, str):
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(sprite.stat().st_mtime))
    return GalleryItem(sprite, str(request.get("prompt", "")), str(model_id), created, request)


def scan(outputs: Path, *, limit: int = MAX_ITEMS) -> list[GalleryItem]:
    """The sprites under ``outputs``, newest first (at most ``limit``)."""
    if not outputs.is_dir():
        return []
    sprites = [p for p in outputs.rglob("*.png") if not _NOT_SPRITES.search(p.name) and p.is_file()]
    sprites.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [_item(p) for p in sprites[:limit]]


def matches(item: GalleryItem, query: str) -> bool:
    """Does ``item`` match every word of ``query``?

    A word ``model:X`` matches the model id, ``date:2026-12`` the creation
    date's start, any other word the prompt (case-insensitively).
    """
    for word in query.lower().split():
        if word.startswith("model:"):
            if word[6:] not in item.model.lower():
                return False
        elif word.startswith("date:"):
            if not item.created.startswith(word[5:]):
                return False
        elif word not in item.prompt.lower():
            return False
    return True


class Trash:
    """Moves outputs into ``<data dir>/trash`` and back."""

    def __init__(self, root: Path) -> None:
        self.root = root / "trash"
        self._undo: list[list[tuple[Path, Path]]] = []

    def delete(self, files: Iterable[Path]) -> Path:
        """Move ``files`` into a new trash folder; that folder."""
        folder = self.root / time.strftime("%Y%m%d-%H%M%S") / f"{time.monotonic_ns()}"
        folder.mkdir(parents=True, exist_ok=False)
        moved: list[tuple[Path, Path]] = []
        for path in files:
            target = folder / path.name
            os.replace(path, target)
            moved.append((path, target))
        self._undo.append(moved)
        return folder

    @property
    def can_undo(self) -> bool:
        """Something was deleted in this session and not restored."""
        return bool(self._undo)

    def undo(self) -> list[Path]:
        """Put the last deleted output back; refuses to overwrite a file made meanwhile."""
        if not self._undo:
            raise InputError("nothing to undo")
        moved = self._undo[-1]
        for original, _ in moved:
            if original.exists():
                raise OutputExistsError(f"{original} exists again; not overwriting it")
        for original, target in moved:
            original.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, original)
        self._undo.pop()
        return [original for original, _ in moved]
