"""Reading images safely and writing files atomically.

Every image that enters dgx_pixels from a user's disk goes through
:func:`read_image`, and every file dgx_pixels writes goes through
:func:`write_atomic` (or :func:`write_png`, or :class:`FileSet` for files
that belong together): a reader never sees a half-written file, an
interrupted write leaves nothing behind, and an existing file is never
replaced unless the caller asks for it. Files get the mode ``open()`` would
give them (0666 less the umask), so a shared folder stays shared.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from pathlib import Path
from typing import BinaryIO

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from dgx_pixels.errors import ImageReadError, OutputExistsError

__all__ = [
    "MAX_PIXELS",
    "FileSet",
    "decode_image",
    "make_temporary_folder",
    "png_bytes",
    "read_image",
    "write_atomic",
    "write_png",
]

#: The largest image we decode: 8192 x 8192. Larger files are refused before
#: decoding, so a 60000 x 60000 "decompression bomb" costs nothing.
MAX_PIXELS = 8192 * 8192


def read_image(path: str | os.PathLike[str], *, mode: str = "RGBA") -> Image.Image:
    """Read one still image from ``path`` and convert it to ``mode``.

    Raises :class:`~dgx_pixels.errors.ImageReadError` with one clear message
    when the file is missing, not an image, truncated, animated or larger than
    :data:`MAX_PIXELS`.
    """
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"{p}: no such file", path=str(p))
    return _decode(p, str(p), mode=mode, max_pixels=MAX_PIXELS)


def decode_image(
    data: bytes, name: str, *, mode: str = "RGBA", max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """:func:`read_image` for a file's bytes (a file a client sent), named ``name`` in errors.

    ``max_pixels`` (at most :data:`MAX_PIXELS`) is checked before decoding.
    """
    return _decode(io.BytesIO(data), name, mode=mode, max_pixels=min(max_pixels, MAX_PIXELS))


def _decode(source: Path | BinaryIO, shown: str, *, mode: str, max_pixels: int) -> Image.Image:
    try:
        with Image.open(source) as img:
            w, h = img.size
            if w * h > max_pixels:
                raise ImageReadError(
                    f"{shown}: image is {w}x{h}, larger than the {max_pixels:,}-pixel limit",
                    path=shown,
                )
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                raise ImageReadError(
                    f"{shown}: animated image with {frames} frames; give one still frame",
                    path=shown,
                )
            img.load()
            return img.convert(mode)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{shown}: not an image file Pillow can read", path=shown) from None
    except Image.DecompressionBombError:
        raise ImageReadError(f"{shown}: image is too large to decode safely", path=shown) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{shown}: cannot decode image ({exc})", path=shown) from None


def write_atomic(data: bytes, path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    then moved into place in one step. Without ``force`` an existing file is
    left alone and :class:`~dgx_pixels.errors.OutputExistsError` is raised,
    also when another process creates the file during the write. The file's
    mode is what ``open()`` would give it: 0666 less the umask.
    """
    with FileSet(force=force) as files:
        files.add(data, path)
    return Path(path)


class FileSet:
    """Write several files as one: all of them appear, or none of this set does.

    Each :meth:`add` writes its bytes to a temporary file beside the target
    (flushed to disk). Leaving the ``with`` block without an error moves every
    file into place; an error inside it (a full disk, Ctrl-C) removes every
    temporary file, so nothing of the set is left behind and files it would
    have replaced are untouched. The moves write no file data, so a full disk
    does not stop them. If one move fails (another process created a target
    meanwhile, without ``force``), the files this set already moved into place
    are removed again.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with FileSet() as files:
    ...     files.add(b"a", folder / "a.txt")
    ...     files.add(b"b", folder / "b.txt")
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt', 'b.txt']
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = force
        self._staged: list[tuple[Path, Path]] = []  # (temporary, target)

    def add(self, data: bytes, path: str | os.PathLike[str]) -> None:
        """Stage ``data`` for ``path``; :class:`OutputExistsError` if it exists (no ``force``)."""
        target = Path(path)
        if not self.force and target.exists():
            raise OutputExistsError(
                f"{target} already exists; use --force to overwrite it", path=str(target)
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp, fd = _create_temporary(target)
        self._staged.append((tmp, target))
        with open(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())

    def __enter__(self) -> FileSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            for tmp, _ in self._staged:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()

    def _commit(self) -> None:
        placed: list[Path] = []
        try:
            for tmp, target in self._staged:
                _place(tmp, target, force=self.force)
                placed.append(target)
        except BaseException:
            if not self.force:  # these did not exist before this set: ours to remove
                for target in placed:
                    with contextlib.suppress(OSError):
                        target.unlink()
            raise
        for folder in {target.parent for _, target in self._staged}:
            _fsync_dir(folder)


def _create_temporary(target: Path) -> tuple[Path, int]:
    """A new ``.<name>.<random>.tmp`` beside ``target``, opened as ``open()`` would (umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {target}")


def make_temporary_folder(beside: Path, *, suffix: str = ".tmp") -> Path:
    """A new empty folder ``.<name>.<random><suffix>`` beside ``beside``, for staging.

    Made with the mode ``mkdir`` gives (0777 less the umask), unlike
    ``tempfile.mkdtemp`` (0700), so a folder staged there and renamed into
    place is as readable as any other folder the user makes.
    """
    for _ in range(100):
        folder = beside.with_name(f".{beside.name}.{secrets.token_hex(4)}{suffix}")
        try:
            folder.mkdir(mode=0o777)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {beside}")


def _write_all(f: BinaryIO, data: bytes) -> None:
    """Write ``data`` to ``f`` (one place, so tests can make the disk full)."""
    f.write(data)


def _place(tmp: Path, target: Path, *, force: bool) -> None:
    """Move ``tmp`` to ``target``; without ``force`` never replace an existing file."""
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if target appeared meanwhile: no clobber
    except FileExistsError:
        raise OutputExistsError(
            f"{target} already exists; use --force to overwrite it", path=str(target)
        ) from None
    except OSError:  # a file system without hard links (FAT, some network mounts)
        if target.exists():
            raise OutputExistsError(
                f"{target} already exists; use --force to overwrite it", path=str(target)
            ) from None
        os.replace(tmp, target)


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the platform can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def png_bytes(image: Image.Image, *, text: dict[str, str] | None = None) -> bytes:
    """``image`` encoded as PNG, with optional ``iTXt`` chunks."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info, optimize=False)
    return buf.getvalue()


def write_png(
    image: Image.Image,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    text: dict[str, str] | None = None,
) -> Path:
    """Encode ``image`` as PNG (with optional ``iTXt`` chunks) and write it atomically."""
    return write_atomic(png_bytes(image, text=text), path, force=force)
