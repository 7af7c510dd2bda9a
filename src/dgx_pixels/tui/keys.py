"""The screens and their keys: one table the app, the tabs, Help and the README all read.

Each screen has a function key from anywhere (``f1``...) and a number key
when no text field has focus. Every binding has an id, so a keymap in the
settings can move it (``keymap = {"screen.queue" = "f9"}``).
:func:`markdown_table` is the README's keys table; a test checks that the
README holds exactly it, so neither can drift from the bindings;
``python -m dgx_pixels.tui.keys README.md`` writes it there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType

__all__ = [
    "SCREENS",
    "ScreenEntry",
    "binding_rows",
    "markdown_table",
    "screen_bindings",
    "with_table",
]


@dataclass(frozen=True, slots=True)
class ScreenEntry:
    """A screen: its mode name, title and number (its keys are ``f<n>`` and ``<n>``)."""

    mode: str
    title: str
    number: int
    summary: str

    @property
    def key(self) -> str:
        """Its function key."""
        return f"f{self.number}"


#: The screens that exist, in key order. A screen appears here when it works.
SCREENS: tuple[ScreenEntry, ...] = (
    ScreenEntry("generate", "Generate", 1, "prompt -> sprites, with live step previews"),
    ScreenEntry("gallery", "Gallery", 2, "every output: filter, full request, trash, re-process"),
    ScreenEntry("compare", "Compare", 3, "variants side by side on the same seeds; votes"),
    ScreenEntry("models", "Models", 4, "model ids, the HF cache, LoRA trigger words"),
    ScreenEntry("queue", "Queue", 5, "every job: state, progress, ETA; cancel, retry"),
    ScreenEntry("monitor", "Monitor", 6, "worker state, latency and throughput, GPU, log"),
    ScreenEntry("settings", "Settings", 7, "defaults, renderer, keymap; saved as TOML"),
    ScreenEntry("help", "Help", 8, "every key, from the bindings themselves"),
)


def screen_bindings() -> list[Binding]:
    """The app's bindings that switch screens: ``f<n>`` always, ``<n>`` outside text fields."""
    bindings: list[Binding] = []
    for entry in SCREENS:
        bindings.append(
            Binding(
                entry.key,
                f"app.show_screen('{entry.mode}')",
                entry.title,
                show=False,
                priority=True,
                id=f"screen.{entry.mode}",
            )
        )
        bindings.append(
            Binding(
                str(entry.number),
                f"app.number_screen('{entry.mode}')",
                f"{entry.title}, outside text fields",
                show=False,
                id=f"screen.{entry.mode}.number",
            )
        )
    return bindings


def binding_rows(
    scopes: Iterable[tuple[str, Iterable[BindingType]]], keymap: Mapping[str, str] | None = None
) -> list[tuple[str, str, str, str]]:
    """``(scope, key, what it does, id)`` for each binding, with ``keymap`` applied."""
    keymap = keymap or {}
    rows: list[tuple[str, str, str, str]] = []
    for scope, bindings in scopes:
        for binding in Binding.make_bindings(bindings):
            key = keymap.get(binding.id or "", binding.key)
            rows.append((scope, key, binding.description or binding.action, binding.id or ""))
    return rows


def markdown_table(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """The keys table of the README (``python -m dgx_pixels.tui.keys`` prints it)."""
    lines = ["| where | key | does |", "|---|---|---|"]
    for scope, key, description, _id in rows:
        lines.append(f"| {scope} | `{key}` | {description} |")
    return "\n".join(lines) + "\n"


def with_table(text: str, table: str) -> str:
    r"""``text`` (the README) with ``table`` between its ``keys:start`` / ``keys:end`` markers.

    >>> with_table("a\n<!-- keys:start -->\nold\n<!-- keys:end -->\nb", "new\n")
    'a\n<!-- keys:start -->\nnew\n<!-- keys:end -->\nb'
    """
    start, end = "<!-- keys:start -->\n", "<!-- keys:end -->"
    head, found, rest = text.partition(start)
    if not found or end not in rest:
        raise ValueError("no keys:start / keys:end markers")
    return head + start + table + end + rest.partition(end)[2]


if __name__ == "__main__":
    # python -m dgx_pixels.tui.keys            prints the table
    # python -m dgx_pixels.tui.keys README.md  writes it into the README
    import sys
    from pathlib import Path

    from dgx_pixels.tui.app import all_binding_scopes

    table = markdown_table(binding_rows(all_binding_scopes()))
    if len(sys.argv) > 1:
        readme = Path(sys.argv[1])
        readme.write_text(with_table(readme.read_text(encoding="utf-8"), table), encoding="utf-8")
    else:
        print(table, end="")
