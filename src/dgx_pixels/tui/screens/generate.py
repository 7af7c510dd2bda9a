"""Generate: a prompt and its settings -> sprites, with the worker's live step previews.

The prompt has focus at start and Enter submits (from any field). Each job
shows as a tile in the results strip, first with its step preview and
progress, then as its finished sprites. A finished sprite, once selected,
can be re-rolled with its seed, varied (same request, new seeds), used as the
init image of an img2img job, re-processed locally with another palette,
animated, or exported into a game project (the export dialog Gallery uses
too). Animate offers the generated actions (the worker's model draws idle,
walk, ... with the sprite as the character, as an animate job whose progress
counts frames) and the model-free effects (made here, the asset folder written
beside the sprite); either animation plays in the strip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, ProgressBar, Select, Static

from dgx_pixels.errors import DgxPixelsError
from dgx_pixels.request import GenerationRequest, LoraRef
from dgx_pixels.tui.jobbook import JobView
from dgx_pixels.tui.link import WorkerStatus, is_noise_model
from dgx_pixels.tui.messages import ExportRequested, RequestFailed, Submitted
from dgx_pixels.tui.outputs import Output, plan_animation, read_animation, reprocess
from dgx_pixels.tui.screens._base import PixelsScreen
from dgx_pixels.tui.widgets.animation import AnimatePicker, AnimationChoice, AnimationTile
from dgx_pixels.tui.widgets.export import ExportDialog
from dgx_pixels.tui.widgets.form import labelled
from dgx_pixels.tui.widgets.results import JobTile, ResultTile
from dgx_pixels.tui.widgets.swatches import Swatches

__all__ = ["GenerateScreen", "build_request"]

_NO_PALETTE = "(none)"


def _palette_options() -> list[tuple[str, str]]:
    from dgx_pixels.pixel.palette import builtin_names

    names = [_NO_PALETTE, *builtin_names(), "auto:8", "auto:16", "auto:32"]
    return [(name, name) for name in names]


def _scheduler_options() -> list[tuple[str, str]]:
    from dgx_pixels.engine._schedulers import SCHEDULERS

    return [(name, name) for name in SCHEDULERS]


def _number(name: str, text: str, kind: type[int] | type[float]) -> Any:
    from dgx_pixels.errors import RequestError

    try:
        return kind(text.strip())
    except ValueError:
        word = "a whole number" if kind is int else "a number"
        raise RequestError(f"{name} must be {word}, got {text!r}", option=name) from None


def build_request(fields: dict[str, str], *, model: str, seed_locked: bool) -> GenerationRequest:
    """The request the form's ``fields`` (their texts) ask for, checked.

    An unlocked seed is drawn at random; a locked one must be given.

    >>> r = build_request({"prompt": "a slime", "size": "16x24", "count": "2", "seed": "5",
    ...                    "steps": "4", "guidance": "5", "loras": "a/b:0.5"},
    ...                   model="random:sdxl-tiny", seed_locked=True)
    >>> r.size, r.seeds(), [str(lo) for lo in r.loras]
    ((16, 24), (5, 6), ['a/b:0.5'])
    """
    from dgx_pixels.cli._params import parse_size
    from dgx_pixels.errors import RequestError

    get = fields.get
    seed_text = (get("seed") or "").strip()
    if seed_locked and not seed_text:
        raise RequestError("the seed is locked but empty: type a seed or unlock it", option="seed")
    loras = tuple(
        LoraRef.parse(part.strip()) for part in (get("loras") or "").split(",") if part.strip()
    )
    palette = (get("palette") or "").strip()
    init = (get("init") or "").strip()
    changes: dict[str, Any] = {
        "prompt": get("prompt") or "",
        "size": parse_size((get("size") or "32").strip(), option="size"),
        "count": _number("count", get("count") or "1", int),
        "seed": _number("seed", seed_text, int) if seed_locked else None,
        "model": model,
        "loras": loras,
        "steps": _number("steps", get("steps") or "30", int),
        "guidance": _number("guidance", get("guidance") or "6", float),
        "negative": (get("negative") or "").strip() or None,
        "palette": None if palette in ("", _NO_PALETTE) else palette,
        "background": (get("background") or "transparent").strip(),
    }
    if get("scheduler"):
        changes["scheduler"] = get("scheduler")
    if init:
        changes["init"] = str(Path(init).expanduser().resolve())
        changes["strength"] = _number("strength", get("strength") or "0.6", float)
    return GenerationRequest(**changes)


class GenerateScreen(PixelsScreen):
    """Prompt, settings, live progress and the results strip."""

    MODE = "generate"
    CSS_PATH = "generate.tcss"
    WIDGETS_WITH_KEYS: ClassVar[tuple[type[ResultTile | AnimationTile], ...]] = (
        ResultTile,
        AnimationTile,
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Generate", id="generate.submit"),
        Binding("ctrl+l", "toggle_lock", "Lock seed", id="generate.lock"),
        Binding("ctrl+t", "focus_results", "Results", id="generate.results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._mine: list[int] = []
        self._shown: set[int] = set()
        self._animating: dict[int, Output] = {}  # animate job -> the sprite it animates

    # ----------------------------------------------------------------- layout

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="a knight with a sword, side view", id="prompt", compact=True)
        with Horizontal(id="gen-body"):
            with VerticalScroll(id="gen-form"):
                yield from labelled("size", Input(id="size", compact=True))
                yield from labelled("count", Input(id="count", compact=True))
                with Horizontal(classes="row"):
                    yield Label("seed", classes="label")
                    yield Input(id="seed", placeholder="random", compact=True)
                    yield Checkbox("lock", id="seed-lock", compact=True)
                yield from labelled(
                    "palette",
                    Select(_palette_options(), id="palette", allow_blank=False, compact=True),
                )
                yield Swatches(id="swatches")
                yield from labelled(
                    "model", Input(id="model", placeholder="(the worker's)", compact=True)
                )
                yield from labelled(
                    "loras", Input(id="loras", placeholder="id:weight, ...", compact=True)
                )
                yield from labelled("steps", Input(id="steps", compact=True))
                yield from labelled("guidance", Input(id="guidance", compact=True))
                yield from labelled(
                    "scheduler",
                    Select(_scheduler_options(), id="scheduler", allow_blank=False, compact=True),
                )
                yield from labelled(
                    "negative",
                    Input(id="negative", placeholder="(pixel-art default)", compact=True),
                )
                yield from labelled("background", Input(id="background", compact=True))
                yield from labelled(
                    "init", Input(id="init", placeholder="(none: txt2img)", compact=True)
                )
                yield from labelled("strength", Input(id="strength", compact=True))
            with Vertical(id="gen-right"):
                yield Static("", id="gen-progress")
                yield ProgressBar(id="gen-bar", show_eta=False)
                yield HorizontalScroll(id="gen-strip")
                yield Static("", id="gen-message")

    def on_mount(self) -> None:
        super().on_mount()
        s = self.studio.settings
        for name, value in (
            ("size", s.size),
            ("count", str(s.count)),
            ("steps", str(s.steps)),
            ("guidance", f"{s.guidance:g}"),
            ("negative", s.negative),
            ("background", s.background),
            ("strength", "0.6"),
        ):
            self.query_one(f"#{name}", Input).value = value
        self.query_one("#palette", Select).value = s.palette or _NO_PALETTE
        self.query_one("#scheduler", Select).value = s.scheduler
        self.query_one("#gen-bar", ProgressBar).display = False
        self.watch(self.app, "jobs", self._jobs_changed)
        self.query_one("#prompt", Input).focus()

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            ("Generate: submit", self.action_submit, "queue the prompt with these settings"),
            ("Generate: lock the seed", self.action_toggle_lock, "keep the seed between runs"),
        ]

    # ------------------------------------------------------------------ input

    def model_for_request(self) -> str:
        """The model field's id; empty: the worker's default model (warm, so no load),
        or the settings' default when no worker serves one yet. The worker loads any
        other model on demand, within its memory budget."""
        typed = self.query_one("#model", Input).value.strip()
        if typed:
            return typed
        status = self.studio.status
        return status.model if status.serving and status.model else self.studio.settings.model

    def fields(self) -> dict[str, str]:
        """The form's texts by field name."""
        texts = {w.id or "": w.value for w in self.query(Input)}
        for name in ("palette", "scheduler"):
            value = self.query_one(f"#{name}", Select).value
            texts[name] = value if isinstance(value, str) else ""
        return texts

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Select.Changed, "#palette")
    def _palette_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else ""
        self.query_one(Swatches).show(None if value == _NO_PALETTE else value)

    def action_toggle_lock(self) -> None:
        box = self.query_one("#seed-lock", Checkbox)
        box.value = not box.value

    def action_focus_results(self) -> None:
        tiles = self.query(ResultTile)
        if tiles:
            tiles.first().focus()

    def action_submit(self, **changes: Any) -> None:
        """Queue the form's request (with ``changes`` applied)."""
        model = self.model_for_request()
        try:
            request = build_request(
                self.fields(), model=model, seed_locked=self.query_one("#seed-lock", Checkbox).value
            )
            if changes:
                request = request.replace(**changes)
        except DgxPixelsError as exc:
            self.say(exc.message, error=True)
            return
        self.submit(request)

    def submit(self, request: GenerationRequest) -> None:
        """Queue ``request`` on the worker (in a thread)."""
        if not self.query_one("#seed-lock", Checkbox).value:
            self.query_one("#seed", Input).value = str(request.seed)
        self.say(f"submitting {request.count} x {request.size[0]}x{request.size[1]} ...")
        self._submit(request)

    @work(thread=True, group="generate-submit")
    def _submit(self, request: GenerationRequest) -> None:
        try:
            with self.studio.link.client() as client:
                job = client.submit(request)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "generate"))
            return
        self.post_message(Submitted(job, "generate"))

    def on_submitted(self, message: Submitted) -> None:
        self._mine.append(message.job.id)
        if isinstance(message.source, Output):
            self._animating[message.job.id] = message.source
        self.say(f"queued job #{message.job.id}")
        from dgx_pixels.tui.jobbook import from_record

        view = self.studio.jobs.get(message.job.id) or from_record(message.job)
        self._place_job(view)

    def on_request_failed(self, message: RequestFailed) -> None:
        self.say(message.message, error=True)

    def say(self, text: str, *, error: bool = False) -> None:
        """One line under the results."""
        self.query_one("#gen-message", Static).update(Text(text, style="bold red" if error else ""))

    # ------------------------------------------------------------------- jobs

    def _zoom(self, size: tuple[int, int]) -> int:
        return 2 if self.app.size.height >= 40 and max(size) <= 48 else 1

    def _place_job(self, view: JobView) -> None:
        strip = self.query_one("#gen-strip", HorizontalScroll)
        if view.id in self._shown or strip.query(f"#job-{view.id}"):
            return
        size = view.request.get("size") or [32, 32]
        tile = JobTile(
            view,
            renderer=self.studio.renderer,
            zoom=self._zoom((int(size[0]), int(size[1]))),
            noise=is_noise_model(view.model or self.studio.status.model),
        )
        strip.mount(tile, before=0) if strip.children else strip.mount(tile)

    def _jobs_changed(self, jobs: dict[int, JobView]) -> None:
        running: JobView | None = None
        for job_id in self._mine:
            view = jobs.get(job_id)
            if view is None or job_id in self._shown:
                continue
            if job_id in self._animating and view.task != "animate":
                # known from its Accepted event alone, before a listing brings its task
                view = dataclasses.replace(view, task="animate")
            tiles = self.query(f"#job-{job_id}")
            if not tiles:
                self._place_job(view)
                tiles = self.query(f"#job-{job_id}")
            tile = tiles.first(JobTile) if tiles else None
            if view.state == "done" and view.outputs and job_id in self._animating:
                self._show_drawn_animation(view, tile)
            elif view.state == "done" and view.outputs:
                self._show_results(view, tile)
            elif tile is not None:
                tile.update_view(view)
                if view.state == "running":
                    running = view
                if view.state in ("failed", "cancelled"):
                    self._shown.add(job_id)
                    self._animating.pop(job_id, None)
                    if view.error:
                        self.say(f"job #{job_id} failed: {view.error}", error=True)
        self._show_progress(running)

    def _show_progress(self, view: JobView | None) -> None:
        bar = self.query_one("#gen-bar", ProgressBar)
        label = self.query_one("#gen-progress", Static)
        if view is None or not view.total:
            bar.display = False
            label.update("")
            return
        bar.display = True
        bar.update(total=view.total, progress=view.step)
        eta = f", about {view.eta_s:.0f} s left" if view.eta_s is not None else ""
        label.update(f"job #{view.id}: {view.unit} {view.step} of {view.total}{eta}")

    def _show_results(self, view: JobView, tile: JobTile | None) -> None:
        self._shown.add(view.id)
        strip = self.query_one("#gen-strip", HorizontalScroll)
        tiles = []
        for paths in view.outputs:
            output = Output.from_paths(paths)
            seed = output.sprite.stem.rpartition("-")[2]
            size = view.request.get("size") or [32, 32]
            tiles.append(
                ResultTile(
                    output,
                    caption=f"#{view.id} seed {seed}",
                    renderer=self.studio.renderer,
                    zoom=self._zoom((int(size[0]), int(size[1]))),
                    noise=is_noise_model(view.model),
                    classes="result",
                )
            )
        if tile is not None:
            strip.mount_all(tiles, before=tile)
            tile.remove()
        else:
            strip.mount_all(tiles, before=0) if strip.children else strip.mount_all(tiles)
        self.say(f"job #{view.id} done: {len(tiles)} sprite(s) in {tiles[0].output.sprite.parent}")

    def worker_status_changed(self, status: WorkerStatus) -> None:
        if status.state == "gone" and any(
            (v := self.studio.jobs.get(j)) is not None and not v.terminal for j in self._mine
        ):
            self.say("the worker is gone: its jobs wait in the queue for the next one", error=True)

    # ---------------------------------------------------------- result actions

    @on(ResultTile.Action)
    def _result_action(self, message: ResultTile.Action) -> None:
        output = message.tile.output
        try:
            match message.action:
                case "reroll":
                    seed = output.request().seed
                    self.query_one("#seed", Input).value = str(seed)
                    self.query_one("#seed-lock", Checkbox).value = True
                    self.action_submit()
                case "variations":
                    self.submit(output.request().replace(seed=None, count=self._count()))
                case "img2img":
                    self.query_one("#init", Input).value = str(output.sprite)
                    self.action_submit()
                case "reprocess":
                    palette = self.fields().get("palette", "")
                    if palette in ("", _NO_PALETTE):
                        self.say("choose a palette above first, then press p", error=True)
                        return
                    self._reprocess(output, palette)
                case "animate":
                    self.app.push_screen(
                        AnimatePicker(), lambda choice: self.animate_output(output, choice)
                    )
        except DgxPixelsError as exc:
            self.say(exc.message, error=True)

    def on_export_requested(self, message: ExportRequested) -> None:
        self.app.push_screen(ExportDialog(message.paths))

    def animate_output(self, output: Output, choice: AnimationChoice | None) -> None:
        """Animate ``output`` as the picker's ``choice`` (None: cancelled); Gallery's ``a``
        comes here too (through the app), so both show it in this strip."""
        if choice is None:
            return
        if choice.effect:
            self.say(f"animating with {choice.name} ...")
            self._make_effect(output, choice.name)
            return
        try:  # checked here, before anything is sent: the bad value in one line
            steps = _number("steps", self.query_one("#steps", Input).value or "30", int)
            plan = plan_animation(
                output, choice.name, choice.frames, choice.directions,
                model=self.model_for_request(), steps=steps,
            )  # fmt: skip
        except DgxPixelsError as exc:
            self.say(exc.message, error=True)
            return
        frames, directions = plan.options["frames"], plan.options["directions"]
        self.say(f"submitting {choice.name}: {frames} frames x {directions} direction(s) ...")
        self._submit_animation(plan, output)

    @work(thread=True, group="generate-submit")
    def _submit_animation(self, plan: Any, output: Output) -> None:
        try:
            with self.studio.link.client() as client:
                job = client.submit_set(
                    plan.task, plan.request, dict(plan.options), from_file=output.sprite
                )
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "animate"))
            return
        self.post_message(Submitted(job, "animate", source=output))

    def _show_drawn_animation(self, view: JobView, tile: JobTile | None) -> None:
        """A finished animate job: its asset (on the shared data dir) plays in the strip."""
        self._shown.add(view.id)
        source = self._animating.pop(view.id)
        if tile is not None:
            tile.remove()
        try:
            folder, frames, duration = read_animation(view.outputs[0]["manifest"])
        except (DgxPixelsError, KeyError) as exc:
            self.say(f"job #{view.id} done, but its asset cannot be read here: {exc}", error=True)
            return
        options = view.request.get("options")
        action = (
            str(options.get("action", "animation")) if isinstance(options, dict) else "animation"
        )
        self._add_animation(source, folder, frames, duration, action)

    @work(thread=True, group="generate-animate")
    def _make_effect(self, output: Output, effect: str) -> None:
        from dgx_pixels.cli._animate import effect_asset
        from dgx_pixels.sprites import EFFECTS

        try:
            folder, frames = effect_asset(
                output.sprite, effect, None, None, 4, output.sprite.parent, False
            )
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "animate"))
            return
        duration = EFFECTS[effect].duration_ms
        self.app.call_from_thread(self._add_animation, output, folder, frames, duration, effect)

    def _add_animation(
        self, source: Output, folder: Path, frames: list[Any], duration: int, effect: str
    ) -> None:
        tile = AnimationTile(
            frames,
            duration_ms=duration,
            folder=folder,
            caption=f"{effect} x{len(frames)}",
            renderer=self.studio.renderer,
            zoom=self._zoom(frames[0].size),
            noise=source.noise,
            classes="result",
        )
        self.query_one("#gen-strip", HorizontalScroll).mount(tile, before=0)
        self.say(f"{effect}: {len(frames)} frames in {folder}")

    def _count(self) -> int:
        try:
            return max(1, int(self.query_one("#count", Input).value))
        except ValueError:
            return 1

    @work(thread=True, group="generate-reprocess")
    def _reprocess(self, output: Output, palette: str) -> None:
        try:
            path = reprocess(output, palette)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "reprocess"))
            return
        self.app.call_from_thread(self._add_reprocessed, output, path, palette)

    def _add_reprocessed(self, source: Output, path: Path, palette: str) -> None:
        strip = self.query_one("#gen-strip", HorizontalScroll)
        image_size = source.image().size
        tile = ResultTile(
            Output(path, source.raw, None),
            caption=f"{palette}",
            renderer=self.studio.renderer,
            zoom=self._zoom(image_size),
            noise=source.noise,
            classes="result",
        )
        strip.mount(tile, before=0)
        self.say(f"re-processed with {palette}: {path}")
