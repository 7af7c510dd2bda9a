"""A worker's finished files, copied to where the user wants them.

A worker writes only into its own data dir (see docs/jobs.md, "Paths"); a
front end that wants the files elsewhere (``generate`` into ``--out``, the
MCP server into its project root) copies them from there. The copy follows
the asset store's rules: nothing is replaced without ``force``, every file
is written atomically, and if one fails the ones this call wrote are
removed again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import InputError, OutputExistsError
from dgx_pixels.image_files import write_atomic

__all__ = ["CopiedOutputs", "copy_asset", "copy_outputs"]


@dataclass(frozen=True, slots=True)
class CopiedOutputs:
    """What :func:`copy_outputs` did: the new paths per image, and what it could not reach."""

    #: One map per image, role (``sprite``, ``preview``...) -> the copy's path.
    images: tuple[dict[str, Path], ...]
    #: Files named by the worker that are not on this machine (a remote worker).
    remote: tuple[str, ...]


def copy_outputs(
    outputs: Sequence[Mapping[str, str]],
    out_dir: Path,
    *,
    force: bool = False,
    names: Mapping[str, str] | None = None,
) -> CopiedOutputs:
    """Copy each image's files (role -> path, as a job reports them) into ``out_dir``.

    A file keeps its name, or takes ``names[role]`` (a train job's LoRA
    copied to the name the user chose).

    >>> import tempfile
    >>> src, dst = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> _ = (src / "slime-1.png").write_bytes(b"png")
    >>> done = copy_outputs([{"sprite": str(src / "slime-1.png")}], dst)
    >>> done.images[0]["sprite"] == dst / "slime-1.png", done.remote
    (True, ())
    """
    # 1. What is here to copy, and nothing in the way (checked before any write).
    plan: list[list[tuple[str, Path, Path]]] = []
    remote: list[str] = []
    for files in outputs:
        here = []
        for role, name in files.items():
            source = Path(name)
            if not source.is_file():
                remote.append(name)
                continue
            here.append((role, source, out_dir / (names or {}).get(role, source.name)))
        plan.append(here)
    if not force:
        taken = [str(target) for image in plan for _, _, target in image if target.exists()]
        if taken:
            raise OutputExistsError(f"{taken[0]} exists (use --force to replace it)")
    # 2. Copy, all or nothing.
    written: list[Path] = []
    try:
        images = []
        for image in plan:
            copied = {}
            for role, source, target in image:
                copied[role] = write_atomic(source.read_bytes(), target, force=force)
                written.append(copied[role])
            images.append(copied)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return CopiedOutputs(images=tuple(images), remote=tuple(remote))


def copy_asset(outputs: Mapping[str, str], folder: Path, *, force: bool = False) -> Path:
    """Copy the asset a set job made (its output map: ``manifest`` and files) to ``folder``.

    An asset is a folder with sub-folders (``frames/``), published whole:
    its manifest is read back (and checked) and the folder written with
    :func:`~dgx_pixels.assets.write_asset`, all or none. Raises
    :class:`~dgx_pixels.errors.InputError` when the worker's files are not on
    this machine (a remote worker).
    """
    from dgx_pixels.assets._folder import write_asset
    from dgx_pixels.assets._manifest import read_manifest

    source = Path(outputs["manifest"]).parent
    if not source.is_dir():
        raise InputError(
            f"the worker's asset {source} is not on this machine (a worker on another "
            "machine keeps its files in its own data dir)",
            path=str(source),
        )
    manifest = read_manifest(source)
    files = {name: (source / name).read_bytes() for name in manifest.files()}
    return write_asset(folder, manifest, files, force=force)
