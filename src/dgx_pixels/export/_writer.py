"""The one way an export writes into a game project: confined, no clobbering, atomic.

A game project is the user's work, so :func:`write_files` holds every file
to four rules before it writes a byte:

1. Names are relative, forward-slash paths inside the target folder: no
   absolute names, no ``..``, no empty or odd parts.
2. Symbolic links are resolved: a folder link that leads out of the target
   folder is refused, and so is a link in a file's own place (writing
   "through" it would change a file elsewhere).
3. An existing file is replaced only with ``force``; a file whose bytes
   would not change is left alone (so a re-export of the same asset
   touches its own changed files and nothing else).
4. Every file goes through :func:`dgx_pixels.image_files.write_atomic`: a
   temporary file, then a rename. If writing stops part-way, the files
   this call created are removed again.

All checks run for every file first, so a refused export writes nothing.
``dry_run`` runs the checks and reports what would happen.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dgx_pixels.errors import DgxPixelsError, InputError, OutputExistsError
from dgx_pixels.image_files import write_atomic

__all__ = ["MAX_FILE_BYTES", "OutFile", "Written", "check_name", "write_files"]

#: The largest single file an export writes (a 8192x8192 RGBA sheet fits).
MAX_FILE_BYTES = 512 * 1024 * 1024
_MAX_PATH = 1024
_MAX_PART = 255


@dataclass(frozen=True, slots=True)
class OutFile:
    """A file an exporter wants written: a path relative to the target folder, and its bytes."""

    path: PurePosixPath
    data: bytes
    what: str = ""  # a few words for the report, e.g. "SpriteFrames"


@dataclass(frozen=True, slots=True)
class Written:
    """What happened (or, in a dry run, would happen) to one file."""

    path: Path
    action: str  # "new" | "replaced" | "unchanged"
    what: str = ""

    def line(self, *, dry_run: bool = False) -> str:
        """The report line: ``wrote PATH (what)``, ``would replace PATH``, ``unchanged PATH``."""
        verb = {
            ("new", False): "wrote",
            ("replaced", False): "replaced",
            ("new", True): "would write",
            ("replaced", True): "would replace",
        }.get((self.action, dry_run), "unchanged")
        return f"{verb} {self.path}" + (f" ({self.what})" if self.what else "")


def check_name(name: PurePosixPath | str) -> PurePosixPath:
    """``name`` as a safe relative path, or :class:`InputError` saying why it is not.

    >>> check_name("assets/knight/knight.png")
    PurePosixPath('assets/knight/knight.png')
    >>> check_name("../main.rs")
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: '../main.rs': '..' would leave the target folder
    """
    text = str(name)
    pure = PurePosixPath(text)
    if not text or text in (".", "/"):
        raise InputError(f"{text!r}: an empty file name", path=text)
    if pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise InputError(f"{text!r}: an absolute name; names are relative to the target folder")
    if ".." in pure.parts:
        raise InputError(f"{text!r}: '..' would leave the target folder", path=text)
    if "\\" in text or "\0" in text or any(not p.isprintable() for p in pure.parts):
        raise InputError(f"{text!r}: a backslash or control character in a file name")
    if len(text) > _MAX_PATH or any(len(p) > _MAX_PART for p in pure.parts):
        raise InputError(f"{text[:80]!r}...: a file name longer than {_MAX_PATH} characters")
    return pure


def write_files(
    root: str | os.PathLike[str],
    files: Sequence[OutFile],
    *,
    force: bool = False,
    dry_run: bool = False,
) -> list[Written]:
    """Write ``files`` under ``root`` by the rules above; return what happened to each.

    ``root`` is created if it does not exist. Raises
    :class:`~dgx_pixels.errors.InputError` for a name or link that leaves
    ``root``, :class:`~dgx_pixels.errors.OutputExistsError` for a file that
    would be replaced without ``force`` (before anything is written), and
    :class:`~dgx_pixels.errors.DgxPixelsError` when the disk refuses a write
    (a read-only folder): each names the path and the reason.
    """
    # 1. The target folder, resolved once: every file must stay inside it.
    root_path = Path(root)
    if root_path.exists() and not root_path.is_dir():
        raise InputError(f"{root_path}: the target exists and is not a folder", path=str(root_path))
    real_root = Path(os.path.realpath(root_path))

    # 2. Every name and link checked, and what would happen decided, before a byte is written.
    plan: list[tuple[Path, Path, OutFile, str]] = []  # (shown, real target, file, action)
    seen: set[PurePosixPath] = set()
    for out in files:
        name = check_name(out.path)
        if name in seen:
            raise InputError(f"{root_path / name}: two files of this export share the name")
        seen.add(name)
        if len(out.data) > MAX_FILE_BYTES:
            raise InputError(f"{root_path / name}: {len(out.data):,} bytes is too large to write")
        shown = root_path / name
        target = _confined(real_root, name, shown)
        plan.append((shown, target, out, _action(target, out.data, shown)))
    if not force:
        clashes = [shown for shown, _, _, action in plan if action == "replaced"]
        if clashes:
            more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
            raise OutputExistsError(
                f"{clashes[0]} already exists and would change{more}; "
                "use --force to replace the export's files",
                path=str(clashes[0]),
            )
    report = [Written(shown, action, out.what) for shown, _, out, action in plan]
    if dry_run:
        return report

    # 3. Write, undoing this call's new files if anything stops it.
    created: list[Path] = []
    try:
        for shown, target, out, action in plan:
            if action == "unchanged":
                continue
            _make_parents(target, shown)
            _confined(real_root, PurePosixPath(target.relative_to(real_root).as_posix()), shown)
            try:
                write_atomic(out.data, target, force=action == "replaced")
            except OutputExistsError:
                raise OutputExistsError(
                    f"{shown} appeared while exporting; use --force to replace it",
                    path=str(shown),
                ) from None
            except OSError as exc:
                raise DgxPixelsError(
                    f"{shown}: cannot write ({exc.strerror or exc})", path=str(shown)
                ) from None
            if action == "new":
                created.append(target)
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return report


def _confined(real_root: Path, name: PurePosixPath, shown: Path) -> Path:
    """The real path of ``name`` under ``real_root``, or an error if a link leads it out."""
    target = real_root.joinpath(*name.parts)
    if target.is_symlink():
        raise InputError(
            f"{shown}: is a symbolic link (to {os.readlink(target)}); refusing to write through it",
            path=str(shown),
        )
    resolved = Path(os.path.realpath(target))
    if not resolved.is_relative_to(real_root):
        raise InputError(
            f"{shown}: a link in its path leads to {resolved}, outside {real_root}",
            path=str(shown),
        )
    return resolved


def _action(target: Path, data: bytes, shown: Path) -> str:
    if not target.exists():
        return "new"
    if not target.is_file():
        raise InputError(f"{shown}: exists and is not a file", path=str(shown))
    try:
        same = target.stat().st_size == len(data) and target.read_bytes() == data
    except OSError as exc:
        raise DgxPixelsError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    return "unchanged" if same else "replaced"


def _make_parents(target: Path, shown: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DgxPixelsError(
            f"{shown}: cannot create its folder ({exc.strerror or exc})", path=str(shown)
        ) from None
