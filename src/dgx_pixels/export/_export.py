"""``export``: finished assets -> files in a game project, through the one safe writer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import InputError
from dgx_pixels.export import aseprite, bevy, godot, texturepacker, tiled
from dgx_pixels.export._asset import load_asset
from dgx_pixels.export._target import Target, places
from dgx_pixels.export._writer import OutFile, Written, write_files

__all__ = ["MAX_ASSETS", "TARGETS", "ExportResult", "export"]

#: The most assets one export takes.
MAX_ASSETS = 256

#: The export targets by name.
TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "bevy",
            bevy.SUFFIX,
            bevy.plan,
            "sheet + nearest .meta + bevy_asset_loader .assets.ron + clips/terrain + .aseprite",
            bevy.assets_folder,
        ),
        Target(
            "godot",
            godot.SUFFIX,
            godot.plan,
            "sheet + SpriteFrames .tres (one animation per tag) or TileSet .tres with terrains",
            godot.project_root,
            godot.NOTE,
        ),
        Target(
            "tiled",
            tiled.SUFFIX,
            tiled.plan,
            ".tsx (wangset with a wangid per tile, tile animations) + example .tmx map",
        ),
        Target(
            "texturepacker",
            texturepacker.SUFFIX,
            texturepacker.plan,
            "sheet + TexturePacker-style JSON, hash and array (Phaser, PixiJS, LÖVE)",
        ),
        Target(
            "aseprite",
            aseprite.SUFFIX,
            aseprite.plan,
            ".aseprite (frames, tags, palette, pivot slice) + sheet PNG + Aseprite JSON",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote (or, with ``dry_run``, would write) and where."""

    target: str
    root: Path
    files: list[Written]
    dry_run: bool
    note: str = ""

    def lines(self) -> list[str]:
        """One report line per file, then the target's note."""
        lines = [w.line(dry_run=self.dry_run) for w in self.files]
        return lines + ([f"note: {self.note}"] if self.note else [])


def export(
    assets: Sequence[str | Path],
    *,
    to: str,
    project: Path | None = None,
    out: Path | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> ExportResult:
    """Export ``assets`` (folders, manifests, sidecars or PNGs) for target ``to``.

    Exactly one of ``project`` (a game project: files go to
    ``assets/<asset>/``) or ``out`` (a folder, or the target's main file)
    is given. Raises :class:`~dgx_pixels.errors.InputError` for a bad
    target, asset or path, before anything is written.
    """
    # 1. The target and the assets, all read and checked first.
    target = TARGETS.get(to)
    if target is None:
        raise InputError(f"--to must be one of {', '.join(TARGETS)}, got {to!r}", option="--to")
    if not assets:
        raise InputError("give at least one asset (a folder, manifest, sidecar or PNG)")
    if len(assets) > MAX_ASSETS:
        raise InputError(f"{len(assets)} assets is more than one export takes ({MAX_ASSETS})")
    loaded = [load_asset(a) for a in assets]
    # 2. Where each asset's files go, and what they are.
    root, where = places(target, loaded, project=project, out=out)
    files: list[OutFile] = []
    for asset, place in zip(loaded, where, strict=True):
        files.extend(target.plan(asset, place))
    # 3. Written by the one safe writer.
    written = write_files(root, files, force=force, dry_run=dry_run)
    return ExportResult(target.name, root, written, dry_run, target.note)
