"""The engine: one warm SDXL pipeline, requests in, sprites out.

``Engine.load`` is also where every backend starts: a ``builtin:*`` id loads the
built-in model's engine instead (``engine/_builtin``), which shares this module's
batch checks (:func:`prepare_batch`) and pixel post-processing (:func:`finish_results`).

``Engine.load`` is slow (it loads weights); ``Engine.generate`` runs a batch
of requests that share a :meth:`Engine.batch_key`. Progress is reported
through ``on_step`` and the run stops within one denoising step of
``interrupt`` being set.
"""

from __future__ import annotations

import dataclasses
import importlib
import platform
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dgx_pixels import __version__
from dgx_pixels.engine._backend import Backend, LoadedModel
from dgx_pixels.engine._checks import PreparedRequest, effective_loras, pixel_spec, prepare_request
from dgx_pixels.engine._device import Placement, choose_memory, place
from dgx_pixels.engine._loading import check_available, load_pipeline, quiet_libraries
from dgx_pixels.engine._loras import LoraFile, is_local_lora, locate_lora
from dgx_pixels.engine._preview import latent_preview
from dgx_pixels.engine._schedulers import canonical_scheduler, make_scheduler
from dgx_pixels.engine._seamless import circular_padding
from dgx_pixels.engine._types import GeneratedImage, GenerationResult, LoraInfo, StepInfo, Timings
from dgx_pixels.engine.models import ModelSpec, resolve_model
from dgx_pixels.errors import (
    DeviceError,
    DgxPixelsError,
    GenerationError,
    InputError,
    Interrupted,
    ModelError,
    RequestError,
)
from dgx_pixels.request import GenerationRequest, LoraRef

__all__ = ["Engine", "Item", "finish_results", "prepare_batch"]


class _Stop(Exception):
    """Raised from the step callback to leave the denoising loop at once."""


@dataclass(frozen=True, slots=True)
class Item:
    """One image to draw: which request it belongs to and its inputs."""

    index: int
    prepared: PreparedRequest
    seed: int


