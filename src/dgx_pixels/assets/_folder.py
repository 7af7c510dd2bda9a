"""Writing an asset folder all at once: the whole set, or nothing.

:func:`write_asset` writes every file of an asset and its ``manifest.json``
(last) into a hidden temporary folder beside the target, each file through
:func:`~dgx_pixels.image_files.write_atomic`, then publishes the folder with
one rename. A reader sees no folder or the complete one. An existing asset
folder is replaced only with ``force``, and then the old one is moved aside
first and restored if publishing fails.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from dgx_pixels.assets._manifest import MANIFEST_NAME, Manifest
from dgx_pixels.errors import ManifestError, OutputExistsError
from dgx_pixels.image_files import make_temporary_folder, write_atomic, write_png

__all__ = ["AssetData", "encode_gif", "write_asset"]

#: A file of an asset: an image (written as PNG) or bytes (written as they are).
AssetData = Image.Image | bytes


def write_asset(
    folder: str | os.PathLike[str],
    manifest: Manifest,
    files: Mapping[str, AssetData],
    *,
    force: bool = False,
) -> Path:
    """Write ``manifest`` and ``files`` (relative path -> data) as the asset folder ``folder``.

    ``files`` must hold exactly the files the manifest names. Raises
    :class:`~dgx_pixels.errors.OutputExistsError` before writing anything if
    ``folder`` exists and ``force`` is false.
    """
    target = Path(folder)
    # 1. The set is complete and names no other file.
    named = set(manifest.files())
    if set(files) != named:
        missing = sorted(named - set(files))
        extra = sorted(set(files) - named)
        raise ManifestError(
            f"asset files differ from the manifest: missing {missing or 'none'}, "
            f"not named {extra or 'none'}"
        )
    if target.exists() and not force:
        raise OutputExistsError(
            f"{target} already exists; use --force to overwrite it", path=str(target)
        )
    # 2. Write the set into a temporary sibling folder, the manifest last.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = make_temporary_folder(target)  # mkdir's mode (umask), not mkdtemp's 0700
    try:
        for name, data in files.items():
            path = staging / name
            if isinstance(data, Image.Image):
                write_png(data, path)
            else:
                write_atomic(data, path)
        write_atomic(manifest.to_json().encode("utf-8"), staging / MANIFEST_NAME)
        _fsync_dir(staging)
        # 3. Publish with one rename.
        _publish(staging, target, force=force)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _publish(staging: Path, target: Path, *, force: bool) -> None:
    if not target.exists():
        try:
            staging.rename(target)  # replaces at most an empty folder made meanwhile
        except OSError:
            raise OutputExistsError(
                f"{target} already exists; use --force to overwrite it", path=str(target)
            ) from None
        return
    if not force:
        raise OutputExistsError(
            f"{target} already exists; use --force to overwrite it", path=str(target)
        )
    if not target.is_dir():
        raise OutputExistsError(f"{target} exists and is not a folder", path=str(target))
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be synced
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def encode_gif(frames: list[Image.Image], durations_ms: list[int], *, loop: bool = True) -> bytes:
    """An animated GIF of RGBA ``frames`` with binary transparency and exact colours.

    Every frame is saved with the same palette, built from the colours the
    frames use (at most 255 plus one transparent index), so no colour is
    dithered or approximated. Raises :class:`ValueError` for more than 255
    colours.
    """
    if not frames or len(frames) != len(durations_ms):
        raise ValueError("give one duration per frame, and at least one frame")
    arrays = [np.asarray(frame.convert("RGBA")) for frame in frames]
    opaque = [a[..., 3] >= 128 for a in arrays]
    keys = [
        (a[..., 0].astype(np.int64) << 16) | (a[..., 1].astype(np.int64) << 8) | a[..., 2]
        for a in arrays
    ]
    used = np.unique(np.concatenate([k[o] for k, o in zip(keys, opaque, strict=True)]))
    if used.size > 255:
        raise ValueError(f"a GIF holds at most 255 colours, the frames use {used.size}")
    flat = [0, 0, 0]
    for key in used.tolist():
        flat.extend(((key >> 16) & 255, (key >> 8) & 255, key & 255))
    flat.extend([0, 0, 0] * (256 - len(flat) // 3))
    indexed = []
    for k, o in zip(keys, opaque, strict=True):
        index = np.where(o, np.searchsorted(used, k) + 1, 0).astype(np.uint8)
        out = Image.frombytes("P", (index.shape[1], index.shape[0]), index.tobytes())
        out.putpalette(flat)
        indexed.append(out)
    buf = io.BytesIO()
    indexed[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=indexed[1:],
        duration=durations_ms,
        loop=0 if loop else 1,
        transparency=0,
        disposal=2,
        optimize=False,
    )
    return buf.getvalue()
