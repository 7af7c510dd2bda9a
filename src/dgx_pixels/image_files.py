"""Reading images safely and writing files atomically.

Every image that enters dgx_pixels from a user's disk goes through
:func:`read_image`, and every file dgx_pixels writes goes through
:func:`write_atomic` (or :func:`write_png`): a reader never sees a half-written
file, an interrupted write leaves nothing behind, and an existing file is never
replaced unless the caller asks for it.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from dgx_pixels.errors import ImageReadError, OutputExistsError

__all__ = ["MAX_PIXELS", "read_image", "write_atomic", "write_png"]

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
    try:
        with Image.open(p) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ImageReadError(
                    f"{p}: image is {w}x{h}, larger than the {MAX_PIXELS:,}-pixel limit",
                    path=str(p),
                )
            frames = int(getattr(img, "n_frames", 1))
            if frames > 1:
                raise ImageReadError(
                    f"{p}: animated image with {frames} frames; give one still frame",
                    path=str(p),
                )
            img.load()
            return img.convert(mode)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{p}: not an image file Pillow can read", path=str(p)) from None
    except Image.DecompressionBombError:
        raise ImageReadError(f"{p}: image is too large to decode safely", path=str(p)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{p}: cannot decode image ({exc})", path=str(p)) from None


def write_atomic(data: bytes, path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same folder, are flushed to disk,
    then moved into place in one step. Without ``force`` an existing file is
    left alone and :class:`~dgx_pixels.errors.OutputExistsError` is raised,
    also when another process creates the file during the write.
    """
    target = Path(path)
    if not force and target.exists():
        raise OutputExistsError(
            f"{target} already exists; use --force to overwrite it", path=str(target)
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, target)
        else:
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
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def write_png(
    image: Image.Image,
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    text: dict[str, str] | None = None,
) -> Path:
    """Encode ``image`` as PNG (with optional ``tEXt``/``iTXt`` chunks) and write it atomically."""
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info, optimize=False)
    return write_atomic(buf.getvalue(), path, force=force)
