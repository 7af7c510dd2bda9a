"""The ``dgx-pixels`` command: one program, many sub-commands.

Sub-commands live in their own modules and are imported only when run, so
``dgx-pixels --help`` never imports torch. This is the only place that turns
a :class:`~dgx_pixels.errors.DgxPixelsError` into an exit code: one line on
stderr, the error's ``exit_code``, never a traceback.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from dgx_pixels import __version__
from dgx_pixels.errors import DgxPixelsError

__all__ = ["cli", "main"]

# name -> (module, attribute, one-line help). The help is here so that listing
# the commands imports none of them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "restore": (
        "dgx_pixels.cli._restore",
        "restore",
        'AI "pseudo pixel art" -> the true low-resolution sprite.',
    ),
    "pixelize": (
        "dgx_pixels.cli._pixelize",
        "pixelize",
        "Any image -> pixel art at a target size and palette.",
    ),
    "palette": ("dgx_pixels.cli._palette", "palette", "List, show and extract palettes."),
    "generate": ("dgx_pixels.cli._generate", "generate", "Prompt -> pixel-art sprites on disk."),
    "models": ("dgx_pixels.cli._models", "models", "List, pull, describe and verify models."),
    "export": (
        "dgx_pixels.cli._export",
        "export_command",
        "Assets into Bevy, Godot, Aseprite, Tiled or atlas JSON.",
    ),
    "bench": ("dgx_pixels.cli._bench", "bench", "Generation speed against plain diffusers."),
    "worker": ("dgx_pixels.cli._jobs", "worker", "Keep a model warm and run queued jobs."),
    "submit": ("dgx_pixels.cli._jobs", "submit", "Queue a generation on the running worker."),
    "jobs": ("dgx_pixels.cli._jobs", "jobs", "List jobs (--json for scripts)."),
    "watch": ("dgx_pixels.cli._jobs", "watch", "Show a job's live progress until it ends."),
    "cancel": ("dgx_pixels.cli._jobs", "cancel", "Cancel a queued or running job."),
    "retry": (
        "dgx_pixels.cli._jobs",
        "retry",
        "Queue a failed or cancelled job again, as a new job.",
    ),
    "reprioritise": (
        "dgx_pixels.cli._jobs",
        "reprioritise",
        "Give a queued job another priority (higher runs first).",
    ),
    "ping": (
        "dgx_pixels.cli._ping",
        "ping",
        "Does a worker answer? (exit 0: yes; for healthchecks)",
    ),
    "doctor": ("dgx_pixels.cli._doctor", "doctor", "What this machine has and lacks, with fixes."),
    "mcp": ("dgx_pixels.cli._mcp", "mcp", "MCP server for AI assistants (stdio or HTTP)."),
    "train": ("dgx_pixels.cli._train", "train", "Train a style LoRA on your own sprites."),
    "animate": (
        "dgx_pixels.cli._animate",
        "animate",
        "Animate a sprite: model-free effects (hit flash, idle bob, ...).",
    ),
    "tiles": (
        "dgx_pixels.cli._tiles",
        "tiles",
        "Seamless tiles from a prompt, with variants that share palette and edges.",
    ),
    "tileset": (
        "dgx_pixels.cli._tileset",
        "tileset",
        "Autotile sets (blob47, wang16) from an RPG Maker A2-style template.",
    ),
    "sheet": ("dgx_pixels.cli._sheet", "sheet", "Pack frames into one sheet with atlas data."),
    "tui": ("dgx_pixels.cli._tui", "tui", "The terminal UI: generate, review, compare."),
}


def printable(text: str) -> str:
    """``text`` for a terminal: line breaks and control characters escaped, so it is one line.

    Text from a worker or a file (a prompt, an error) can forge rows or move
    the cursor otherwise.

    >>> print(printable("a knight\\n   7  done\\x1b[2J\\r"))
    a knight\\n   7  done\\x1b[2J\\r
    """
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


class UserError(click.ClickException):
    """A :class:`DgxPixelsError` on its way out: one line, the error's exit code."""

    def __init__(self, error: DgxPixelsError) -> None:
        super().__init__(printable(error.message))
        self.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance
        self.error = error


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        try:
            command = getattr(importlib.import_module(module_name), attr)
        except ImportError as exc:
            # An optional extra is not installed: say which one, do not crash.
            missing = exc.name or str(exc)
            raise click.ClickException(
                f"'{cmd_name}' needs a package that is not installed ({missing}); "
                f"install the extra it belongs to, for example: pip install 'dgx-pixels[all]'"
            ) from None
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}.{attr} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DgxPixelsError as exc:
            raise UserError(exc) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dgx-pixels")
def cli() -> None:
    """DGX-Pixels: game-ready pixel art on your own GPU.

    True-resolution sprites (a 32x32 sprite is a 32x32 PNG), limited palettes,
    transparent backgrounds. Run a command with --help for its options.
    """


def main(argv: list[str] | None = None) -> None:
    """Run the command line; the ``dgx-pixels`` entry point."""
    cli.main(args=argv, prog_name="dgx-pixels")
