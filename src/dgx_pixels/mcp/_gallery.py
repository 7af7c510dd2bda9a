"""Resources: the gallery of sprites under the project root.

``gallery://index`` is a JSON list of every generated sprite under the root
(found by its JSON sidecar, newest first, at most :data:`MAX_GALLERY`), and
``gallery://sprite/{path}`` is one sprite's PNG (``path`` relative to the
root; confined to it like every tool path).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import Resource

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.mcp._root import ProjectRoot

__all__ = ["MAX_GALLERY", "gallery", "register_gallery", "sprite_resources"]

#: The most sprites the gallery lists.
MAX_GALLERY = 500
#: Sidecars larger than this are not sidecars we wrote.
_MAX_SIDECAR_BYTES = 1 << 20
_MAX_SPRITE_BYTES = 32 << 20
_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", "target", ".cache"}


def gallery(root: ProjectRoot) -> list[dict[str, Any]]:
    """The sprites under ``root``: one entry per sprite whose sidecar names it, newest first."""
    found: list[tuple[float, dict[str, Any]]] = []
    for folder, dirs, files in os.walk(root.path):  # does not follow symlinked folders
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in files:
            if not name.endswith(".json") or name.startswith("."):
                continue
            sidecar = Path(folder) / name
            sprite = sidecar.with_suffix(".png")
            entry = _entry(root, sidecar, sprite)
            if entry is not None:
                found.append((sprite.stat().st_mtime, entry))
    found.sort(key=lambda item: item[0], reverse=True)
    return [entry for _, entry in found[:MAX_GALLERY]]


def _entry(root: ProjectRoot, sidecar: Path, sprite: Path) -> dict[str, Any] | None:
    try:
        if sidecar.is_symlink() or not sprite.is_file() or sprite.is_symlink():
            return None
        if sidecar.stat().st_size > _MAX_SIDECAR_BYTES:
            return None
        meta = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return None
    request = meta.get("request") if isinstance(meta, dict) else None
    if not isinstance(request, dict) or "prompt" not in request:
        return None  # some other JSON file
    relative = root.relative(sprite)
    return {
        "uri": f"gallery://sprite/{relative}",
        "sprite": relative,
        "prompt": request.get("prompt"),
        "size": request.get("size"),
        "seed": meta.get("seed", request.get("seed")),
        "model": request.get("model"),
    }


def register_gallery(server: MCPServer, root: ProjectRoot) -> None:
    """Add the gallery resources to ``server``."""

    @server.resource(
        "gallery://index",
        name="gallery",
        description="Every generated sprite under the project root, newest first (JSON).",
        mime_type="application/json",
    )
    def index() -> str:
        return json.dumps(gallery(root), indent=2)

    @server.resource(
        "gallery://sprite/{+path}",
        name="sprite",
        description="One sprite's PNG at true resolution; path is relative to the project root.",
        mime_type="image/png",
    )
    def sprite(path: str) -> bytes:
        try:
            target = root.inside(path, what="path")
        except DgxPixelsError as exc:
            raise ResourceError(exc.message) from None
        if target.suffix.lower() != ".png" or not target.is_file():
            raise ResourceError(f"{path}: no such sprite under the project root")
        if target.stat().st_size > _MAX_SPRITE_BYTES:
            raise ResourceError(f"{path}: larger than {_MAX_SPRITE_BYTES} bytes, not a sprite")
        return target.read_bytes()


def sprite_resources(root: ProjectRoot) -> list[Resource]:
    """The gallery as MCP resources, one per sprite (for ``resources/list``)."""
    return [
        Resource(
            uri=entry["uri"],
            name=entry["sprite"],
            description=str(entry["prompt"])[:200],
            mime_type="image/png",
        )
        for entry in gallery(root)
    ]
