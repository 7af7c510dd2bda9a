"""What every export target shares: where an asset's files go, and the target registry.

A target is one module with one function, ``plan(asset, place) -> [OutFile]``:
the files this asset becomes, with paths relative to the target folder. Only
:func:`dgx_pixels.export.write_files` writes them.

Where they go (:func:`places`):

- ``--project P``: into ``P/assets/<asset>/``, the asset's own folder, so a
  re-export replaces its own files and nothing else;
- ``-o DIR``: into ``DIR`` itself, each file named after its asset;
- ``-o FILE`` with the target's main suffix (``knight.aseprite``): that file,
  with the target's other files beside it under the same stem (one asset).

Engines name files from their own root: Bevy from the project's ``assets/``
folder, Godot from the folder holding ``project.godot`` (``res://``). Each
target says how to find that root; :attr:`Place.base` is the asset's folder
as the engine names it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.export._asset import Asset
from dgx_pixels.export._writer import OutFile, check_name

__all__ = ["Place", "Target", "engine_path", "places", "png_bytes", "sheet_bytes"]


@dataclass(frozen=True, slots=True)
class Place:
    """Where one asset's files go: a folder under the target folder and a file stem."""

    folder: PurePosixPath
    stem: str
    base: PurePosixPath  # ``folder`` as the engine names it (relative to the engine's root)


@dataclass(frozen=True, slots=True)
class Target:
    """One export target: its name, its main file suffix and its ``plan`` function."""

    name: str
    suffix: str
    plan: Callable[[Asset, Place], list[OutFile]]
    summary: str
    # The engine's root for a folder (Bevy's assets/, Godot's res://), or None: the target folder.
    engine_root: Callable[[Path], Path | None] | None = None
    note: str = ""  # what the user must still do by hand, said after the files


def places(
    target: Target,
    assets: Sequence[Asset],
    *,
    project: Path | None = None,
    out: Path | None = None,
) -> tuple[Path, list[Place]]:
    """The target folder and each asset's :class:`Place`, by the rules above."""
    if (project is None) == (out is None):
        raise InputError("give exactly one of --project PATH or -o PATH")
    if project is not None:
        if not project.is_dir():
            raise InputError(f"--project {project}: not an existing folder", option="--project")
        root = project
        layout = [(PurePosixPath("assets", a.name), a.name) for a in assets]
    else:
        assert out is not None
        if target.suffix and out.suffix.lower() == target.suffix and not out.is_dir():
            if len(assets) != 1:
                raise InputError(
                    f"-o {out} names one file but {len(assets)} assets were given; "
                    "give a folder for several"
                )
            root = out.parent
            stem = check_name(out.stem).as_posix()
            layout = [(PurePosixPath(), stem)]
        else:
            root = out
            layout = [(PurePosixPath(), a.name) for a in assets]
    return root, [Place(folder, stem, _base(target, root, folder)) for folder, stem in layout]


def _base(target: Target, root: Path, folder: PurePosixPath) -> PurePosixPath:
    if target.engine_root is None:
        return folder
    where = Path(os.path.abspath(root.joinpath(*folder.parts)))
    anchor = target.engine_root(where)
    if anchor is None:
        return folder
    return PurePosixPath(where.relative_to(anchor).as_posix())


def engine_path(place: Place, name: str) -> str:
    """``name`` in ``place``'s folder as the engine names it: ``knight/knight.png``."""
    return (place.base / name).as_posix()


def sheet_bytes(asset: Asset) -> bytes:
    """The asset's sheet PNG: the file exactly as it is on disk, or the composed sheet encoded."""
    if asset.sheet_path is None:
        return png_bytes(asset.sheet)
    try:
        return asset.sheet_path.read_bytes()
    except OSError as exc:
        raise InputError(f"{asset.sheet_path}: cannot read ({exc.strerror or exc})") from None


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as a PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
