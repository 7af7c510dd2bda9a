"""``dgx-pixels models``: list, pull, describe and verify models and LoRAs."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from dgx_pixels.engine.models import ModelSpec

__all__ = ["models"]


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _missing(spec: ModelSpec, cached: Collection[str]) -> list[str]:
    """The hub repositories ``spec`` draws with (its base, then its LoRAs) that are not cached."""
    return [repo for repo in [spec.source, *_lora_repos(spec)] if repo not in cached]


def _lora_repos(spec: ModelSpec) -> list[str]:
    """The hub repositories of ``spec``'s LoRAs (``owner/name`` of ``owner/name[/file]``)."""
    return ["/".join(lora.id.split("/")[:2]) for lora in spec.loras]


def _state(spec: ModelSpec, cached: Collection[str]) -> str:
    """``cached``, ``not downloaded`` or what is still missing, for a hub model."""
    missing = _missing(spec, cached)
    if not missing:
        return "cached"
    if spec.source in missing:
        return "not downloaded"
    return f"needs {', '.join(missing)}"


def builtin_state() -> str:
    """``ready`` with the built-in model's weights' size and SHA-256, or why it is not;
    read from the weights file the engine would load, never downloaded."""
    from dgx_pixels.engine._builtin._engine import weights_path
    from dgx_pixels.engine._hub import sha256_file
    from dgx_pixels.errors import ModelNotFoundError

    try:
        path = weights_path()
    except ModelNotFoundError as exc:
        if "path" in exc.context:  # $DGX_PIXELS_BUILTIN_WEIGHTS names no file: it says so
            return exc.message
        return "not trained in this install"
    return f"ready, {_size(path.stat().st_size)}, sha256 {sha256_file(path)}"


def known_ids(cached: Collection[str]) -> list[tuple[str, str, str]]:
    """``(id, state, description)`` of every known model id: the built-in, presets, random."""
    from dgx_pixels.engine.models import BUILTIN_MODELS, PRESETS, RANDOM_MODELS

    rows = [(spec.id, builtin_state(), spec.description) for spec in BUILTIN_MODELS.values()]
    for spec in [*PRESETS.values(), *RANDOM_MODELS.values()]:
        state = "built in" if spec.kind == "random" else _state(spec, cached)
        rows.append((spec.id, state, spec.description))
    return rows


@click.group("models")
def models() -> None:
    """List, download, describe and verify models and LoRAs."""


@models.command("list")
def list_models() -> None:
    """Known model ids, and what the Hugging Face cache holds with sizes."""
    from dgx_pixels.engine._hub import cached_repos, hub_cache_dir

    cached = {repo.repo_id: repo for repo in cached_repos()}
    click.echo("model ids:")
    rows = known_ids(cached)
    width = max(len(state) for _, state, _ in rows)
    for model_id, state, description in rows:
        click.echo(f"  {model_id:<18} {state:<{width}} {description}")
    click.echo(f"cache {hub_cache_dir()}:")
    if not cached:
        click.echo("  (empty)")
    for repo in cached.values():
        click.echo(f"  {repo.repo_id:<50} {repo.kind:<8} {_size(repo.size_bytes):>10}")


@models.command("pull")
@click.argument("model_id")
@click.option("--lora", "as_lora", is_flag=True, help="MODEL_ID is a LoRA repository.")
def pull(model_id: str, as_lora: bool) -> None:
    """Download MODEL_ID (a preset, a hub model or a LoRA) into the HF cache.

    Cached files that fail 'models verify' are downloaded again.
    """
    from dgx_pixels.engine._hub import pull as pull_model

    def corrupt(blob: Path) -> None:
        click.echo(f"{blob}: corrupt, downloading it again", err=True)

    paths = pull_model(model_id, as_lora=as_lora, on_corrupt=corrupt)
    if not paths:
        from dgx_pixels.engine.models import resolve_model

        click.echo(f"{model_id} is {resolve_model(model_id).kind}: nothing to download")
    for path in paths:
        click.echo(path)


@models.command("info")
@click.argument("model_id")
def info(model_id: str) -> None:
    """How MODEL_ID is loaded, what it draws and whether it is downloaded."""
    from dgx_pixels.engine._hub import cached_repos
    from dgx_pixels.engine.models import resolve_model

    spec = resolve_model(model_id)
    click.echo(f"id:            {spec.id}")
    click.echo(f"kind:          {spec.kind}")
    click.echo(f"source:        {spec.source}")
    if spec.description:
        click.echo(f"description:   {spec.description}")
    click.echo(f"loras:         {', '.join(map(str, spec.loras)) or '-'}")
    click.echo(
        f"draws:         ~{spec.native_side}x{spec.native_side}, sides "
        f"{spec.min_side}-{spec.max_side} px in multiples of {spec.multiple}"
    )
    if spec.kind == "hub":
        repos = {r.repo_id: r for r in cached_repos()}
        state = _state(spec, repos)
        if state == "cached":
            size = sum(repos[repo].size_bytes for repo in [spec.source, *_lora_repos(spec)])
            state = f"cached, {_size(size)}"
        click.echo(f"status:        {state}")
    elif spec.kind == "builtin":
        click.echo(f"status:        {builtin_state()}")


@models.command("verify")
@click.argument("repo_ids", nargs=-1)
def verify(repo_ids: tuple[str, ...]) -> None:
    """Re-hash cached files (of REPO_IDS, or all) against their content hashes."""
    from dgx_pixels.engine._hub import verify_cache
    from dgx_pixels.errors import ModelError

    results = verify_cache(list(repo_ids) or None)
    if not results:
        click.echo("nothing cached to verify")
        return
    bad = 0
    for result in results:
        state = "ok" if not result.bad else f"CORRUPT: {', '.join(result.bad)}"
        click.echo(f"{result.repo_id:<50} {result.checked:>4} files  {state}")
        bad += len(result.bad)
    if bad:
        raise ModelError(f"{bad} cached file(s) do not match their hash; pull them again")
