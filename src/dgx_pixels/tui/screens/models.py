"""Models: the model ids and what the Hugging Face cache holds, with LoRA metadata.

The rows come from the same code as ``dgx-pixels models list``
(:mod:`dgx_pixels.engine.models`, the hub cache reader and the command's
state and size helpers). For a cached LoRA the trigger words and a
recommended weight are read from its safetensors metadata, where its author
wrote them; "-" where it has none. Its hash is the SHA-256 the cache names
its blob by.

``p`` pulls the highlighted id, Enter in the pull field pulls what is typed
there (tick "LoRA" for a LoRA repository): the same download as
``dgx-pixels models pull``, in a thread, with the bytes that reach the cache
shown as they arrive (:class:`~dgx_pixels.engine._hub.DownloadWatch`; the hub
library tells no total, so the bar only moves). ``d`` makes the highlighted
id the default model: saved in the settings file, it is what ``dgx-pixels
tui`` starts a worker with and what Generate asks for when no worker serves one.
On a cached repository holding a diffusers pipeline, ``d`` makes its hub id the default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.widgets import Checkbox, DataTable, Input, ProgressBar, Static

from dgx_pixels.errors import DgxPixelsError, InputError
from dgx_pixels.tui.messages import PullFinished, PullProgress, RequestFailed
from dgx_pixels.tui.screens._base import PixelsScreen

__all__ = ["LoraMeta", "ModelsScreen", "lora_meta"]

_WEIGHT_KEYS = ("modelspec.recommended_weight", "ss_recommended_weight", "recommended_weight")


@dataclass(frozen=True, slots=True)
class LoraMeta:
    """What a LoRA file says about its use."""

    file: Path
    triggers: tuple[str, ...]
    weight: str
    sha256: str


def lora_meta(path: Path) -> LoraMeta:
    """Trigger words (``modelspec.trigger_phrase``, else the most frequent training tags)
    and the recommended weight of the LoRA at ``path``."""
    from dgx_pixels.engine._loras import read_safetensors_header

    meta = read_safetensors_header(path).get("__metadata__") or {}
    triggers: list[str] = []
    phrase = meta.get("modelspec.trigger_phrase")
    if isinstance(phrase, str) and phrase.strip():
        triggers = [t.strip() for t in phrase.split(",") if t.strip()]
    elif isinstance(meta.get("ss_tag_frequency"), str):
        try:
            counts: dict[str, int] = {}
            for tags in json.loads(meta["ss_tag_frequency"]).values():
                for tag, n in tags.items():
                    counts[tag.strip()] = counts.get(tag.strip(), 0) + int(n)
            triggers = sorted(counts, key=lambda t: -counts[t])[:3]
        except (ValueError, AttributeError, TypeError):
            triggers = []
    weight = next((str(meta[k]) for k in _WEIGHT_KEYS if k in meta), "-")
    return LoraMeta(path, tuple(triggers), weight, _sha256(path))


def _sha256(path: Path) -> str:
    """The file's SHA-256: the name of its blob in the HF cache, else hashed."""
    from dgx_pixels.engine._hub import sha256_file

    blob = path.resolve()
    if len(blob.name) == 64 and all(c in "0123456789abcdef" for c in blob.name):
        return blob.name
    return sha256_file(path)


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


