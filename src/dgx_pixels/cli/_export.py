"""``dgx-pixels export``: finished assets -> files a game engine or tool loads."""

from __future__ import annotations

from pathlib import Path

import click

from dgx_pixels.export import TARGETS, export

__all__ = ["export_command"]


@click.command("export")
@click.argument("assets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice(sorted(TARGETS)),
    help="The engine or tool to export for.",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="A game project folder: each asset goes to PROJECT/assets/<asset>/.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="A folder for the files, or the main file itself (e.g. knight.aseprite).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Replace this export's files where they changed.")
def export_command(
    assets: tuple[Path, ...],
    target: str,
    project: Path | None,
    out: Path | None,
    dry_run: bool,
    force: bool,
) -> None:
    """Export ASSETS (asset folders, manifests, sidecars or sprite PNGs) --to an engine.

    Nothing is written outside the target folder, and no existing file is
    replaced without --force (files that would not change are left alone).
    Every file written is printed.
    """
    result = export(assets, to=target, project=project, out=out, force=force, dry_run=dry_run)
    for line in result.lines():
        click.echo(line)
