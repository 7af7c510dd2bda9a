"""An on-disk cache of latents and text embeddings, keyed by the hash of what made them.

A key is the SHA-256 of everything the tensors depend on (the model's
identity, the image's pixels and drawing size, the caption); a changed sprite
or caption gets a new key, so the cache never serves a stale entry. Entries
are safetensors files written atomically; an unreadable one is computed
again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dgx_pixels.image_files import write_atomic

__all__ = ["FeatureCache", "cache_key"]


def cache_key(*parts: str | bytes) -> str:
    """The SHA-256 of ``parts``, each length-prefixed so no two lists collide.

    >>> cache_key("a", "bc") != cache_key("ab", "c")
    True
    """
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


class FeatureCache:
    """Tensors by key under ``root`` (``root/ab/abcdef....safetensors``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def get(self, key: str) -> dict[str, Any] | None:
        """The tensors stored under ``key`` (on the CPU), or ``None``."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = self._path(key)
        if not path.is_file():
            self.misses += 1
            return None
        try:
            tensors: dict[str, Any] = load_file(str(path))
        except (OSError, SafetensorError):
            path.unlink(missing_ok=True)
            self.misses += 1
            return None
        self.hits += 1
        return tensors

    def put(self, key: str, tensors: dict[str, Any]) -> None:
        """Store ``tensors`` (moved to the CPU) under ``key``."""
        from safetensors.torch import save

        data = save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()})
        write_atomic(data, self._path(key), force=True)
