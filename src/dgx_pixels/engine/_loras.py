"""LoRA files: where they are, whether they fit the model, and their hashes.

Only ``.safetensors`` files are accepted, and a file must hold UNet
cross-attention weights whose width matches the model's (SDXL: 2048), so a
Stable Diffusion 1.5 LoRA is refused with a clear message instead of failing
deep inside diffusers. The header is read without torch.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgx_pixels.engine import _hub
from dgx_pixels.engine.models import KNOWN_LORA_FILES
from dgx_pixels.errors import InputError
from dgx_pixels.request import LoraRef

__all__ = [
    "LoraFile",
    "check_lora_file",
    "is_local_lora",
    "local_lora_ref",
    "locate_lora",
    "read_safetensors_header",
]

_MAX_HEADER = 100 * 1024 * 1024
_WIDTH_NAMES = {768: "Stable Diffusion 1.x", 1024: "Stable Diffusion 2.x", 2048: "SDXL"}
_DOWN_SUFFIXES = ("lora_a.weight", "lora_down.weight", "lora.down.weight")


@dataclass(frozen=True, slots=True)
class LoraFile:
    """A LoRA ready to load: its request entry, its file and the file's SHA-256."""

    ref: LoraRef
    path: Path
    sha256: str

    @property
    def adapter_name(self) -> str:
        """A peft adapter name unique to the file's content."""
        return f"lora_{self.sha256[:16]}"


#: File endings of weights: a LoRA id ending so names a file, never a hub repository.
WEIGHT_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")


def is_local_lora(lora_id: str) -> bool:
    """Whether ``lora_id`` names a local file or folder rather than a hub repository.

    Decided by the id's form alone, never by what exists: a worker must not
    reveal whether ``etc/shadow`` exists in its folder by how it treats a
    LoRA of that name. Paths are absolute, start with ``.`` or ``~``, end in a
    weights suffix or have more than two parts; a hub id is ``owner/name``.
    Front ends that take a path relative to the user's folder make it
    absolute first (:func:`local_lora_ref`).

    >>> is_local_lora("nerijs/pixel-art-xl"), is_local_lora("./loras/style")
    (False, True)
    >>> is_local_lora("/opt/loras/style"), is_local_lora("style.safetensors")
    (True, True)
    """
    return (
        Path(lora_id).is_absolute()
        or lora_id.startswith((".", "~"))
        or lora_id.lower().endswith(WEIGHT_SUFFIXES)
        or lora_id.count("/") > 1
        or "\\" in lora_id
        or "\x00" in lora_id
    )


def local_lora_ref(text: str) -> LoraRef:
    """``--lora ID[:W]`` as typed in the user's shell: an existing path made absolute.

    Only a front end running in the user's folder calls this (the CLI); the
    engine and the worker decide by the id's form (:func:`is_local_lora`).
    """
    ref = LoraRef.parse(text)
    path = Path(ref.id).expanduser()
    if path.exists():
        return LoraRef(str(path.resolve()), ref.weight)
    return ref


def locate_lora(ref: LoraRef, *, cross_attention_dim: int) -> LoraFile:
    """Find (downloading if allowed) and check the file of ``ref``."""
    if is_local_lora(ref.id):
        path = Path(ref.id).expanduser()
        if path.is_dir():
            path = _single_file_in(path, ref.id)
    else:
        path = _hub.download_lora(ref, weight_name=KNOWN_LORA_FILES.get(ref.id))
    check_lora_file(path, cross_attention_dim=cross_attention_dim, name=ref.id)
    # Not resolved: a hub LoRA's file is a link to a blob named by its hash, and
    # the metadata names the file.
    return LoraFile(ref, path.absolute(), _hub.sha256_file(path))


def check_lora_file(path: Path, *, cross_attention_dim: int, name: str | None = None) -> None:
    """Raise :class:`InputError` unless ``path`` is a safetensors LoRA for this model width."""
    label = name or str(path)
    if path.suffix.lower() != ".safetensors":
        raise InputError(
            f"LoRA {label} is not a .safetensors file; only safetensors are loaded "
            "(pickle files can run code)",
            lora=label,
        )
    if not path.is_file():
        raise InputError(f"LoRA {label}: no such file", lora=label)
    header = read_safetensors_header(path)
    widths = {
        int(meta["shape"][1])
        for key, meta in header.items()
        if isinstance(meta, dict) and _is_cross_attention_key_down(key) and len(meta["shape"]) == 2
    }
    if not widths:
        raise InputError(
            f"LoRA {label} is not an SDXL UNet LoRA: it has no cross-attention (attn2 to_k) "
            "weights",
            lora=label,
        )
    if widths != {cross_attention_dim}:
        found = ", ".join(f"{w} ({_WIDTH_NAMES.get(w, 'unknown model')})" for w in sorted(widths))
        expected = _WIDTH_NAMES.get(cross_attention_dim, "this model")
        raise InputError(
            f"LoRA {label} is for another model: its cross-attention width is {found}, "
            f"{expected} needs {cross_attention_dim}",
            lora=label,
        )


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file; :class:`InputError` if it is not one."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) != 8:
                raise ValueError("file is shorter than a safetensors header")
            (length,) = struct.unpack("<Q", head)
            if not 2 <= length <= _MAX_HEADER:
                raise ValueError(f"header length {length} is not plausible")
            header = json.loads(f.read(length))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid safetensors file ({exc})", path=str(path)) from None
    if not isinstance(header, dict):
        raise InputError(f"{path}: not a valid safetensors file (header is not a map)")
    return header


def _is_cross_attention_key_down(key: str) -> bool:
    k = key.lower().replace("_", ".")
    return (
        "attn2" in k
        and "to.k" in k
        and k.endswith(tuple(s.replace("_", ".") for s in _DOWN_SUFFIXES))
    )


def _single_file_in(folder: Path, label: str) -> Path:
    files = sorted(folder.glob("*.safetensors"))
    if len(files) != 1:
        raise InputError(
            f"LoRA folder {label} must hold exactly one .safetensors file, found {len(files)}",
            lora=label,
        )
    return files[0]