class ModelsScreen(PixelsScreen):
    """Known ids and their state; cached repositories with size, revision and LoRA metadata."""

    MODE = "models"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "rescan", "Rescan cache", id="models.rescan"),
        Binding("p", "pull_highlighted", "Pull model", id="models.pull"),
        Binding("d", "set_default", "Set default", id="models.default"),
    ]
    DEFAULT_CSS = """
    ModelsScreen #models-ids { height: auto; max-height: 8; }
    ModelsScreen #models-pull { height: 1; padding: 0 1; }
    ModelsScreen #models-pull-id { width: 1fr; }
    ModelsScreen #models-pull-bar { width: 24; padding: 0 1; }
    ModelsScreen #models-pull-status { height: 1; padding: 0 1; }
    ModelsScreen #models-cache-label { height: 1; padding: 0 1; color: $text-muted; }
    ModelsScreen #models-cache { height: 1fr; }
    ModelsScreen #models-detail { height: auto; max-height: 6; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._repos: list[Any] = []
        self._loras: dict[str, list[LoraMeta]] = {}
        self._ids: list[str] = []
        self._pulling: str | None = None
        self._received = 0
        #: The first cache scan is shown (snapshots wait for it).
        self.settled = False

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="models-ids", cursor_type="row")
        with Horizontal(id="models-pull"):
            yield Input(
                id="models-pull-id", placeholder="pull: a model id or owner/name", compact=True
            )
            yield Checkbox("LoRA", id="models-pull-lora", compact=True)
            yield ProgressBar(id="models-pull-bar", show_eta=False, show_percentage=False)
        yield Static("", id="models-pull-status")
        yield Static("", id="models-cache-label")
        yield DataTable(id="models-cache", cursor_type="row")
        yield Static("", id="models-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#models-ids", DataTable).add_columns(
            "model id", "state", "default", "what it is"
        )
        self.query_one("#models-cache", DataTable).add_columns(
            "repository", "kind", "size", "revision", "trigger words", "weight"
        )
        self.query_one("#models-pull-bar", ProgressBar).display = False
        self.watch(self.app, "settings", lambda _: self._mark_default(), init=False)
        self.action_rescan()

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        return [
            ("Models: rescan the cache", self.action_rescan, "ctrl+r"),
            ("Models: pull the highlighted id", self.action_pull_highlighted, "p"),
            ("Models: make the highlighted id the default", self.action_set_default, "d"),
        ]

    def say(self, text: str, *, error: bool = False) -> None:
        """The pull / default line."""
        self.query_one("#models-pull-status", Static).update(
            Text(text, style="bold red" if error else "", no_wrap=True, overflow="ellipsis")
        )

    def highlighted_id(self) -> str | None:
        """The model id under the ids table's cursor."""
        row = self.query_one("#models-ids", DataTable).cursor_row
        return self._ids[row] if 0 <= row < len(self._ids) else None

    # ------------------------------------------------------------- default

    def action_set_default(self) -> None:
        model_id = self.highlighted_id()
        cache = self.query_one("#models-cache", DataTable)
        if self.focused is cache and 0 <= cache.cursor_row < len(self._repos):
            repo = self._repos[cache.cursor_row]  # a pulled pipeline: its hub id
            if not any(repo.path.glob("snapshots/*/model_index.json")):
                self.say(f"{repo.repo_id} is not a diffusers pipeline (a LoRA?)", error=True)
                return
            model_id = repo.repo_id
        if model_id is None:
            return
        try:
            path = self.studio.keep_settings(self.studio.settings.replace(model=model_id))
        except (OSError, DgxPixelsError) as exc:
            self.say(f"default not saved: {getattr(exc, 'message', exc)}", error=True)
            return
        where = f"saved in {path}" if path else "for this session (no settings file)"
        self.say(f"default model: {model_id}, {where}")
        if model_id not in self._ids:
            self.action_rescan()  # listed among the ids from now on

    def _mark_default(self) -> None:
        table = self.query_one("#models-ids", DataTable)
        if table.row_count != len(self._ids) or not self._ids:
            return
        for row, model_id in enumerate(self._ids):
            mark = "default" if model_id == self.studio.settings.model else ""
            table.update_cell_at(Coordinate(row, 2), mark)

    # ---------------------------------------------------------------- pull

    def action_pull_highlighted(self) -> None:
        model_id = self.highlighted_id()
        if model_id is not None:
            self.pull(model_id, as_lora=False)

    @on(Input.Submitted, "#models-pull-id")
    def _pull_typed(self, event: Input.Submitted) -> None:
        event.stop()
        model_id = event.value.strip()
        if not model_id:
            self.say("type a model id or owner/name to pull", error=True)
            return
        self.pull(model_id, as_lora=self.query_one("#models-pull-lora", Checkbox).value)

    def pull(self, model_id: str, *, as_lora: bool) -> None:
        """Download ``model_id`` into the HF cache in a thread, showing the bytes as they come."""
        if self._pulling is not None:
            self.say(f"{self._pulling} is still downloading", error=True)
            return
        self._pulling, self._received = model_id, 0
        bar = self.query_one("#models-pull-bar", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.say(f"pulling {model_id} ...")
        self._pull(model_id, as_lora)

    @work(thread=True, exclusive=True, group="models-pull")
    def _pull(self, model_id: str, as_lora: bool) -> None:
        from dgx_pixels.engine._hub import DownloadWatch, pull, pull_repos

        try:
            repos = pull_repos(model_id, as_lora=as_lora)
            with DownloadWatch(repos, lambda n: self.post_message(PullProgress(model_id, n))):
                paths = pull(model_id, as_lora=as_lora)
        except DgxPixelsError as exc:
            self.post_message(RequestFailed(exc.message, "pull"))
            return
        self.post_message(PullFinished(model_id, paths))

    def on_pull_progress(self, message: PullProgress) -> None:
        self.query_one("#models-pull-bar", ProgressBar).update(progress=message.received)
        self.say(f"pulling {message.model_id}: {_mib(message.received)} received")
        self._received = message.received

    def on_pull_finished(self, message: PullFinished) -> None:
        self._pulling = None
        bar = self.query_one("#models-pull-bar", ProgressBar)
        bar.update(total=1, progress=1)
        if not message.paths:
            self.say(f"{message.model_id}: nothing to download")
        else:
            self.say(
                f"pulled {message.model_id} ({_mib(self._received)} received): {message.paths[0]}"
            )
        self.action_rescan()

    def on_request_failed(self, message: RequestFailed) -> None:
        self._pulling = None
        self.query_one("#models-pull-bar", ProgressBar).display = False
        self.say(message.message, error=True)

    def action_rescan(self) -> None:
        self._scan()

    @work(thread=True, exclusive=True, group="models-scan")
    def _scan(self) -> None:
        from dgx_pixels.cli._models import _state, known_ids
        from dgx_pixels.engine._hub import cached_repos, hub_cache_dir
        from dgx_pixels.engine.models import BUILTIN_MODELS, PRESETS, RANDOM_MODELS

        repos = cached_repos()
        cached = {repo.repo_id: repo for repo in repos}
        ids = []
        default = self.studio.settings.model
        if not any(default in known for known in (BUILTIN_MODELS, PRESETS, RANDOM_MODELS)):
            from dgx_pixels.engine.models import resolve_model

            try:  # a hub id or local path made the default: listed too
                spec = resolve_model(default)
                state = _state(spec, cached) if spec.kind == "hub" else spec.kind
                ids.append((default, state, spec.description or spec.source))
            except DgxPixelsError:
                ids.append((default, "unknown", "the default in the settings file"))
        ids.extend(known_ids(cached))
        loras: dict[str, list[LoraMeta]] = {}
        for repo in repos:
            found = []
            for file in sorted(repo.path.glob("snapshots/*/**/*.safetensors"))[:20]:
                try:
                    meta = lora_meta(file)
                except InputError:
                    continue
                if meta.triggers or meta.weight != "-":  # what the file's author wrote
                    found.append(meta)
            loras[repo.repo_id] = found
        self.app.call_from_thread(self._show, ids, repos, loras, hub_cache_dir())

    def _show(
        self,
        ids: list[tuple[str, str, str]],
        repos: list[Any],
        loras: dict[str, list[LoraMeta]],
        cache: Path,
    ) -> None:
        from dgx_pixels.cli._models import _size

        table = self.query_one("#models-ids", DataTable)
        table.clear()
        self._ids = [model_id for model_id, _, _ in ids]
        for model_id, state, what in ids:
            mark = "default" if model_id == self.studio.settings.model else ""
            table.add_row(model_id, state, mark, what)
        self._repos, self._loras = repos, loras
        cache_table = self.query_one("#models-cache", DataTable)
        cache_table.clear()
        for repo in repos:
            metas = loras.get(repo.repo_id, [])
            triggers = ", ".join(t for m in metas for t in m.triggers) or "-"
            weight = next((m.weight for m in metas if m.weight != "-"), "-")
            revision = repo.revisions[-1][:12] if repo.revisions else "-"
            cache_table.add_row(
                repo.repo_id, repo.kind, _size(repo.size_bytes), revision, triggers, weight
            )
        status = self.studio.status
        worker = "no worker"
        if status.serving and status.model:
            warm = ", ".join(status.warm or (status.model,))
            worker = f"the worker's default is {status.model}; warm: {warm}"
        self.query_one("#models-cache-label", Static).update(
            f"HF cache {cache}: {len(repos)} repositories | {worker}"
        )
        if not repos and self._pulling is None:
            self.say("the cache is empty: p on pixel-art-xl pulls the default model")
        self.settled = True

    @on(DataTable.RowHighlighted, "#models-cache")
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self._repos):
            return
        repo = self._repos[event.cursor_row]
        lines = [f"{repo.repo_id}: {repo.path}", f"revisions: {', '.join(repo.revisions) or '-'}"]
        for meta in self._loras.get(repo.repo_id, []):
            triggers = ", ".join(meta.triggers) or "-"
            lines.append(
                f"{meta.file.name}: triggers {triggers}; weight {meta.weight}; sha256 {meta.sha256}"
            )
        self.query_one("#models-detail", Static).update(Text("\n".join(lines)))

    @on(DataTable.RowHighlighted, "#models-ids")
    def _id_detail(self, event: DataTable.RowHighlighted) -> None:
        from dgx_pixels.engine.models import resolve_model

        if not 0 <= event.cursor_row < len(self._ids):
            return
        model_id = self._ids[event.cursor_row]
        try:
            spec = resolve_model(model_id)
        except DgxPixelsError as exc:
            self.query_one("#models-detail", Static).update(Text(f"{model_id}: {exc.message}"))
            return
        loras = ", ".join(map(str, spec.loras)) or "-"
        self.query_one("#models-detail", Static).update(
            Text(f"{model_id}: {spec.kind}, source {spec.source}; LoRAs {loras}")
        )
