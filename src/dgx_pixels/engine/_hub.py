"""The Hugging Face cache: offline mode, downloads, listing and verification.

Downloads go into the standard HF cache (``HF_HOME``/``HF_HUB_CACHE``) with
huggingface_hub's own progress bars. Verification needs no network: LFS blobs
in the cache are named by the SHA-256 of their content and other blobs by
their git SHA-1, so every cached file can be checked against its name.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dgx_pixels.engine.models import KNOWN_LORA_FILES
from dgx_pixels.errors import ModelError, ModelNotFoundError
from dgx_pixels.request import LoraRef

__all__ = [
    "CachedRepo",
    "DownloadWatch",
    "VerifyResult",
    "cached_repos",
    "download_lora",
    "hub_cache_dir",
    "is_offline",
    "pull",
    "pull_repos",
    "remove_corrupt_blobs",
    "sha256_file",
    "verify_cache",
]

_TRUE = {"1", "true", "yes", "on"}
_CHUNK = 1 << 20


def is_offline() -> bool:
    """Whether the hub must not be contacted (``HF_HUB_OFFLINE``), read now, not at import."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hub_cache_dir() -> Path:
    """The HF hub cache folder, honouring ``HF_HUB_CACHE`` and ``HF_HOME`` as set now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download_lora(ref: LoraRef, *, weight_name: str | None = None) -> Path:
    """The local ``.safetensors`` file of a hub LoRA, downloaded when online and not cached.

    ``ref.id`` is ``owner/name`` or ``owner/name/file.safetensors``.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    parts = ref.id.split("/")
    repo = "/".join(parts[:2])
    flag = "" if ref.id in KNOWN_LORA_FILES else "--lora "
    hint = f"dgx-pixels models pull {flag}{ref.id}"
    if len(parts) > 2:
        weight_name = "/".join(parts[2:])
    patterns = [weight_name] if weight_name else ["*.safetensors"]
    try:
        folder = Path(
            snapshot_download(
                repo,
                allow_patterns=patterns,
                cache_dir=hub_cache_dir(),
                local_files_only=is_offline(),
            )
        )
    except LocalEntryNotFoundError:
        raise ModelNotFoundError(
            f"LoRA {ref.id} is not downloaded; get it with: {hint}",
            lora=ref.id,
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"LoRA {ref.id} cannot be fetched ({_first_line(exc)}); get it with: {hint}",
            lora=ref.id,
        ) from None
    return _pick_weight_file(folder, ref.id, weight_name)


def _pick_weight_file(folder: Path, lora_id: str, weight_name: str | None) -> Path:
    if weight_name:
        path = folder / weight_name
        if not path.is_file():
            raise ModelNotFoundError(f"LoRA {lora_id} has no file {weight_name}", lora=lora_id)
        return path
    files = sorted(folder.rglob("*.safetensors"))
    preferred = [f for f in files if f.name == "pytorch_lora_weights.safetensors"]
    if len(preferred) == 1:
        return preferred[0]
    if len(files) == 1:
        return files[0]
    if not files:
        raise ModelNotFoundError(f"LoRA {lora_id} holds no .safetensors file", lora=lora_id)
    names = ", ".join(f.name for f in files)
    raise ModelError(
        f"LoRA {lora_id} holds several weight files ({names}); name one as {lora_id}/FILE",
        lora=lora_id,
    )


@dataclass(frozen=True, slots=True)
class CachedRepo:
    """One model or LoRA repository in the HF cache."""

    repo_id: str
    kind: str
    size_bytes: int
    revisions: tuple[str, ...]
    path: Path


def cached_repos() -> list[CachedRepo]:
    """The repositories in the HF cache, largest first."""
    cache = hub_cache_dir()
    if not cache.is_dir():
        return []
    repos: list[CachedRepo] = []
    for folder in sorted(cache.glob("*--*--*")):
        kind, _, name = folder.name.partition("--")
        blobs = folder / "blobs"
        size = (
            sum(f.stat().st_size for f in blobs.iterdir() if f.is_file()) if blobs.is_dir() else 0
        )
        snapshots = folder / "snapshots"
        revisions = tuple(sorted(p.name for p in snapshots.iterdir())) if snapshots.is_dir() else ()
        repos.append(CachedRepo(name.replace("--", "/"), kind.rstrip("s"), size, revisions, folder))
    return sorted(repos, key=lambda r: -r.size_bytes)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of checking one cached repository's blobs against their names."""

    repo_id: str
    checked: int
    bad: tuple[str, ...]


def verify_cache(repo_ids: list[str] | None = None) -> list[VerifyResult]:
    """Re-hash every cached blob (of ``repo_ids``, or all) and compare with its name."""
    results: list[VerifyResult] = []
    for repo in cached_repos():
        if repo_ids and repo.repo_id not in repo_ids:
            continue
        checked, bad = 0, []
        blobs = repo.path / "blobs"
        for blob in sorted(blobs.iterdir()) if blobs.is_dir() else []:
            if not blob.is_file() or blob.name.endswith(".incomplete"):
                continue
            checked += 1
            if _blob_digest(blob, len(blob.name)) != blob.name:
                bad.append(blob.name)
        results.append(VerifyResult(repo.repo_id, checked, tuple(bad)))
    return results


