"""The gallery's model: every output in the data dir, a filter, tags, and a trash that can undo.

:func:`scan` finds the sprites under ``<data dir>/outputs`` (not their
previews or raw drawings, nor the frames of asset folders), newest first, at
most :data:`MAX_ITEMS`. :class:`TagBook` keeps the user's tags of outputs in
``<data dir>/tags.json``. :class:`Trash` moves an output's files into
``<data dir>/trash/<stamp>/`` and back again; nothing is deleted and nothing
is overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import InputError, OutputExistsError
from dgx_pixels.tui.link import is_noise_model

__all__ = [
    "MAX_ITEMS",
    "MAX_TAGS",
    "GalleryItem",
    "TagBook",
    "Trash",
    "matches",
    "parse_tags",
    "scan",
]

MAX_ITEMS = 2000
#: Tags on one output, and characters of one tag; the tags file's size.
MAX_TAGS, MAX_TAG_CHARS, MAX_TAGS_FILE = 16, 32, 1 << 20
_NOT_SPRITES = re.compile(r"(@\d+x|\.raw)\.png$")
_TAG = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class GalleryItem:
    """One output sprite and what its metadata says."""

    sprite: Path
    prompt: str
    model: str
    created: str
    request: dict[str, object]
    tags: tuple[str, ...] = ()

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


def scan(
    outputs: Path, *, limit: int = MAX_ITEMS, tags: TagBook | None = None
) -> list[GalleryItem]:
    """The sprites under ``outputs``, newest first (at most ``limit``), with their ``tags``."""
    if not outputs.is_dir():
        return []
    sprites = [
        p
        for p in outputs.rglob("*.png")
        if not _NOT_SPRITES.search(p.name) and p.is_file() and not _in_asset_folder(p, outputs)
    ]
    sprites.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    book = tags.load() if tags is not None else {}
    items = [_item(p) for p in sprites[:limit]]
    if tags is None:
        return items
    return [dataclasses.replace(i, tags=book.get(tags.key(i.sprite), ())) for i in items]


def _in_asset_folder(path: Path, outputs: Path) -> bool:
    """Is ``path`` part of an asset set (a folder with a manifest, such as an animation)?"""
    for folder in path.parents:
        if folder == outputs or outputs not in folder.parents:
            return False
        if (folder / "manifest.json").is_file():
            return True
    return False


def matches(item: GalleryItem, query: str) -> bool:
    """Does ``item`` match every word of ``query``?

    A word ``model:X`` matches the model id, ``date:2026-12`` the creation
    date's start, ``tag:X`` one of its tags exactly, any other word the prompt
    (case-insensitively).
    """
    for word in query.lower().split():
        if word.startswith("tag:"):
            if word[4:] not in item.tags:
                return False
        elif word.startswith("model:"):
            if word[6:] not in item.model.lower():
                return False
        elif word.startswith("date:"):
            if not item.created.startswith(word[5:]):
                return False
        elif word not in item.prompt.lower():
            return False
    return True


def parse_tags(text: str) -> tuple[str, ...]:
    """``"hero, v2 boss"`` -> the tags, lower-case, each once, in order.

    A tag is letters, digits, ``-`` and ``_`` (at most 32); at most 16 tags.

    >>> parse_tags("Hero, v2 hero  boss")
    ('hero', 'v2', 'boss')
    >>> parse_tags("a/b")
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: a tag is letters, digits, - and _, got 'a/b'
    """
    found: list[str] = []
    for word in text.replace(",", " ").lower().split():
        if not _TAG.fullmatch(word):
            raise InputError(f"a tag is letters, digits, - and _, got {word!r}")
        if len(word) > MAX_TAG_CHARS:
            raise InputError(f"a tag has at most {MAX_TAG_CHARS} characters, got {word!r}")
        if word not in found:
            found.append(word)
    if len(found) > MAX_TAGS:
        raise InputError(f"at most {MAX_TAGS} tags on one output, got {len(found)}")
    return tuple(found)


class TagBook:
    """The user's tags of outputs: ``<data dir>/tags.json``, sprite paths relative to the dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "tags.json"

    def key(self, sprite: Path) -> str:
        """How ``sprite`` is named in the file."""
        try:
            return sprite.relative_to(self.root).as_posix()
        except ValueError:
            return sprite.as_posix()

    def load(self) -> dict[str, tuple[str, ...]]:
        """Every output's tags (an unreadable or foreign file reads as none)."""
        try:
            if self.path.stat().st_size > MAX_TAGS_FILE:
                return {}
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        book: dict[str, tuple[str, ...]] = {}
        for key, tags in data.items():
            if isinstance(key, str) and isinstance(tags, list):
                try:
                    book[key] = parse_tags(" ".join(t for t in tags if isinstance(t, str)))
                except InputError:
                    continue
        return book

    def set(self, sprite: Path, text: str) -> tuple[str, ...]:
        """Give ``sprite`` the tags in ``text`` (none: untagged); write the file; the tags."""
        from dgx_pixels.image_files import write_atomic

        tags = parse_tags(text)
        book = self.load()
        if tags:
            book[self.key(sprite)] = tags
        else:
            book.pop(self.key(sprite), None)
        data = {key: list(value) for key, value in sorted(book.items())}
        encoded = json.dumps(data, indent=1).encode("utf-8")
        if len(encoded) > MAX_TAGS_FILE:
            raise InputError(f"{self.path}: more than {MAX_TAGS_FILE} bytes of tags")
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(encoded, self.path, force=True)
        return tags


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
