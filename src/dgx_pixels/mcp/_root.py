"""The project root: the one folder an MCP client's tools may read and write.

Every path a tool is given is resolved (symlinks followed, ``..`` removed)
and must then lie inside the root; anything else is refused with the path
named. Relative paths are taken relative to the root, not to the server's
working folder.

>>> import tempfile
>>> root = ProjectRoot.at(tempfile.mkdtemp())
>>> root.inside("sprites/knight.png", what="out") == root.path / "sprites" / "knight.png"
True
>>> root.inside("../elsewhere.png", what="out")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
dgx_pixels.mcp._root.OutsideRootError: out '../elsewhere.png' is outside the project root ...
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import InputError

__all__ = ["MAX_PATH_CHARS", "OutsideRootError", "ProjectRoot"]

#: The longest path text a tool accepts.
MAX_PATH_CHARS = 4096


class OutsideRootError(InputError):
    """A path given to a tool resolves to a place outside the project root."""


@dataclass(frozen=True, slots=True)
class ProjectRoot:
    """A resolved folder; :meth:`inside` confines a path to it."""

    path: Path

    @classmethod
    def at(cls, folder: str | os.PathLike[str]) -> ProjectRoot:
        """The root at ``folder`` (resolved); it must be an existing folder."""
        resolved = Path(folder).expanduser().resolve()
        if not resolved.is_dir():
            raise InputError(f"project root {resolved} is not a folder", path=str(resolved))
        if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
            # Some clients start servers in / (Cursor does): that root would confine nothing.
            raise InputError(
                f"project root {resolved} would let tools reach every file; give --root "
                "the game project's folder",
                path=str(resolved),
            )
        return cls(resolved)

    def inside(self, given: str, *, what: str) -> Path:
        """``given`` resolved against the root; :class:`OutsideRootError` when it escapes.

        ``what`` names the parameter in the message (``init``, ``out``...).
        """
        if len(given) > MAX_PATH_CHARS:
            raise InputError(f"{what} is {len(given)} characters long, over {MAX_PATH_CHARS}")
        if "\0" in given or not given.strip():
            raise InputError(f"{what} must be a path, got {given!r}")
        candidate = Path(given).expanduser()
        if not candidate.is_absolute():
            candidate = self.path / candidate
        resolved = candidate.resolve()  # follows every symlink of the part that exists
        if not resolved.is_relative_to(self.path):
            raise OutsideRootError(
                f"{what} {given!r} is outside the project root {self.path} (it resolves to "
                f"{resolved})",
                path=str(resolved),
            )
        return resolved

    def relative(self, path: Path) -> str:
        """``path`` (inside the root) as a POSIX path relative to the root."""
        return path.relative_to(self.path).as_posix()
