"""``dgx-pixels tui``: the terminal UI, on a running worker or one it starts."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from dgx_pixels.errors import InputError

__all__ = ["choose_renderer", "tui"]


def choose_renderer(requested: str) -> str:
    """The renderer to use: ``halfblock``, ``kitty`` or ``sixel``.

    ``auto`` asks the terminal (through textual-image, before Textual starts:
    the query needs the terminal to itself) and falls back to half blocks.
    """
    if requested != "auto":
        return requested
    import sys

    if not (sys.__stdout__ and sys.__stdout__.isatty()):
        return "halfblock"
    from textual_image import renderable

    if renderable.Image is renderable.TGPImage:
        return "kitty"
    if renderable.Image is renderable.SixelImage:
        return "sixel"
    return "halfblock"


@click.command()
@click.option("--model", default=None, help="Model a started worker loads (default: settings).")
@click.option(
    "--worker",
    "worker_address",
    metavar="ADDR",
    help="Worker address (default: $DGX_PIXELS_WORKER or tcp://127.0.0.1:5557).",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Jobs and outputs."
)
@click.option(
    "--renderer",
    type=click.Choice(["auto", "halfblock", "kitty", "sixel"]),
    default=None,
    help="How sprites are drawn (default: settings, else auto).",
)
@click.option(
    "--config-dir", type=click.Path(file_okay=False, path_type=Path), help="Where tui.toml lives."
)
@click.option("--no-start", is_flag=True, help="Never start a worker; wait for one.")
def tui(
    model: str | None,
    worker_address: str | None,
    data_dir: Path | None,
    renderer: str | None,
    config_dir: Path | None,
    no_start: bool,
) -> None:
    """The terminal UI: generate, review and compare sprites (keyboard only, 80x24 up).

    It uses the worker at --worker; when none answers it starts one there in
    the background with --model and --data-dir, and stops it on exit.
    """
    from dgx_pixels.jobs.client import resolve_address
    from dgx_pixels.paths import DataDir
    from dgx_pixels.tui import DgxPixelsApp, TuiOptions, WorkerLink, load_settings, settings_path

    path = settings_path(config_dir)
    settings = load_settings(path)
    if model is not None and not model.strip():
        raise InputError("--model must not be empty", option="model")
    address = resolve_address(worker_address)
    data = DataDir.resolve(data_dir)
    link = WorkerLink(
        address, model=model or settings.model, data_dir=data.root, may_spawn=not no_start
    )
    options = TuiOptions(
        link=link,
        settings=settings,
        settings_path=path,
        renderer=choose_renderer(renderer or settings.renderer),
        data_dir=data.root,
    )
    app = DgxPixelsApp(options)
    # A closed terminal (SIGHUP) or a kill (SIGTERM) ends the app like ctrl+q, so the
    # worker it started is stopped too instead of being left behind.
    import signal

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.exit())
    try:
        app.run()
    finally:
        spawned = link.spawned
        link.stop()  # first: the terminal may be gone, and writing to it fail
        if spawned is not None:
            with contextlib.suppress(OSError):
                click.echo(f"stopped the worker this session started (pid {spawned.pid})", err=True)
