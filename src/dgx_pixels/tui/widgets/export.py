"""Export a finished sprite into a game project: one dialog for Gallery and Generate.

The dialog asks for the target (Bevy, Godot, Aseprite, Tiled,
TexturePacker) and the game project's folder, then calls
:func:`dgx_pixels.export.export` in a thread exactly as ``dgx-pixels export
--to TARGET --project FOLDER`` does: the files go under
``FOLDER/assets/<asset>/`` (the target's own layout), nothing is written
outside it, and no changed file is replaced unless "replace" is ticked. The
lines it prints are shown in the dialog. The app remembers the last target
and folder for the next export.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, Static

from dgx_pixels.errors import DgxPixelsError

if TYPE_CHECKING:
    from dgx_pixels.export import ExportResult
    from dgx_pixels.tui.app import DgxPixelsApp

__all__ = ["ExportDialog", "export_project"]


def export_project(
    assets: Sequence[Path], *, target: str, project: str, force: bool = False
) -> ExportResult:
    """Export ``assets`` for ``target`` into the game project folder ``project`` (checked).

    Raises :class:`~dgx_pixels.errors.InputError` for an empty or non-folder
    path, and whatever :func:`~dgx_pixels.export.export` raises.
    """
    from dgx_pixels.errors import InputError
    from dgx_pixels.export import export

    text = project.strip()
    if not text:
        raise InputError("type the game project's folder first")
    folder = Path(text).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file, not a project folder")
    return export(list(assets), to=target, project=folder, force=force)


class ExportDialog(ModalScreen[None]):
    """Target, project folder, Enter: the export's report lines below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="export.close"),
    ]
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog #export-box {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    ExportDialog .row { height: 1; }
    ExportDialog .label { width: 9; color: $text-muted; }
    ExportDialog #export-target { width: 1fr; }
    ExportDialog #export-project { width: 1fr; }
    ExportDialog #export-result { height: auto; max-height: 10; }
    """

    def __init__(self, assets: Sequence[Path]) -> None:
        super().__init__()
        self.assets = list(assets)
        #: The last export's report (tests read it).
        self.result: ExportResult | None = None

    @property
    def studio(self) -> DgxPixelsApp:
        from dgx_pixels.tui.app import DgxPixelsApp

        return cast(DgxPixelsApp, self.app)

    def compose(self) -> ComposeResult:
        from dgx_pixels.export import TARGETS

        target, project = self.studio.last_export
        names = ", ".join(a.name for a in self.assets[:3])
        names += " ..." if len(self.assets) > 3 else ""
        with Vertical(id="export-box"):
            yield Static(Text(f"Export {names}", no_wrap=True, overflow="ellipsis"))
            with Horizontal(classes="row"):
                yield Label("to", classes="label")
                yield Select(
                    [(f"{n}: {t.summary}", n) for n, t in TARGETS.items()],
                    value=target,
                    id="export-target",
                    allow_blank=False,
                    compact=True,
                )
            with Horizontal(classes="row"):
                yield Label("project", classes="label")
                yield Input(
                    project, id="export-project", placeholder="the game's folder", compact=True
                )
            yield Checkbox("replace this export's changed files", id="export-force", compact=True)
            yield Static("Enter exports; Escape closes", id="export-result")

    def on_mount(self) -> None:
        field = self.query_one("#export-project", Input)
        if not self.studio.options.blink:
            field.cursor_blink = False
        field.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#export-project")
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        target = self.query_one("#export-target", Select).value
        force = self.query_one("#export-force", Checkbox).value
        self.studio.last_export = (str(target), event.value)
        self._say("exporting ...")
        self._export(str(target), event.value, force)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, target: str, project: str, force: bool) -> None:
        try:
            result = export_project(self.assets, target=target, project=project, force=force)
        except DgxPixelsError as exc:
            self.app.call_from_thread(self._say, exc.message, error=True)
            return
        except OSError as exc:
            self.app.call_from_thread(self._say, f"not exported: {exc}", error=True)
            return
        self.app.call_from_thread(self._done, result)

    def _done(self, result: ExportResult) -> None:
        self.result = result
        lines = result.lines() or ["nothing to write"]
        self._say("\n".join([f"{result.target} -> {result.root}", *lines]))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#export-result", Static).update(
            Text(text, style="bold red" if error else "")
        )
