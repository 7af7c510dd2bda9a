"""Compare: 2-4 variants of one prompt on the same seeds, side by side; vote per row.

A variant is a few settings over the defaults, e.g. ``steps=8 guidance=4``,
``lora=owner/style:0.8``, ``scheduler=euler palette=pico-8``,
``model=random:sdxl-tiny-b``. Every variant draws the same prompt with the
same seeds, one row per seed, all on the one worker: it loads each variant's
model (keeping those that fit its memory budget warm; a column waiting for
its model says ``loading``). A model the worker refuses or cannot load shows
its error in that column. Votes go to SQLite in the data dir (:mod:`dgx_pixels.tui.votes`);
the report (win rates with Wilson intervals) is shown and exported as CSV and
JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static

from dgx_pixels.errors import DgxPixelsError, InputError
from dgx_pixels.request import GenerationRequest, LoraRef
from dgx_pixels.tui.jobbook import JobView
from dgx_pixels.tui.link import is_noise_model
from dgx_pixels.tui.messages import RequestFailed, Submitted
from dgx_pixels.tui.outputs import Output
from dgx_pixels.tui.screens._base import PixelsScreen
from dgx_pixels.tui.votes import TIE, VoteStore, WinRate, export
from dgx_pixels.tui.widgets.sprite import SpriteView

__all__ = ["CompareScreen", "parse_variant"]

LETTERS = "ABCD"
MAX_ROWS = 8
_KEYS = ("steps", "guidance", "scheduler", "lora", "palette", "dither", "negative", "model")


def parse_variant(text: str) -> dict[str, Any]:
    """Request changes from ``key=value`` words (``lora`` may repeat).

    >>> parse_variant("steps=8 lora=a/b:0.5 lora=c/d")
    {'steps': 8, 'loras': (LoraRef(id='a/b', weight=0.5), LoraRef(id='c/d', weight=1.0))}
    >>> parse_variant("colour=red")
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: unknown variant setting 'colour'; known: steps, guidance, \
scheduler, lora, palette, dither, negative, model
    """
    changes: dict[str, Any] = {}
    loras: list[LoraRef] = []
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep or not value:
            raise InputError(f"variant settings look like key=value, got {word!r}")
        if key not in _KEYS:
            raise InputError(f"unknown variant setting {key!r}; known: {', '.join(_KEYS)}")
        try:
            if key == "steps":
                changes["steps"] = int(value)
            elif key == "guidance":
                changes["guidance"] = float(value)
            elif key == "lora":
                loras.append(LoraRef.parse(value))
            else:
                changes[key] = value
        except ValueError:
            raise InputError(f"variant setting {key} must be a number, got {value!r}") from None
    if loras:
        changes["loras"] = tuple(loras)
    return changes


class CompareScreen(PixelsScreen):
    """The variants' inputs, the grid of sprites, the votes and the report."""

    MODE = "compare"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run comparison", id="compare.run"),
        Binding("a", "vote(0)", "Vote A", id="compare.vote_a"),
        Binding("b", "vote(1)", "Vote B", id="compare.vote_b"),
        Binding("c", "vote(2)", "Vote C", show=False, id="compare.vote_c"),
        Binding("d", "vote(3)", "Vote D", show=False, id="compare.vote_d"),
        Binding("t", "vote(-1)", "Tie", id="compare.tie"),
        Binding("down,j", "row(1)", "Next row", show=False, id="compare.next"),
        Binding("up,k", "row(-1)", "Previous row", show=False, id="compare.previous"),
        Binding("e", "export", "Export report", id="compare.export"),
    ]
    DEFAULT_CSS = """
    CompareScreen #cmp-form { height: auto; padding: 0 1; }
    CompareScreen .row { height: 1; }
    CompareScreen .label { width: 10; color: $text-muted; }
    CompareScreen Input { width: 1fr; }
    CompareScreen #cmp-grid { height: 1fr; }
    CompareScreen #cmp-grid:focus { background: $boost; }
    CompareScreen .cmp-row { height: auto; padding: 0 1; }
    CompareScreen .cmp-row.-selected { background: $accent 25%; }
    CompareScreen .cmp-seed { width: 12; }
    CompareScreen .cmp-cell { width: auto; min-width: 18; margin: 0 1 0 0; }
    CompareScreen #cmp-report { height: auto; max-height: 8; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._store: VoteStore | None = None
        self._comparison: int | None = None
        self._labels: list[str] = []
        self._jobs: dict[int, int] = {}  # job id -> column
        self._placed: set[int] = set()
        self._seeds: list[int] = []
        self._row = 0
        self._prompt = ""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="cmp-form"):
            with Horizontal(classes="row"):
                yield Label("prompt", classes="label")
                yield Input(id="cmp-prompt", placeholder="a slime, front view", compact=True)
            with Horizontal(classes="row"):
                yield Label("seed", classes="label")
                yield Input(id="cmp-seed", value="1", compact=True)
                yield Label(" rows", classes="label")
                yield Input(id="cmp-rows", value="2", compact=True)
            for index, letter in enumerate(LETTERS):
                with Horizontal(classes="row"):
                    yield Label(f"variant {letter}", classes="label")
                    yield Input(
                        id=f"cmp-variant-{index}",
                        placeholder="(defaults)" if index == 0 else "e.g. steps=8 guidance=4",
                        compact=True,
                    )
        grid = VerticalScroll(id="cmp-grid")
        grid.can_focus = True
        yield grid
        yield Static("", id="cmp-report")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#cmp-variant-1", Input).value = "steps=8"
        self.watch(self.app, "jobs", self._jobs_changed)

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            ("Compare: run", self.action_run, "the variants on the same prompt and seeds"),
            ("Compare: export the report", self.action_export, "CSV and JSON in the data dir"),
        ]

    @property
    def store(self) -> VoteStore:
        """The vote store in the data dir."""
        if self._store is None:
            from dgx_pixels.paths import DataDir

            root = DataDir.resolve(self.studio.options.data_dir).root
            self._store = VoteStore(root / "compare.sqlite3")
        return self._store

    def say(self, text: str, *, error: bool = False) -> None:
        self.query_one("#cmp-report", Static).update(Text(text, style="bold red" if error else ""))

    # -------------------------------------------------------------------- run

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def action_run(self) -> None:
        """Submit every variant to the worker; lay out the grid."""
        status = self.studio.status
        if not status.serving:
            self.say("no worker serves now: nothing to compare on", error=True)
            return
        try:
            plan = self._plan(status.model)
        except DgxPixelsError as exc:
            self.say(exc.message, error=True)
            return
        if len(plan) < 2:
            self.say("compare needs at least two variants: fill in variant B", error=True)
            return
        base = plan[0][1]
        self._prompt, self._seeds = base.prompt, list(base.seeds())
        self._labels = [label for label, _ in plan]
        try:
            self._comparison = self.store.new_comparison(base.prompt, self._seeds, self._labels)
        except DgxPixelsError as exc:
            self.say(exc.message, error=True)
            return
        self._jobs, self._placed, self._row = {}, set(), 0
        self._lay_out(plan)
        for column, (_, request) in enumerate(plan):
            self._submit(request, column)
        self.query_one("#cmp-grid").focus()
        self.say(f"comparing {len(plan)} variants on seeds {self._seeds[0]}..{self._seeds[-1]}")

    def _plan(self, model: str) -> list[tuple[str, GenerationRequest]]:
        """``(label, request)`` per filled-in variant (A always counts); ``model`` is the
        default of variants that name none."""

        def value(name: str) -> str:
            return self.query_one(f"#{name}", Input).value.strip()

        rows = _whole("rows", value("cmp-rows"))
        if not 1 <= rows <= MAX_ROWS:
            raise InputError(f"rows must be between 1 and {MAX_ROWS}, got {rows}")
        prompt = value("cmp-prompt")
        base = self.studio.settings.request(
            prompt, seed=_whole("seed", value("cmp-seed")), count=rows, model=model
        )
        plan = []
        for index in range(len(LETTERS)):
            text = value(f"cmp-variant-{index}")
            if index and not text:
                continue
            request = base.replace(**parse_variant(text))
            label = " ".join(text.split()) or "(defaults)"
            plan.append((f"{LETTERS[index]}: {label}", request))
        return plan

    def _lay_out(self, plan: list[tuple[str, GenerationRequest]]) -> None:
        grid = self.query_one("#cmp-grid", VerticalScroll)
        grid.remove_children()
        header = Horizontal(classes="cmp-row")
        cells: list[Static] = [Static("", classes="cmp-seed")]
        for label, request in plan:
            text = Text(label + "\n", style="bold")
            text.append(request.model, style="dim")
            cells.append(Static(text, classes="cmp-cell"))
        rows = [header]
        grid.mount(header)
        header.mount_all(cells)
        for row, seed in enumerate(self._seeds):
            line = Horizontal(classes="cmp-row", id=f"cmp-row-{row}")
            rows.append(line)
            grid.mount(line)
            line.mount(Static(f"seed {seed}", classes="cmp-seed", id=f"cmp-vote-{row}"))
            for column in range(len(self._labels)):
                line.mount(
                    SpriteView(
                        None,
                        renderer=self.studio.renderer,
                        caption="waiting",
                        classes="cmp-cell",
                        id=f"cmp-cell-{row}-{column}",
                    )
                )
        self._mark_row()

    @work(thread=True, group="compare-submit")
    def _submit(self, request: GenerationRequest, column: int) -> None:
        try:
            with self.studio.link.client() as client:
                job = client.submit(request)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, f"compare {LETTERS[column]}"))
            return
        self.post_message(Submitted(job, str(column)))

    def on_submitted(self, message: Submitted) -> None:
        self._jobs[message.job.id] = int(message.tag)
        self._jobs_changed(self.studio.jobs)

    def on_request_failed(self, message: RequestFailed) -> None:
        self.say(f"{message.tag}: {message.message}", error=True)

    def _jobs_changed(self, jobs: dict[int, JobView]) -> None:
        for job_id, column in self._jobs.items():
            view = jobs.get(job_id)
            if view is None or job_id in self._placed:
                continue
            cells = [self.query(f"#cmp-cell-{row}-{column}") for row in range(len(self._seeds))]
            if view.state == "done":
                self._placed.add(job_id)
                for row, paths in enumerate(view.outputs[: len(self._seeds)]):
                    output = Output.from_paths(paths)
                    for cell in cells[row].results(SpriteView):
                        try:
                            image = output.image()
                        except DgxPixelsError as exc:
                            cell.show(None, caption=exc.message)
                            continue
                        cell.show(image, caption="", noise=is_noise_model(view.model))
            else:
                caption = view.state
                if view.loading:
                    caption = f"loading {view.loading}"
                elif view.state == "running" and view.total:
                    caption = f"step {view.step}/{view.total}"
                if view.terminal:
                    self._placed.add(job_id)
                    caption = f"{view.state} {view.error}".strip()
                for found in cells:
                    for cell in found.results(SpriteView):
                        cell.show(None, caption=caption)

    # ------------------------------------------------------------------ votes

    def action_row(self, step: int) -> None:
        if self._seeds:
            self._row = max(0, min(len(self._seeds) - 1, self._row + step))
            self._mark_row()

    def _mark_row(self) -> None:
        for row in range(len(self._seeds)):
            for line in self.query(f"#cmp-row-{row}"):
                line.set_class(row == self._row, "-selected")
                if row == self._row:
                    line.scroll_visible()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "vote":
            index = parameters[0] if parameters else 0
            return self._comparison is not None and (
                index == TIE or (isinstance(index, int) and index < len(self._labels))
            )
        return True

    def action_vote(self, winner: int) -> None:
        if self._comparison is None:
            return
        try:
            self.store.vote(self._comparison, self._row, winner)
        except DgxPixelsError as exc:
            self.say(exc.message, error=True)
            return
        mark = "tie" if winner == TIE else f"{LETTERS[winner]} wins"
        seed = self._seeds[self._row]
        self.query_one(f"#cmp-vote-{self._row}", Static).update(f"seed {seed}\n{mark}")
        self.action_row(1)
        self._show_report()

    def _show_report(self) -> None:
        rates = self.store.report()
        lines = [_rate_line(r) for r in rates if r.prompt in (self._prompt, "*")]
        self.say("\n".join(lines[-8:]) or "no votes yet")

    def action_export(self) -> None:
        from dgx_pixels.paths import DataDir

        folder = DataDir.resolve(self.studio.options.data_dir).root / "compare"
        try:
            csv_path, json_path = export(self.store.report(), folder)
        except (DgxPixelsError, OSError) as exc:
            self.say(f"not exported: {exc}", error=True)
            return
        self.say(f"report written: {csv_path} and {json_path.name}")


def _whole(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{name} must be a whole number, got {text!r}") from None


def _rate_line(rate: WinRate) -> str:
    where = "overall" if rate.prompt == "*" else rate.prompt[:24]
    return (
        f"{where}: {rate.variant[:28]} won {rate.wins}/{rate.rows} "
        f"({rate.rate:.0%}, 95% CI {rate.low:.0%}-{rate.high:.0%}), ties {rate.ties}"
    )


def report_paths(root: Path) -> tuple[Path, Path]:
    """Where :meth:`CompareScreen.action_export` writes (for tests and docs)."""
    folder = root / "compare"
    return folder / "compare-report.csv", folder / "compare-report.json"