class Engine(LoadedModel):
    """A loaded model ready to generate. Create it with :meth:`Engine.load`."""

    def __init__(
        self,
        spec: ModelSpec,
        pipe: Any,
        placement: Placement,
        model_info: dict[str, Any],
        max_batch: int,
    ) -> None:
        self._spec = spec
        self._pipe = pipe
        self._placement = placement
        self._model_info = model_info
        self._max_batch = max_batch
        self._base_scheduler_config = pipe.scheduler.config
        self._variants: dict[str, Any] = {"txt2img": pipe}
        self._lora_files: dict[tuple[str, int, int], LoraFile] = {}
        self._loaded_adapters: set[str] = set()
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------

    @classmethod
    def load(
        cls,
        model_id: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        memory: str | None = None,
        max_batch: int | None = None,
    ) -> Backend:
        """Load ``model_id`` (see :mod:`dgx_pixels.engine.models`) onto a device.

        Returns an :class:`Engine` for an SDXL model and the built-in model's own
        :class:`~dgx_pixels.engine.Backend` for ``builtin:*`` (which takes no
        ``memory`` plan: it is a few MB).

        ``device``: ``auto`` (default), ``cuda[:N]``, ``mps`` or ``cpu``;
        ``dtype``: ``auto``, ``fp32``, ``fp16`` or ``bf16``; ``memory``:
        ``auto`` or a plan name from ``MEMORY_PLANS``; ``max_batch``: the most
        images drawn at once (default 8 on a GPU, 2 with CPU offload, 4 on a CPU). Raises
        :class:`ModelNotFoundError` when the model is not available and
        :class:`ModelError` when it cannot be loaded.
        """
        # 1. What and where (the built-in model has a backend of its own).
        spec = resolve_model(model_id)
        if spec.kind == "builtin":
            from dgx_pixels.engine._builtin._engine import BuiltinEngine

            return BuiltinEngine.load(
                spec, device=device, dtype=dtype, memory=memory, max_batch=max_batch
            )
        check_available(spec)
        placement = place(device, dtype)
        weights = spec.weights_gib_16
        if placement.dtype_name == "fp32":
            weights *= 2
        plan = choose_memory(placement, weights, memory)
        if max_batch is not None and max_batch < 1:
            raise RequestError(f"max_batch must be at least 1, got {max_batch}")
        if max_batch is None:  # fewer images at once where memory is short
            max_batch = 8 if plan.offload == "none" else 2
            if placement.device_name == "cpu":
                max_batch = 4
        # 2. Load.
        with quiet_libraries():
            pipe, info = load_pipeline(spec, placement, plan)
        info["memory"] = {
            "vae_slicing": plan.vae_slicing,
            "vae_tiling": plan.vae_tiling,
            "offload": plan.offload,
        }
        engine = cls(spec, pipe, placement, info, max_batch)
        # 3. The model's own LoRAs (a preset's), so a missing one fails now, not mid-job.
        with quiet_libraries():
            engine._activate_loras(spec.loras)
        return engine

    @property
    def base_scheduler_config(self) -> Any:
        """The model's own scheduler config (the training schedule)."""
        return self._base_scheduler_config

    @property
    def pipeline(self) -> Any:
        """The underlying diffusers text-to-image pipeline (for benchmarks and tests)."""
        return self._pipe

    def warm_up(self) -> float:
        """Draw one small image through the whole path and return the seconds it took.

        The first draw of a process pays for set-up the later ones do not
        (kernel selection, memory pools, the pixel toolkit's imports): a worker
        calls this while it says ``loading``, so its first job runs as fast as
        the rest. Raises what :meth:`generate` raises.
        """
        started = time.perf_counter()
        request = GenerationRequest(
            "warm-up", size=(32, 32), steps=2, seed=0, model=self._spec.id, scheduler="euler"
        )
        self.generate([request])
        return time.perf_counter() - started

    def close(self) -> None:
        """Let go of the pipeline, its variants and LoRAs, so their memory can be freed
        (a worker unloading a model to make room); :meth:`generate` then raises
        :class:`ModelError`. Closing twice does nothing."""
        with self._lock:
            self._pipe = None
            self._variants.clear()
            self._lora_files.clear()
            self._loaded_adapters.clear()

    # -- batching ------------------------------------------------------------

    def batch_key(self, request: GenerationRequest) -> Hashable:
        """Requests with equal keys may run as one batch in :meth:`generate`."""
        try:
            scheduler = canonical_scheduler(request.scheduler)
        except RequestError:
            scheduler = request.scheduler
        return (
            request.model,
            request.size,
            request.drawing_size,
            request.steps,
            scheduler,
            request.guidance,
            tuple((lo.id, lo.weight) for lo in request.loras),
            request.fast,
            request.init is not None,
            request.mask is not None,
            request.strength if request.init is not None else None,
            request.seamless,
        )

    # -- generation ----------------------------------------------------------

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        *,
        on_step: Callable[[StepInfo], None] | None = None,
        interrupt: threading.Event | None = None,
    ) -> list[GenerationResult]:
        """Draw every image of ``requests`` (one batch) and turn each into a sprite.

        Returns one :class:`GenerationResult` per request, its images in
        ``request.seeds()`` order. Raises :class:`RequestError` if the
        requests do not share a batch key or are for another model,
        :class:`Interrupted` when ``interrupt`` is set, and
        :class:`GenerationError` when the pipeline fails.
        """
        with self._lock, quiet_libraries():
            return self._generate(list(requests), on_step, interrupt)

    def _generate(
        self,
        requests: list[GenerationRequest],
        on_step: Callable[[StepInfo], None] | None,
        interrupt: threading.Event | None,
    ) -> list[GenerationResult]:
        started = time.perf_counter()
        # 1. Check the batch and each request.
        if self._pipe is None:
            raise ModelError(f"the engine for {self._spec.id} was closed")
        prepared = prepare_batch(requests, self._spec, self.batch_key)
        first = prepared[0]
        # 2. Set up the pipeline: variant, scheduler, LoRAs.
        loras = self._activate_loras(effective_loras(first.request, self._spec))
        mode = "txt2img"
        if first.mask is not None:
            mode = "inpaint"
        elif first.init is not None:
            mode = "img2img"
        pipe = self._variant(mode)
        pipe.scheduler = make_scheduler(first.scheduler, self._base_scheduler_config)
        # 3. Draw, in chunks of at most max_batch images.
        items = [Item(i, p, seed) for i, p in enumerate(prepared) for seed in p.request.seeds()]
        chunks = [items[i : i + self._max_batch] for i in range(0, len(items), self._max_batch)]
        raws: list[Image.Image] = []
        progress = _Progress(len(chunks), started, on_step, interrupt)
        for chunk in chunks:
            raws.extend(self._draw(pipe, mode, chunk, progress))
        # 4. Sprites and results.
        lora_info = [LoraInfo(f.ref.id, f.ref.weight, f.path.name, f.sha256) for f in loras]
        return finish_results(
            prepared, items, raws, started, self._placement, self._model_info, lora_info
        )

    def _draw(self, pipe: Any, mode: str, chunk: list[Item], progress: _Progress) -> list[Any]:
        import torch

        progress.check()
        request = chunk[0].prepared.request
        drawing = chunk[0].prepared.drawing
        kwargs: dict[str, Any] = {
            "prompt": [it.prepared.request.prompt for it in chunk],
            "negative_prompt": [it.prepared.request.negative_prompt for it in chunk],
            "num_inference_steps": request.steps,
            "guidance_scale": request.guidance,
            "generator": [torch.Generator(device="cpu").manual_seed(it.seed) for it in chunk],
            "height": drawing.height,
            "width": drawing.width,
            "output_type": "pil",
            "callback_on_step_end": progress.callback,
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
        if mode != "txt2img":
            kwargs["image"] = [it.prepared.init for it in chunk]
            kwargs["strength"] = request.strength
        if mode == "img2img":  # the image-to-image pipeline draws at the image's size
            del kwargs["height"], kwargs["width"]
        if mode == "inpaint":
            kwargs["mask_image"] = [it.prepared.mask for it in chunk]
        try:
            with (
                torch.inference_mode(),
                circular_padding([pipe.unet, pipe.vae], request.seamless),
            ):
                output = pipe(**kwargs)
        except _Stop:
            raise Interrupted("generation interrupted", stage="denoise") from None
        except DgxPixelsError:
            raise
        except (RuntimeError, ValueError) as exc:
            error = DeviceError if _is_device_failure(exc) else GenerationError
            raise error(
                f"generation failed on {self._placement.description}: {_first_line(exc)}",
                stage="denoise",
            ) from exc
        progress.chunk_done()
        return list(output.images)

    def _variant(self, mode: str) -> Any:
        """The pipeline for ``mode``, sharing the loaded modules (made once)."""
        if mode not in self._variants:
            diffusers: Any = importlib.import_module("diffusers")
            cls = (
                diffusers.StableDiffusionXLInpaintPipeline
                if mode == "inpaint"
                else diffusers.StableDiffusionXLImg2ImgPipeline
            )
            variant = cls.from_pipe(self._pipe)
            variant.set_progress_bar_config(disable=True)
            self._variants[mode] = variant
        return self._variants[mode]

    def _activate_loras(self, refs: Sequence[LoraRef]) -> list[LoraFile]:
        """Load (once) and enable exactly the LoRAs ``refs`` with their weights."""
        files = []
        for ref in refs:
            key = _lora_key(ref)
            if key not in self._lora_files:
                self._lora_files[key] = locate_lora(
                    ref, cross_attention_dim=self._spec.cross_attention_dim
                )
            files.append(dataclasses.replace(self._lora_files[key], ref=ref))
        for f in files:
            if f.adapter_name not in self._loaded_adapters:
                try:
                    with warnings.catch_warnings():  # peft warns on every adapter after the first
                        warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                        self._pipe.load_lora_weights(str(f.path), adapter_name=f.adapter_name)
                except (ValueError, RuntimeError, KeyError) as exc:
                    raise ModelError(
                        f"LoRA {f.ref.id} cannot be applied to {self._spec.id}: {_first_line(exc)}",
                        lora=f.ref.id,
                    ) from None
                self._loaded_adapters.add(f.adapter_name)
        if files:
            self._pipe.enable_lora()
            self._pipe.set_adapters(
                [f.adapter_name for f in files], adapter_weights=[f.ref.weight for f in files]
            )
        elif self._loaded_adapters:
            self._pipe.disable_lora()
        return files


def prepare_batch(
    requests: Sequence[GenerationRequest],
    spec: ModelSpec,
    batch_key: Callable[[GenerationRequest], Hashable],
) -> list[PreparedRequest]:
    """Check that ``requests`` are one batch for the model ``spec`` and prepare each."""
    if not requests:
        raise RequestError("generate needs at least one request")
    for request in requests:
        if request.model != spec.id:
            raise RequestError(
                f"request is for model {request.model!r} but this engine has {spec.id!r} loaded",
                option="model",
            )
    keys = {batch_key(r) for r in requests}
    if len(keys) > 1:
        raise RequestError(
            "requests in one batch must share size, steps, scheduler, "
            "guidance, LoRAs and image inputs"
        )
    return [prepare_request(r, spec) for r in requests]


def finish_results(
    prepared: Sequence[PreparedRequest],
    items: Sequence[Item],
    raws: Sequence[Image.Image],
    started: float,
    placement: Placement,
    model_info: dict[str, Any],
    lora_info: list[LoraInfo],
) -> list[GenerationResult]:
    """Raw drawings (one per item) -> true-resolution sprites by the pixel toolkit, the
    images of one request sharing one palette, and one result per request."""
    draw_s = time.perf_counter() - started
    post_start = time.perf_counter()
    images: list[list[GeneratedImage]] = [[] for _ in prepared]
    specs = []
    for i, p in enumerate(prepared):
        drawn = [(item.seed, raw) for item, raw in zip(items, raws, strict=True) if item.index == i]
        spec = _sprite_spec(p.request, [raw for _, raw in drawn])
        specs.append(spec.to_dict())
        for seed, raw in drawn:
            images[i].append(GeneratedImage(seed, _to_sprite(raw, spec, p.request.seamless), raw))
    postprocess_s = time.perf_counter() - post_start
    timings = Timings(time.perf_counter() - started, draw_s, postprocess_s, len(items))
    versions = _versions()
    return [
        GenerationResult(
            request=p.request,
            images=images[i],
            timings=timings,
            drawing_size=(p.drawing.width, p.drawing.height),
            factor=p.drawing.factor,
            scheduler=p.scheduler,
            device=placement.description,
            dtype=placement.dtype_name,
            model=dict(model_info),
            loras=lora_info,
            versions=versions,
            pixel_spec=specs[i],
        )
        for i, p in enumerate(prepared)
    ]


def _lora_key(ref: LoraRef) -> tuple[str, int, int]:
    """A LoRA's cache key: its id, and for a local file its change time and size (a file
    retrained in place is loaded again)."""
    path = Path(ref.id).expanduser()
    if is_local_lora(ref.id) and path.is_file():
        stat = path.stat()
        return (ref.id, stat.st_mtime_ns, stat.st_size)
    return (ref.id, 0, 0)


class _Progress:
    """Step counting, the ``on_step`` callback and the interrupt check."""

    def __init__(
        self,
        chunks: int,
        started: float,
        on_step: Callable[[StepInfo], None] | None,
        interrupt: threading.Event | None,
    ) -> None:
        self._chunks = chunks
        self._started = started
        self._on_step = on_step
        self._interrupt = interrupt
        self._done_before = 0
        self._per_chunk = 0

    def check(self) -> None:
        if self._interrupt is not None and self._interrupt.is_set():
            raise Interrupted("generation interrupted", stage="denoise")

    def callback(self, pipe: Any, i: int, t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if self._interrupt is not None and self._interrupt.is_set():
            raise _Stop
        self._per_chunk = int(pipe.num_timesteps)
        if self._on_step is not None:
            latents = tensors["latents"]
            self._on_step(
                StepInfo(
                    step=self._done_before + i + 1,
                    total=self._per_chunk * self._chunks,
                    elapsed_s=time.perf_counter() - self._started,
                    _preview=lambda: latent_preview(latents),
                )
            )
        return tensors

    def chunk_done(self) -> None:
        self._done_before += self._per_chunk


def _sprite_spec(request: GenerationRequest, raws: list[Image.Image]) -> Any:
    """The pixel spec for a request's drawings: an ``auto:N`` palette is extracted
    once from all of them, so every sprite of the request shares it exactly."""
    from dgx_pixels.pixel.spec import lock_palette

    spec = pixel_spec(request, request.seed or 0)
    try:
        return lock_palette(spec, raws)
    except InputError:  # no drawing has an opaque pixel: no colours to extract
        return spec


def _to_sprite(raw: Image.Image, spec: Any, seamless: str) -> Image.Image:
    """The true-resolution sprite of a raw drawing, by the pixel toolkit (a seamless
    drawing as a torus, so its wrap survives)."""
    from dgx_pixels.pixel.spec import to_pixel_art

    return to_pixel_art(raw, spec, wrap=seamless)


def _versions() -> dict[str, str]:
    """The versions that made a result (from package metadata: importing peft or all of
    transformers just to read a version would cost seconds)."""
    import torch

    versions = {"dgx_pixels": __version__, "python": platform.python_version()}
    versions["torch"] = torch.__version__
    for name in ("diffusers", "transformers", "peft"):
        versions[name] = _installed_version(name)
    if torch.version.cuda:
        versions["cuda"] = str(torch.version.cuda)
    return versions


#: What PyTorch says when the device, not the request, failed (its errors that
#: have no class of their own are RuntimeErrors with these texts).
_DEVICE_FAILURES = (
    "out of memory",
    "cuda error",
    "cudnn_status",
    "cublas_status",
    "device-side assert",
    "mps backend",
    "hip error",
    "xpu error",
)


def _is_device_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the device failing (out of memory, a CUDA error): worth a retry.

    >>> _is_device_failure(RuntimeError("CUDA error: an illegal memory access was encountered"))
    True
    >>> _is_device_failure(RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3, 4x5)"))
    False
    """
    import torch

    named = (getattr(torch, "OutOfMemoryError", None), getattr(torch, "AcceleratorError", None))
    kinds = tuple(k for k in named if isinstance(k, type))
    if kinds and isinstance(exc, kinds):
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _DEVICE_FAILURES)


def _installed_version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
