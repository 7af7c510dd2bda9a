"""The TUI's settings: a small frozen value object, saved as TOML in the config dir.

The file is ``<config dir>/tui.toml``; the config dir is ``$DGX_PIXELS_CONFIG_DIR``
or the platform's (platformdirs), e.g. ``~/.config/dgx-pixels`` on Linux.
Every value is checked when the settings are made, with the bad value in the
message; the request defaults are checked by building a
:class:`~dgx_pixels.request.GenerationRequest` from them, so the rules are the
request's own.

>>> Settings(steps=8).steps
8
>>> Settings(renderer="ascii")
Traceback (most recent call last):
...
dgx_pixels.errors.InputError: renderer must be one of auto, halfblock, kitty, sixel, got 'ascii'
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgx_pixels.errors import DgxPixelsError, InputError
from dgx_pixels.image_files import write_atomic
from dgx_pixels.paths import APP_NAME
from dgx_pixels.request import DEFAULT_MODEL, GenerationRequest

__all__ = [
    "CONFIG_DIR_ENV",
    "RENDERERS",
    "SETTINGS_FILE",
    "Settings",
    "load_settings",
    "save_settings",
    "settings_path",
]

RENDERERS = ("auto", "halfblock", "kitty", "sixel")
CONFIG_DIR_ENV = "DGX_PIXELS_CONFIG_DIR"
SETTINGS_FILE = "tui.toml"
_MAX_FILE_BYTES = 64 * 1024
_MAX_KEYMAP = 100


@dataclass(frozen=True, slots=True)
class Settings:
    """What the TUI remembers between runs.

    ``model`` is what a worker started by the TUI loads; ``size`` ... ``negative``
    fill the Generate screen's form; ``keymap`` maps binding ids (see the Help
    screen) to keys.
    """

    renderer: str = "auto"
    model: str = DEFAULT_MODEL
    size: str = "32"
    count: int = 4
    steps: int = 30
    guidance: float = 6.0
    scheduler: str = "euler-a"
    palette: str = ""
    background: str = "transparent"
    negative: str = ""
    keymap: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_types(self)
        if self.renderer not in RENDERERS:
            raise InputError(
                f"renderer must be one of {', '.join(RENDERERS)}, got {self.renderer!r}",
                setting="renderer",
            )
        if not self.model.strip():
            raise InputError("model must not be empty", setting="model")
        self.request(prompt="settings check")  # the request's own rules, its own messages
        from dgx_pixels.engine._schedulers import canonical_scheduler

        canonical_scheduler(self.scheduler)
        if self.palette:
            from dgx_pixels.pixel.palette import resolve_palette

            resolve_palette(self.palette)
        if len(self.keymap) > _MAX_KEYMAP:
            raise InputError(f"keymap has {len(self.keymap)} entries, more than {_MAX_KEYMAP}")
        for binding_id, keys in self.keymap.items():
            if not isinstance(keys, str) or not keys.strip() or len(keys) > 60:
                raise InputError(
                    f"keymap.{binding_id} must be a key such as 'f2' or 'ctrl+g', got {keys!r}",
                    setting=f"keymap.{binding_id}",
                )
        object.__setattr__(self, "keymap", dict(self.keymap))

    def request(self, prompt: str, **changes: Any) -> GenerationRequest:
        """A request for ``prompt`` with these defaults (``changes`` override them)."""
        from dgx_pixels.cli._params import parse_size

        fields: dict[str, Any] = {
            "prompt": prompt,
            "size": parse_size(self.size, option="size"),
            "count": self.count,
            "steps": self.steps,
            "guidance": self.guidance,
            "scheduler": self.scheduler,
            "palette": self.palette or None,
            "background": self.background,
            "negative": self.negative or None,
            "model": self.model,
        }
        fields.update(changes)
        return GenerationRequest(**fields)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (checked)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for TOML."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["keymap"] = dict(self.keymap)
        return data


def _check_types(settings: Settings) -> None:
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        want: tuple[type, ...]
        want = {"count": (int,), "steps": (int,), "guidance": (int, float)}.get(f.name, (str,))
        if f.name == "keymap":
            want = (Mapping,)
        if isinstance(value, bool) or not isinstance(value, want):
            kind = {"int": "a whole number", "float": "a number", "str": "text"}.get(
                want[-1].__name__, "a table"
            )
            raise InputError(f"{f.name} must be {kind}, got {value!r}", setting=f.name)
    if isinstance(settings.guidance, int):
        object.__setattr__(settings, "guidance", float(settings.guidance))


def settings_path(config_dir: str | os.PathLike[str] | None = None) -> Path:
    """``tui.toml`` in ``config_dir``, ``$DGX_PIXELS_CONFIG_DIR`` or the platform's config dir."""
    if config_dir is not None and str(config_dir).strip():
        folder = Path(config_dir).expanduser()
    elif os.environ.get(CONFIG_DIR_ENV, "").strip():
        folder = Path(os.environ[CONFIG_DIR_ENV]).expanduser()
    else:
        import platformdirs

        folder = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    return folder / SETTINGS_FILE


def load_settings(path: Path) -> Settings:
    """The settings in ``path`` (defaults when it does not exist).

    Raises :class:`~dgx_pixels.errors.InputError` naming the file and the bad
    value: not TOML, an unknown key, a value of the wrong type or out of range.
    """
    if not path.exists():
        return Settings()
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise InputError(f"{path}: larger than {_MAX_FILE_BYTES} bytes", path=str(path))
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML file ({exc})", path=str(path)) from None
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            path=str(path),
        )
    try:
        return Settings(**data)
    except DgxPixelsError as exc:
        raise InputError(f"{path}: {exc.message}", path=str(path), **exc.context) from None


def save_settings(settings: Settings, path: Path) -> Path:
    """Write ``settings`` to ``path`` atomically (the file is the TUI's own: it is replaced)."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(tomli_w.dumps(settings.to_dict()).encode("utf-8"), path, force=True)
