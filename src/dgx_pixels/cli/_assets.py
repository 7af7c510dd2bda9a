"""What the set commands (``sheet``, ``animate``, ``tiles``, ``tileset``) share:
where the asset folder goes, checked before any work.

An asset is a folder (``docs/assets.md``). ``--out hero`` writes ``hero/``;
``--out hero.png`` names the same folder (the sheet inside is ``sheet.png``).
The asset's name is the folder's name as a slug.

>>> plan_asset(Path("out/Hero Walk.png"), force=True)
(PosixPath('out/Hero Walk'), 'hero-walk')
"""

from __future__ import annotations

from pathlib import Path

from dgx_pixels.errors import OutputExistsError

__all__ = ["plan_asset"]


def plan_asset(out: Path, *, force: bool) -> tuple[Path, str]:
    """The asset folder and the asset's name; raises if the folder exists without ``force``."""
    from dgx_pixels.assets import slugify

    folder = out.with_suffix("") if out.suffix.lower() == ".png" else out
    if folder.exists() and not force:
        raise OutputExistsError(
            f"{folder} already exists; use --force to overwrite it", path=str(folder)
        )
    return folder, slugify(folder.name)