def remove_corrupt_blobs(repo_ids: list[str]) -> list[Path]:
    """Delete the cached blobs of ``repo_ids`` that :func:`verify_cache` finds bad; return them.

    huggingface_hub trusts a file that is already in the cache and never
    fetches it again, so a corrupt blob must go before a download can replace it.
    """
    folders = {repo.repo_id: repo.path for repo in cached_repos()}
    removed: list[Path] = []
    for result in verify_cache(repo_ids) if repo_ids else []:
        for name in result.bad:
            blob = folders[result.repo_id] / "blobs" / name
            blob.unlink()
            removed.append(blob)
    return removed


def _blob_digest(path: Path, name_length: int) -> str:
    if name_length == 64:  # an LFS file: named by its SHA-256
        return sha256_file(path)
    digest = hashlib.sha1(usedforsecurity=False)  # a git blob: SHA-1 of header + content
    digest.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def pull_repos(model_id: str, *, as_lora: bool = False) -> list[str]:
    """The hub repositories (``owner/name``) that :func:`pull` of ``model_id`` fills.

    Empty for a model that needs no download (a random or local one).
    """
    from dgx_pixels.engine.models import resolve_model

    if as_lora or model_id in KNOWN_LORA_FILES:
        return ["/".join(model_id.split("/")[:2])]
    spec = resolve_model(model_id)
    if spec.kind != "hub":
        return []
    return [spec.source, *("/".join(lora.id.split("/")[:2]) for lora in spec.loras)]


def pull(
    model_id: str,
    *,
    as_lora: bool = False,
    on_corrupt: Callable[[Path], None] | None = None,
) -> list[str]:
    """Download ``model_id`` (a preset, a hub model or, with ``as_lora``, a LoRA) into the cache.

    Cached blobs that fail verification are removed first, so they are
    downloaded again (``on_corrupt`` hears of each). Returns the local paths:
    the model's folder, then each LoRA file; empty for a model that needs no
    download. ``dgx-pixels models pull`` and the TUI's Models screen both call this.
    """
    from dgx_pixels.engine._loading import download_model
    from dgx_pixels.engine.models import resolve_model
    from dgx_pixels.request import LoraRef

    repos = pull_repos(model_id, as_lora=as_lora)
    if not is_offline():  # offline nothing could replace them: the download fails with its line
        for blob in remove_corrupt_blobs(repos):
            if on_corrupt is not None:
                on_corrupt(blob)
    if as_lora or model_id in KNOWN_LORA_FILES:
        lora = download_lora(LoraRef(model_id), weight_name=KNOWN_LORA_FILES.get(model_id))
        return [str(lora)]
    spec = resolve_model(model_id)
    if spec.kind != "hub":
        return []
    paths = [download_model(spec)]
    for ref in spec.loras:
        paths.append(str(download_lora(ref, weight_name=KNOWN_LORA_FILES.get(ref.id))))
    return paths


class DownloadWatch:
    """Bytes arriving in the cache folders of ``repo_ids``, reported while a download runs.

    huggingface_hub reports progress only to its own tqdm bars, and diffusers'
    download passes none through, so this measures what reaches the disk: the
    size of every blob (finished, or still ``.incomplete``) under each
    repository's cache folder, polled every ``every`` seconds in a thread, as
    bytes added since the watch began (huggingface_hub writes what it receives
    in pieces of ``DOWNLOAD_CHUNK_SIZE``, 10 MiB, so the count grows by those).
    Use it as a context manager around the
    download; ``on_bytes`` is called from the watch's thread, and once more on
    exit with the final count.
    """

    def __init__(
        self, repo_ids: Iterable[str], on_bytes: Callable[[int], object], *, every: float = 0.25
    ) -> None:
        cache = hub_cache_dir()
        self._folders = [
            cache / f"models--{repo.replace('/', '--')}" / "blobs" for repo in repo_ids
        ]
        self._on_bytes = on_bytes
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="download-watch", daemon=True)
        self._start = 0

    def received(self) -> int:
        """Bytes in the watched blob folders now, less those there when the watch began."""
        return self._on_disk() - self._start

    def _on_disk(self) -> int:
        total = 0
        for folder in self._folders:
            for blob in folder.iterdir() if folder.is_dir() else ():
                try:
                    total += blob.stat().st_size
                except OSError:  # renamed from .incomplete meanwhile: counted under its new name
                    continue
        return total

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._on_bytes(self.received())

    def __enter__(self) -> DownloadWatch:
        self._start = self._on_disk()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._on_bytes(self.received())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
