"""The tools that need the worker: ``generate``, ``jobs_list/status/cancel``, ``models_list``.

The server never touches the GPU: ``generate`` queues the request on the
worker (starting one with :func:`~dgx_pixels.jobs.spawn_worker` when none
answers), turns the job's progress events into MCP progress notifications,
and cancels the job when the client cancels the call. Parameter names are
the :class:`~dgx_pixels.request.GenerationRequest` fields, as on the CLI.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from dgx_pixels.assets import copy_outputs
from dgx_pixels.errors import DgxPixelsError, InputError, JobError, WorkerUnavailableError
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.client import AsyncClient, job_error, resolve_address
from dgx_pixels.jobs.security import is_loopback
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker
from dgx_pixels.mcp._images import READ_ONLY, PaletteText, PathText, SizeText, palette_argument
from dgx_pixels.mcp._results import tool_errors, tool_result
from dgx_pixels.mcp._root import ProjectRoot
from dgx_pixels.request import (
    BACKGROUNDS,
    DEFAULT_MODEL,
    MAX_COUNT,
    GenerationRequest,
    LoraRef,
)

__all__ = ["MAX_PROMPT_CHARS", "WorkerLink", "register_generation_tools"]

log = logging.getLogger(__name__)

#: The longest prompt (or negative prompt) a tool accepts.
MAX_PROMPT_CHARS = 2000
MAX_LORAS = 8
JobStateName = Literal["queued", "running", "done", "failed", "cancelled"]


@dataclass
class WorkerLink:
    """How the server reaches its worker, and the worker it started (if any).

    ``spawn`` allows starting ``dgx-pixels worker --model MODEL`` on
    ``address`` when nothing answers there (only for a loopback address).
    """

    address: str | None = None
    model: str = DEFAULT_MODEL
    data_dir: str | None = None
    spawn: bool = True
    timeout: float = 5.0
    #: Folders a started worker may read (``worker --root``): the project root, for local LoRAs.
    roots: tuple[str, ...] = ()
    spawned: SpawnedWorker | None = field(default=None, init=False)
    _lock: anyio.Lock = field(default_factory=anyio.Lock, init=False)

    def client(self) -> AsyncClient:
        """A client of the worker (one per tool call: sockets belong to the calling loop)."""
        return AsyncClient(self.address, timeout=self.timeout, data_dir=self.data_dir)

    async def ensure(self, client: AsyncClient) -> p.Pong:
        """The worker's pong; a worker is started first when none answers and ``spawn`` is on."""
        try:
            return await client.ping()
        except WorkerUnavailableError:
            if not self.spawn:
                raise
        async with self._lock:
            if self.spawned is None or self.spawned.process.poll() is not None:
                address = resolve_address(self.address)
                if not is_loopback(address):
                    raise WorkerUnavailableError(
                        f"no worker answers at {address}, and one is started only on loopback; "
                        f"start it there with: dgx-pixels worker --bind {address}",
                        address=address,
                    )
                log.info("no worker at %s: starting one with model %s", address, self.model)
                self.spawned = await anyio.to_thread.run_sync(
                    lambda: spawn_worker(
                        model=self.model,
                        data_dir=self.data_dir,
                        bind=address,
                        args=[arg for root in self.roots for arg in ("--root", root)],
                    )
                )
        return await client.ping()

    def close(self) -> None:
        """Stop the worker this link started (it finishes its batch first)."""
        if self.spawned is not None:
            self.spawned.stop()
            self.spawned = None


def _request_paths(root: ProjectRoot, request: GenerationRequest) -> GenerationRequest:
    """Every file the request names, confined to ``root`` and made absolute for the worker."""
    changes: dict[str, Any] = {}
    for name in ("init", "mask", "out"):
        value = getattr(request, name)
        if value is not None:
            changes[name] = str(root.inside(value, what=name))
    if request.palette is not None:
        changes["palette"] = palette_argument(root, request.palette)
    loras = []
    for lora in request.loras:
        looks_local = lora.id.endswith(".safetensors") or (root.path / lora.id).exists()
        if looks_local or Path(lora.id).is_absolute() or lora.id.startswith((".", "~")):
            lora = LoraRef(str(root.inside(lora.id, what="lora")), lora.weight)
        loras.append(lora)
    changes["loras"] = tuple(loras)
    return request.replace(**changes)


