"""The path policy: what a worker reads and writes for a client, and how files travel.

A worker serves clients it cannot trust with its own file system, so:

1. **Files travel as bytes.** A client sends its init image, mask and palette
   file in ``submit.inputs`` (``{"init": b"...", "mask": b"...", "palette":
   b"..."}``, each at most ``Limits.input_bytes``); the request names each by
   its file name only (``"sketch.png"``, ``"db32.gpl"``: the suffix says the
   format). The worker stores them under ``<data>/inputs/`` by content hash
   and points the request there. :func:`files_to_send` is the client's half.
   A training folder travels the same way, as ``dataset/NAME`` files
   (:meth:`Roots.admit_dataset`, :func:`dataset_to_send`).
2. **Server paths stay inside the roots.** A path the request names on the
   worker (``out``, an ``init``, ``mask`` or palette not sent, a local LoRA)
   must lie inside a root: ``<data>/outputs`` (reading and writing),
   ``<data>/inputs`` (reading) and the folders the worker was started with
   (``worker --root DIR``, both). A relative path is relative to
   ``<data>/outputs``. Refused at submit, with a ``request`` error: a NUL
   byte, ``~`` or ``~user``, any ``..`` part, any path that leaves the roots
   once its symbolic links are resolved, and the rest of the data dir (the
   job store, keys, logs) even under a ``--root`` that holds it.
3. **Errors never tell what exists outside the roots.** A refusal depends on
   the path's text and on links inside the roots only, and says the same for
   a file that exists and one that does not; files outside the roots are
   never opened, so no size, dimension or line of theirs is ever reported.

>>> roots = Roots(outputs=Path("/d/outputs"), inputs=Path("/d/inputs"))
>>> roots.confine("/etc/shadow", field="init")
Traceback (most recent call last):
...
dgx_pixels.errors.RequestError: init must be a path inside the worker's folders (/d/outputs, \
/d/inputs); send the file itself instead
>>> str(roots.confine("sprites/knight", field="out", write=True))
'/d/outputs/sprites/knight'
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.engine._loras import is_local_lora
from dgx_pixels.errors import RequestError
from dgx_pixels.image_files import write_atomic
from dgx_pixels.jobs.limits import LIMITS, Limits
from dgx_pixels.paths import DataDir
from dgx_pixels.request import GenerationRequest, LoraRef

__all__ = [
    "FROM_INPUT",
    "INPUT_NAMES",
    "Roots",
    "dataset_to_send",
    "file_to_send",
    "files_to_send",
]

#: The request fields whose files a client sends as bytes.
INPUT_NAMES = ("init", "mask", "palette")
#: The input an ``animate`` job's character sprite is sent as (``animate --from``).
FROM_INPUT = "from"

#: Palette file suffixes (``dgx_pixels.pixel.palette.FILE_FORMATS``, without importing numpy).
_PALETTE_SUFFIXES = (".hex", ".gpl", ".pal")
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,10}")
#: A training file's name: no folder, not hidden, no control characters.
_PLAIN_NAME = re.compile(r"[^./\\\x00-\x1f][^/\\\x00-\x1f]{0,199}")
_DATASET_PREFIX = "dataset/"


@dataclass(frozen=True, slots=True)
class Roots:
    """The folders a worker reads and writes for clients (see the module docstring)."""

    outputs: Path
    inputs: Path
    extra: tuple[Path, ...] = ()
    private: Path | None = None  # the data dir: only its outputs and inputs are served

    @classmethod
    def of(cls, data: DataDir, extra: Iterable[str | os.PathLike[str]] = ()) -> Roots:
        """The roots of a worker serving ``data``, plus its ``--root`` folders."""
        folders = tuple(Path(folder).expanduser().resolve() for folder in extra)
        return cls(data.outputs.resolve(), data.inputs.resolve(), folders, data.root.resolve())

    def readable(self) -> tuple[Path, ...]:
        """Where a request may read: outputs, sent inputs, the extra roots."""
        return (self.outputs, self.inputs, *self.extra)

    def writable(self) -> tuple[Path, ...]:
        """Where a request may write: outputs and the extra roots."""
        return (self.outputs, *self.extra)

    def confine(self, value: str, *, field: str, write: bool = False) -> Path:
        """``value`` as a real path inside the roots, or :class:`RequestError`.

        The answer depends on the text of ``value`` and on links inside the
        roots, never on whether anything outside them exists.
        """
        roots = self.writable() if write else self.readable()
        refused = RequestError(
            f"{field} must be a path inside the worker's folders "
            f"({', '.join(map(str, roots))}); send the file itself instead",
            option=field,
        )
        if "\x00" in value or value.startswith("~") or ".." in Path(value).parts:
            raise refused
        real = Path(os.path.realpath(self.outputs / value))  # an absolute value replaces outputs
        if not _within(real, roots):
            raise refused
        served = (self.outputs, self.inputs)
        if self.private and real.is_relative_to(self.private) and not _within(real, served):
            raise refused  # the job store, keys, logs: never a client's
        return real

    def admit(
        self,
        request: GenerationRequest,
        inputs: Mapping[str, bytes],
        *,
        limits: Limits = LIMITS,
    ) -> GenerationRequest:
        """``request`` with the sent files stored and every server path confined.

        Raises :class:`RequestError` for an unknown or oversized input, an
        input the request does not name, or a path outside the roots.
        """
        unknown = sorted(set(inputs) - set(INPUT_NAMES))
        if unknown:
            raise RequestError(
                f"unknown input(s) {', '.join(repr(n[:40]) for n in unknown[:5])}; "
                f"inputs are {', '.join(INPUT_NAMES)}",
                option="inputs",
            )
        changes: dict[str, object] = {}
        # 1. Files sent as bytes: stored by content under inputs/, named by the request.
        for name, data in inputs.items():
            given = getattr(request, name)
            if given is None:
                raise RequestError(f"an {name} file was sent but the request names none")
            limits.check_bytes(name, len(data), "input_bytes")
            changes[name] = str(self.store_input(name, given, data))
        # 2. Server paths: inside the roots.
        for name in ("init", "mask"):
            value = getattr(request, name)
            if value is not None and name not in inputs:
                changes[name] = str(self.confine(value, field=name))
        if request.palette is not None and "palette" not in inputs:
            if _is_palette_path(request.palette):
                changes["palette"] = str(self.confine(request.palette, field="palette"))
            else:
                changes["palette"] = _palette_name(request.palette)
        if request.out is not None:
            changes["out"] = str(self.confine(request.out, field="out", write=True))
        if any(_is_lora_path(lo.id) for lo in request.loras):
            changes["loras"] = tuple(
                LoraRef(str(self.confine(lo.id, field="lora")), lo.weight)
                if _is_lora_path(lo.id)
                else lo
                for lo in request.loras
            )
        return request.replace(**changes) if changes else request

    def admit_dataset(self, inputs: Mapping[str, bytes], *, limits: Limits = LIMITS) -> Path:
        """A training folder sent as files (``dataset/NAME`` -> bytes), stored under
        ``<inputs>/dataset-<hash>/``; returns that folder.

        Each name is a plain file name (no folder, not hidden); at most
        ``Limits.dataset_files`` files of ``Limits.input_bytes`` each. The same
        files make the same folder, so a resent dataset is stored once.
        """
        if len(inputs) > limits.dataset_files:
            raise RequestError(
                f"{len(inputs)} dataset files, over the limit of {limits.dataset_files} "
                "(dataset_files)",
                option="inputs",
            )
        files: dict[str, bytes] = {}
        for key, data in inputs.items():
            name = key.removeprefix(_DATASET_PREFIX)
            if name == key or not _PLAIN_NAME.fullmatch(name):
                raise RequestError(
                    f"a training file must be sent as dataset/NAME with a plain file name, "
                    f"got {key[:80]!r}",
                    option="inputs",
                )
            limits.check_bytes(name[:80], len(data), "input_bytes", option="inputs")
            files[name] = data
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(hashlib.sha256(name.encode()).digest())
            digest.update(hashlib.sha256(files[name]).digest())
        folder = self.inputs / f"dataset-{digest.hexdigest()[:32]}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, data in files.items():
            write_atomic(data, folder / name, force=True)  # the same name: the same bytes
        return folder

    def store_input(self, name: str, given: str, data: bytes) -> Path:
        """Store the ``name`` input sent as ``data`` (the client's file ``given``) under
        ``<inputs>/<content hash><suffix>``; the same bytes make the same file, so a job run
        again after a crash finds it. Its size is the caller's to check (``input_bytes``)."""
        suffix = Path(given).suffix.lower()
        if name == "palette" and suffix not in _PALETTE_SUFFIXES:
            raise RequestError(
                f"a palette file sent must be named .hex, .gpl or .pal, got {given[:80]!r}",
                option="palette",
            )
        if not _SAFE_SUFFIX.fullmatch(suffix):
            suffix = ".bin"
        self.inputs.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.inputs / f"{hashlib.sha256(data).hexdigest()[:32]}{suffix}"
        return write_atomic(data, target, force=True)  # the same bytes: the same file


def dataset_to_send(folder: Path) -> dict[str, bytes]:
    """The client's half of a training folder: its files (not hidden, not folders) as
    ``dataset/NAME`` -> bytes. Raises :class:`RequestError` for an unreadable folder
    or a file over ``Limits.input_bytes``."""
    try:
        paths = sorted(p for p in folder.expanduser().iterdir() if p.is_file())
    except OSError as exc:
        raise RequestError(f"dataset {folder}: {exc.strerror or exc}", option="train") from None
    files: dict[str, bytes] = {}
    for path in paths:
        if path.name.startswith("."):
            continue
        if path.stat().st_size > LIMITS.input_bytes:
            raise RequestError(
                f"{path} is over the limit of {LIMITS.input_bytes} bytes (input_bytes)",
                option="train",
            )
        files[_DATASET_PREFIX + path.name] = path.read_bytes()
    return files


def files_to_send(request: GenerationRequest) -> tuple[GenerationRequest, dict[str, bytes]]:
    """The client's half: ``request`` naming its local files by name only, and their bytes.

    Reads ``init``, ``mask`` and a palette file from this machine (relative to
    the current folder); a local LoRA file is named by its absolute path,
    which a worker serves only inside its roots. Raises :class:`RequestError`
    for a file that is missing or over ``Limits.input_bytes``.
    """
    changes: dict[str, object] = {}
    inputs: dict[str, bytes] = {}
    for name in INPUT_NAMES:
        value = getattr(request, name)
        if value is None or (name == "palette" and not _is_palette_path(value)):
            continue
        inputs[name] = file_to_send(value, name)
        changes[name] = Path(value).expanduser().name
    if any(Path(lo.id).expanduser().exists() for lo in request.loras):
        changes["loras"] = tuple(
            LoraRef(str(Path(lo.id).expanduser().resolve()), lo.weight)
            if Path(lo.id).expanduser().exists()
            else lo
            for lo in request.loras
        )
    return (request.replace(**changes) if changes else request), inputs


def file_to_send(value: str | os.PathLike[str], name: str) -> bytes:
    """The bytes of the local file ``value``, sent as input ``name``; :class:`RequestError`
    naming the file when it is missing or over ``Limits.input_bytes``."""
    path = Path(value).expanduser()
    try:
        size = path.stat().st_size
        if size > LIMITS.input_bytes:
            raise RequestError(
                f"{name} file {value} is {size} bytes, over the limit of "
                f"{LIMITS.input_bytes} (input_bytes)",
                option=name,
            )
        return path.read_bytes()
    except OSError as exc:
        raise RequestError(f"{name} file {value}: {exc.strerror or exc}", option=name) from None


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _is_palette_path(value: str) -> bool:
    """A palette that names a file (rather than a built-in name, ``auto:N`` or colours)."""
    return Path(value).suffix.lower() in _PALETTE_SUFFIXES or "/" in value or "\\" in value


def _palette_name(value: str) -> str:
    """A palette that is no file: ``auto:N``, colours, or a built-in name (made canonical).

    Never looked up as a file in the worker's folder.
    """
    from dgx_pixels.pixel.palette import builtin_palette, parse_auto

    text = value.strip()
    if parse_auto(text) is not None or text.startswith("#") or "," in text:
        return value
    return builtin_palette(text).name


def _is_lora_path(value: str) -> bool:
    """A LoRA id that names a file or folder rather than a hub repository (``owner/name``)."""
    return is_local_lora(value)
