"""Models: the model ids and what the Hugging Face cache holds, with LoRA metadata.

The rows come from the same code as ``dgx-pixels models list``
(:mod:`dgx_pixels.engine.models`, the hub cache reader and the command's
state and size helpers). For a cached LoRA the trigger words and a
recommended weight are read from its safetensors metadata, where its author
wrote them; "-" where it has none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from dgx_pixels.errors import InputError
from dgx_pixels.tui.screens._base import PixelsScreen

__all__ = ["LoraMeta", "ModelsScreen", "lora_meta"]

_WEIGHT_KEYS = ("modelspec.recommended_weight", "ss_recommended_weight", "recommended_weight")


@dataclass(frozen=True, slots=True)
class LoraMeta:
    """What a LoRA file says about its use."""

    file: Path
    triggers: tuple[str, ...]
    weight: str


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
    return LoraMeta(path, tuple(triggers), weight)


class ModelsScreen(PixelsScreen):
    """Known ids and their state; cached repositories with size, revision and LoRA metadata."""

    MODE = "models"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "rescan", "Rescan cache", id="models.rescan"),
    ]
    DEFAULT_CSS = """
    ModelsScreen #models-ids { height: auto; max-height: 8; }
    ModelsScreen #models-cache-label { height: 1; padding: 0 1; color: $text-muted; }
    ModelsScreen #models-cache { height: 1fr; }
    ModelsScreen #models-detail { height: auto; max-height: 6; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._repos: list[Any] = []
        self._loras: dict[str, list[LoraMeta]] = {}
        #: The first cache scan is shown (snapshots wait for it).
        self.settled = False

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="models-ids", cursor_type="row")
        yield Static("", id="models-cache-label")
        yield DataTable(id="models-cache", cursor_type="row")
        yield Static("", id="models-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#models-ids", DataTable).add_columns("model id", "state", "what it is")
        self.query_one("#models-cache", DataTable).add_columns(
            "repository", "kind", "size", "revision", "trigger words", "weight"
        )
        self.action_rescan()

    def action_rescan(self) -> None:
        self._scan()

    @work(thread=True, exclusive=True, group="models-scan")
    def _scan(self) -> None:
        from dgx_pixels.cli._models import _state
        from dgx_pixels.engine._hub import cached_repos, hub_cache_dir
        from dgx_pixels.engine.models import PRESETS, RANDOM_MODELS

        repos = cached_repos()
        cached = {repo.repo_id: repo for repo in repos}
        ids = []
        for spec in [*PRESETS.values(), *RANDOM_MODELS.values()]:
            state = "built in" if spec.kind == "random" else _state(spec, cached)
            ids.append((spec.id, state, spec.description))
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
        for row in ids:
            table.add_row(*row)
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
        if not repos:
            self.query_one("#models-detail", Static).update(
                "the cache is empty: dgx-pixels models pull pixel-art-xl fetches the default"
            )
        self.settled = True

    @on(DataTable.RowHighlighted, "#models-cache")
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        if not 0 <= event.cursor_row < len(self._repos):
            return
        repo = self._repos[event.cursor_row]
        lines = [f"{repo.repo_id}: {repo.path}", f"revisions: {', '.join(repo.revisions) or '-'}"]
        for meta in self._loras.get(repo.repo_id, []):
            triggers = ", ".join(meta.triggers) or "-"
            lines.append(f"{meta.file.name}: triggers {triggers}; weight {meta.weight}")
        self.query_one("#models-detail", Static).update(Text("\n".join(lines)))