def register_generation_tools(server: MCPServer, root: ProjectRoot, link: WorkerLink) -> None:
    """Add the worker tools to ``server``: files inside ``root``, jobs on ``link``'s worker."""

    @server.tool()
    async def generate(
        prompt: Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)],
        ctx: Context,
        size: SizeText = "32",
        count: Annotated[int, Field(ge=1, le=MAX_COUNT)] = 1,
        seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None,
        palette: PaletteText | None = None,
        dither: Literal["none", "ordered", "error-diffusion"] | None = None,
        model: Annotated[str, Field(min_length=1, max_length=1000)] | None = None,
        loras: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=1000)]],
            Field(max_length=MAX_LORAS, description="ID[:WEIGHT] each"),
        ] = [],  # noqa: B006  # pydantic copies defaults; the schema shows []
        steps: Annotated[int, Field(ge=1, le=200)] | None = None,
        guidance: Annotated[float, Field(ge=0, le=30)] | None = None,
        scheduler: Annotated[str, Field(min_length=1, max_length=32)] | None = None,
        negative: Annotated[str, Field(max_length=MAX_PROMPT_CHARS)] | None = None,
        init: PathText | None = None,
        strength: Annotated[float, Field(gt=0, le=1)] | None = None,
        mask: PathText | None = None,
        background: Annotated[
            str, Field(max_length=16, description=f"{' or '.join(BACKGROUNDS)} or #rrggbb")
        ]
        | None = None,
        fast: bool = False,
        out: PathText | None = None,
        force: bool = False,
    ) -> CallToolResult:
        """Prompt -> pixel-art sprites on disk, generated by the worker (as `dgx-pixels generate`).

        Sprites are true resolution (size 32 makes 32x32 PNGs), written with
        a preview, the model's raw drawing and a JSON sidecar into OUT
        (default outputs/DATE under the project root). The result names every
        file and shows each sprite enlarged. Progress is reported per step;
        cancelling the call cancels the job.
        """
        from dgx_pixels.cli._generate import _build_request
        from dgx_pixels.cli._params import parse_size

        with tool_errors():
            # 1. The request, as generate builds it; every path inside the root.
            given: dict[str, Any] = {
                "size": parse_size(size, option="size"),
                "count": count,
                **{
                    k: v
                    for k, v in {
                        "seed": seed, "palette": palette, "dither": dither, "model": model,
                        "steps": steps, "guidance": guidance, "scheduler": scheduler,
                        "negative": negative, "init": init, "strength": strength, "mask": mask,
                        "background": background,
                    }.items()
                    if v is not None
                },
            }  # fmt: skip
            if loras:
                given["loras"] = tuple(LoraRef.parse(text) for text in loras)
            if fast:
                given["fast"] = True
            given["out"] = out or f"outputs/{dt.date.today().isoformat()}"
            # Checked in full before the worker is asked anything; without a model
            # the request names the worker's, filled in below.
            request = _request_paths(
                root, _build_request(prompt, None, {"model": link.model, **given})
            )
            # The worker writes into its own data dir; the files are copied into OUT after.
            out_dir = Path(request.out or root.path)
            request = request.replace(out=None)
            async with link.client() as client:
                pong = await link.ensure(client)
                if model is None:
                    request = request.replace(model=pong.model)
                # 2. Queue it, and follow it until it ends.
                job = await client.submit(request, force=force)
                final = await follow_job(client, job, ctx, total=request.steps)
            # 3. The worker wrote into its own data dir: copy the files into OUT.
            copied = await anyio.to_thread.run_sync(
                lambda: copy_outputs(final.outputs, out_dir, force=force)
            )
            if copied.remote:
                raise InputError(
                    f"the worker at {link.address} is on another machine: its files "
                    f"({copied.remote[0]}...) are not under this project root"
                )
            files = [{role: str(path) for role, path in image.items()} for image in copied.images]
            sprites = [Path(image["sprite"]) for image in files]
            metadata = {
                "job": final.id,
                "model": request.model,
                "size": list(request.size),
                "seeds": list(request.seeds()),
                "files": files,
                "request": request.to_dict(),
                "seconds": round((final.finished or 0.0) - (final.started or 0.0), 3),
            }
            return await anyio.to_thread.run_sync(lambda: tool_result(metadata, sprites))

    @server.tool(annotations=READ_ONLY)
    async def jobs_list(
        state: Annotated[list[JobStateName], Field(max_length=5)] | None = None,
        limit: Annotated[int, Field(ge=1, le=p.MAX_PAGE)] = 20,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Jobs on the worker, newest first (as `dgx-pixels jobs`)."""
        with tool_errors():
            async with link.client() as client:
                page = await client.jobs(state, limit=limit, offset=offset)
            return {"total": page.total, "jobs": [j.summary() for j in page.jobs]}

    @server.tool(annotations=READ_ONLY)
    async def jobs_status(job_id: Annotated[int, Field(ge=1)]) -> dict[str, Any]:
        """One job's state, outputs and error."""
        with tool_errors():
            async with link.client() as client:
                return (await client.status(job_id)).summary()

    @server.tool()
    async def jobs_cancel(job_id: Annotated[int, Field(ge=1)]) -> dict[str, Any]:
        """Cancel a job: a queued one at once, a running one within one denoising step."""
        with tool_errors():
            async with link.client() as client:
                return (await client.cancel(job_id)).summary()

    @server.tool(annotations=READ_ONLY)
    async def models_list() -> dict[str, Any]:
        """Known model ids, what the Hugging Face cache holds, and what the worker serves."""
        from dgx_pixels.cli._models import _state
        from dgx_pixels.engine._hub import cached_repos, hub_cache_dir
        from dgx_pixels.engine.models import PRESETS, RANDOM_MODELS

        cached = {repo.repo_id: repo for repo in cached_repos()}
        known = [
            {
                "id": spec.id,
                "state": "built in" if spec.kind == "random" else _state(spec, cached),
                "description": spec.description,
            }
            for spec in [*PRESETS.values(), *RANDOM_MODELS.values()]
        ]
        worker: dict[str, Any] | None = None
        try:
            async with AsyncClient(link.address, timeout=0.5, data_dir=link.data_dir) as client:
                served = await client.models()
                worker = {"address": client.address, "models": served.models, "state": served.state}
        except DgxPixelsError:
            worker = None  # none answers: say so rather than start one to list models
        return {
            "models": known,
            "cache": str(hub_cache_dir()),
            "cached": [
                {"repo": r.repo_id, "kind": r.kind, "bytes": r.size_bytes} for r in cached.values()
            ],
            "worker": worker,
        }


async def follow_job(
    client: AsyncClient, job: p.JobRecord, ctx: Context, *, total: int
) -> p.JobRecord:
    """Report ``job``'s progress to the MCP client until it ends (``total`` units before its
    first event); cancel the job when the call is cancelled. Returns its final record, or
    raises its error when it did not end ``done``."""
    await ctx.report_progress(0, total, f"job {job.id} queued")
    try:
        async for event in client.watch(job.id):
            if isinstance(event, p.Progress):
                await ctx.report_progress(
                    event.step, event.total, f"job {job.id}: {event.step}/{event.total}"
                )
            elif isinstance(event, p.Started):
                await ctx.report_progress(0, total, f"job {job.id} running")
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await _cancel_quietly(client, job.id)
        raise
    final = await client.status(job.id)
    if final.state != p.JobState.DONE:
        raise job_error(final)
    return final


async def _cancel_quietly(client: AsyncClient, job_id: int) -> None:
    try:
        await client.cancel(job_id)
    except (JobError, InputError) as exc:  # the worker went away: nothing left to cancel
        log.warning("could not cancel job %d: %s", job_id, exc)
