"""Loading a model into an SDXL pipeline, by the kind of its id.

Every kind ends in the same ``StableDiffusionXLPipeline``, so LoRAs,
schedulers and memory options work the same on random weights as on real
ones. Only safetensors are read (``use_safetensors=True``); offline mode
(``HF_HUB_OFFLINE``) never touches the network.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dgx_pixels.engine import _hub
from dgx_pixels.engine._device import MemoryPlan, Placement
from dgx_pixels.engine._random_models import RANDOM_SEEDS, build_components
from dgx_pixels.engine.models import SDXL_BASE, ModelSpec, pull_hint, resolve_model
from dgx_pixels.errors import ModelError, ModelNotFoundError

__all__ = [
    "LIBRARY_LOG",
    "apply_memory_plan",
    "download_model",
    "load_pipeline",
    "quiet_libraries",
]


#: Where the libraries' advisories go: our log (a worker's ``logs/worker.log``),
#: at INFO, never the user's terminal.
LIBRARY_LOG = logging.getLogger("dgx_pixels.engine.libraries")


class _ToOurLog(logging.Handler):
    """Passes a library's log records to :data:`LIBRARY_LOG`: errors as errors, the
    rest (torchvision fallbacks, deprecations, advice) at INFO."""

    def emit(self, record: logging.LogRecord) -> None:
        level = logging.ERROR if record.levelno >= logging.ERROR else logging.INFO
        LIBRARY_LOG.log(level, "%s: %s", record.name, record.getMessage())


def _warning_to_log(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    LIBRARY_LOG.info("%s: %s (%s:%d)", category.__name__, message, filename, lineno)


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Send diffusers', transformers' and Python warnings to our log, not the terminal.

    The libraries' own stderr handlers are swapped for one that forwards to
    :data:`LIBRARY_LOG` while the block runs; the ``warnings`` they raise are
    logged the same way. Both are restored afterwards.
    """
    library_loggers = []
    for name in ("diffusers.utils.logging", "transformers.utils.logging"):
        module: Any = importlib.import_module(name)
        library_loggers.append(module.get_logger())  # the library's root, configured
    forward = _ToOurLog()
    saved = [(lg, list(lg.handlers)) for lg in library_loggers]
    for lg, handlers in saved:
        for handler in handlers:
            lg.removeHandler(handler)
        lg.addHandler(forward)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # each distinct warning once, into the log
            warnings.showwarning = _warning_to_log
            yield
    finally:
        for lg, handlers in saved:
            lg.removeHandler(forward)
            for handler in handlers:
                lg.addHandler(handler)


def load_pipeline(
    spec: ModelSpec, placement: Placement, plan: MemoryPlan
) -> tuple[Any, dict[str, Any]]:
    """The pipeline for ``spec`` on ``placement`` and a description of what was loaded."""
    pipeline_class: Any = importlib.import_module("diffusers").StableDiffusionXLPipeline
    info: dict[str, Any] = {"id": spec.id, "kind": spec.kind, "source": spec.source}
    if spec.kind == "random":
        build_on = "cpu" if plan.offload != "none" else placement.device
        components = build_components(spec.source, device=build_on, dtype=placement.dtype)
        pipe = pipeline_class(**components)
        info["weights"] = f"random, seed {RANDOM_SEEDS.get(spec.source, 0)}"
    elif spec.kind in ("hub", "folder"):
        pipe = _from_pretrained(pipeline_class, spec, placement)
        if spec.kind == "hub":
            info["revision"] = _cached_revision(spec.source)
    else:
        pipe = _from_single_file(pipeline_class, spec, placement)
        info["sha256"] = _hub.sha256_file(Path(spec.source))
    pipe.set_progress_bar_config(disable=True)
    apply_memory_plan(pipe, placement, plan)
    return pipe, info


def apply_memory_plan(pipe: Any, placement: Placement, plan: MemoryPlan) -> None:
    """Move ``pipe`` to its device, or set up CPU offload, and the VAE options."""
    if plan.offload == "model":
        pipe.enable_model_cpu_offload(device=placement.device)
    elif plan.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=placement.device)
    else:
        pipe.to(placement.device)
    if plan.vae_slicing:
        pipe.vae.enable_slicing()
    if plan.vae_tiling:
        pipe.vae.enable_tiling()


def check_available(spec: ModelSpec) -> None:
    """Fail fast, before torch loads, when a hub model is neither cached nor downloadable.

    A cached model, or one the hub answers for, passes: the download itself
    happens in :func:`load_pipeline`, with its progress bar. A single-file
    checkpoint holds only weights: diffusers builds the pipeline from the SDXL
    base repository's configs, which must be cached or downloadable too.
    """
    if spec.kind == "file":
        _check_base_configs(spec)
    if spec.kind != "hub" or _cached_revision(spec.source) is not None:
        return
    if _hub.is_offline():
        raise ModelNotFoundError(
            f"model {_where(spec)} is not downloaded and HF_HUB_OFFLINE is set; "
            f"get it with: {pull_hint(spec.id)}",
            model=spec.id,
        )
    if _ask_hub(spec) is not None:
        raise ModelNotFoundError(
            f"model {_where(spec)} is not downloaded and the Hugging Face hub cannot be reached; "
            f"get it with: {pull_hint(spec.id)}",
            model=spec.id,
        )


