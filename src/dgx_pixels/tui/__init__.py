"""The terminal UI (``dgx-pixels tui``): the studio a game developer iterates in.

Textual. :class:`DgxPixelsApp` wires the screens (``screens/``, one module
each) and holds the state they share; it talks to a worker through
:class:`WorkerLink` (found, or started in the background and stopped on exit)
and never blocks: every request and the event stream run in thread workers.
Sprites are drawn exactly (:mod:`dgx_pixels.tui.pixels`): half blocks, one
cell per 1x2 sprite pixels, or Kitty/Sixel graphics through textual-image.

Importing this package imports Textual (the ``tui`` extra), never torch, and
never queries the terminal (textual-image does that on import; the command
imports it only when the renderer needs it).
"""

from __future__ import annotations

from dgx_pixels.tui.app import DgxPixelsApp, TuiOptions
from dgx_pixels.tui.link import WorkerLink, WorkerStatus
from dgx_pixels.tui.settings import RENDERERS, Settings, load_settings, save_settings, settings_path

__all__ = [
    "RENDERERS",
    "DgxPixelsApp",
    "Settings",
    "TuiOptions",
    "WorkerLink",
    "WorkerStatus",
    "load_settings",
    "save_settings",
    "settings_path",
]