def _check_base_configs(spec: ModelSpec) -> None:
    """Raise the one-line error when a checkpoint's SDXL base configs cannot be had."""
    if _cached_revision(SDXL_BASE) is not None:
        return
    needs = f"checkpoint {spec.id} needs the SDXL base configs ({SDXL_BASE}), which are not cached"
    if _hub.is_offline():
        raise ModelNotFoundError(
            f"{needs} and HF_HUB_OFFLINE is set; unset it to fetch them (a few MB), "
            f"or get them with: {pull_hint('sdxl-base')}",
            model=spec.id,
        )
    if _ask_hub(resolve_model("sdxl-base")) is not None:
        raise ModelNotFoundError(
            f"{needs} and the Hugging Face hub cannot be reached; "
            f"get them with: {pull_hint('sdxl-base')}",
            model=spec.id,
        )


def download_model(spec: ModelSpec) -> str:
    """Download the files a hub model needs into the HF cache; return the local folder."""
    if _hub.is_offline():
        raise ModelNotFoundError(
            f"cannot download {spec.id}: HF_HUB_OFFLINE is set; unset it to download",
            model=spec.id,
        )
    # Asked first: diffusers turns an unknown repository or an unreachable hub
    # into "not fully cached locally", which names neither.
    reason = _ask_hub(spec)
    if reason is not None:
        raise ModelNotFoundError(
            f"cannot download {spec.id}: the Hugging Face hub cannot be reached ({reason})",
            model=spec.id,
        )
    pipeline_class: Any = importlib.import_module("diffusers").StableDiffusionXLPipeline
    try:
        folder: str = pipeline_class.download(
            spec.source,
            variant=spec.variant,
            use_safetensors=True,
            cache_dir=_hub.hub_cache_dir(),
        )
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"cannot download {spec.id}: {_first_line(exc)} "
            f"(for a LoRA repository: dgx-pixels models pull --lora {spec.id})",
            model=spec.id,
        ) from None
    return folder


def _ask_hub(spec: ModelSpec) -> str | None:
    """Ask the hub about ``spec.source``: ``None`` when it answers, else why it cannot be reached.

    A repository the hub does not have (or hides: a private one, without a
    login) raises the one-line error.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        HfApi().model_info(spec.source, timeout=10)
    except RepositoryNotFoundError:
        raise ModelNotFoundError(
            f"model {_where(spec)} is not on the Hugging Face hub "
            "(or needs a login: hf auth login)",
            model=spec.id,
        ) from None
    except Exception as exc:  # any failure to reach the hub: DNS, proxy, TLS, timeout
        return _first_line(exc)
    return None


def _where(spec: ModelSpec) -> str:
    """The model id for messages, with the hub repository when they differ."""
    return spec.id if spec.id == spec.source else f"{spec.id} ({spec.source})"


def _from_pretrained(pipeline_class: Any, spec: ModelSpec, placement: Placement) -> Any:
    offline = _hub.is_offline()
    if spec.kind == "hub" and offline and _cached_revision(spec.source) is None:
        raise ModelNotFoundError(
            f"model {spec.id} is not downloaded and HF_HUB_OFFLINE is set; "
            f"get it with: {pull_hint(spec.id)}",
            model=spec.id,
        )
    try:
        return pipeline_class.from_pretrained(
            spec.source,
            torch_dtype=placement.dtype,
            variant=spec.variant,
            use_safetensors=True,
            local_files_only=offline,
            cache_dir=_hub.hub_cache_dir(),
        )
    except (OSError, ValueError) as exc:
        if spec.kind == "hub" and _cached_revision(spec.source) is None:
            raise ModelNotFoundError(
                f"model {spec.id} is not downloaded and cannot be fetched now "
                f"({_first_line(exc)}); get it with: {pull_hint(spec.id)}",
                model=spec.id,
            ) from None
        raise ModelError(
            f"model {spec.id} cannot be loaded: {_first_line(exc)}", model=spec.id
        ) from None


def _from_single_file(pipeline_class: Any, spec: ModelSpec, placement: Placement) -> Any:
    try:
        return pipeline_class.from_single_file(
            spec.source,
            torch_dtype=placement.dtype,
            local_files_only=_hub.is_offline(),
            cache_dir=_hub.hub_cache_dir(),
        )
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"checkpoint {spec.id} cannot be loaded ({_first_line(exc)}); a single-file SDXL "
            f"checkpoint also needs the SDXL base configs: {pull_hint('sdxl-base')}",
            model=spec.id,
        ) from None


def _cached_revision(repo_id: str) -> str | None:
    """The snapshot revision of ``repo_id`` in the HF cache, or ``None`` if not cached."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "model_index.json", cache_dir=_hub.hub_cache_dir())
    if isinstance(found, str):
        return Path(found).parent.name
    return None


def _first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, cut to ``limit`` characters."""
    lines = str(exc).strip().splitlines()
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."
