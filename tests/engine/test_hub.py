"""Downloads from the Hugging Face hub, for real, from a fake hub on 127.0.0.1.

``fake_hub.FakeHub`` serves the tiny random SDXL pipeline, saved once per
session, as the repository ``dgx-test/tiny-sdxl``; huggingface_hub and
diffusers download it with their own code. Each test has its own empty HF
home (cache, token, agent registry), so the user's is never read or written.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from dgx_pixels.cli import cli
from dgx_pixels.engine import Engine, GenerationResult
from dgx_pixels.engine._hub import hub_cache_dir
from dgx_pixels.request import GenerationRequest

from .fake_hub import FakeHub, FakeRepo

REPO = "dgx-test/tiny-sdxl"
COMMIT = "5e1f0c2a9d3b4e6f7a8b9c0d1e2f3a4b5c6d7e8f"  # the fake repository's one commit
UNKNOWN = "dgx-test/no-such-model"
NOT_ON_HUB = (
    f"Error: model {UNKNOWN} is not on the Hugging Face hub (or needs a login: hf auth login)"
)

MakeRequest = Callable[..., GenerationRequest]


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory: pytest.TempPathFactory) -> FakeRepo:
    """The tiny random SDXL pipeline as a diffusers repository, saved once."""
    import torch
    from diffusers import StableDiffusionXLPipeline

    from dgx_pixels.engine._random_models import build_components

    folder = tmp_path_factory.mktemp("tiny-sdxl")
    parts = build_components("sdxl-tiny", device="cpu", dtype=torch.float32)
    StableDiffusionXLPipeline(**parts).save_pretrained(str(folder), safe_serialization=True)
    return FakeRepo.from_folder(folder, COMMIT)


@pytest.fixture(autouse=True)
def _own_hf_home(_offline_hub: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty HF home per test, after conftest's offline hub (whose cache the session shares).

    huggingface_hub 2.4.0 reads ``HF_HOME`` and the paths under it (token,
    agent registry) once, at import, into ``huggingface_hub.constants``;
    setting the environment now does not reach them, so they are patched too.
    dgx_pixels reads ``HF_HUB_CACHE`` at each call.
    """
    import huggingface_hub.constants as constants

    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(home / ".agent_harnesses.json"))


def use_hub(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Point huggingface_hub at ``endpoint``, online.

    huggingface_hub 2.4.0 reads ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` once, at
    import, into ``huggingface_hub.constants`` (building the file URL template
    from the endpoint then), and its module-level ``HfApi`` (behind
    ``huggingface_hub.model_info``, which diffusers calls) keeps the endpoint
    it was made with. Setting the environment now reaches none of them, so
    they are patched as well; the environment is set for dgx_pixels, which
    reads it at each call.
    """
    import huggingface_hub.constants as constants
    import huggingface_hub.hf_api as hf_api

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    template = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
    monkeypatch.setattr(hf_api.api, "endpoint", endpoint)
    set_offline(monkeypatch, False)


def set_offline(monkeypatch: pytest.MonkeyPatch, offline: bool) -> None:
    """Set ``HF_HUB_OFFLINE`` as a new process would see it (see :func:`use_hub`)."""
    import huggingface_hub.constants as constants

    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def hub(tiny_sdxl: FakeRepo, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """The fake hub serving ``dgx-test/tiny-sdxl``, and huggingface_hub pointed at it."""
    with FakeHub({REPO: tiny_sdxl}) as fake:
        use_hub(monkeypatch, fake.endpoint)
        yield fake


@pytest.fixture
def closed_port() -> Iterator[str]:
    """The URL of a loopback port that is bound but never listens: a hub that cannot be reached."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def errors(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error")]


def snapshot() -> Path:
    return hub_cache_dir() / "models--dgx-test--tiny-sdxl" / "snapshots" / COMMIT


def served_files(repo: FakeRepo) -> dict[str, bytes]:
    """What a diffusers download of ``repo`` fetches: every file but ``.gitattributes``."""
    return {path: content for path, content in repo.files.items() if path != ".gitattributes"}


def lfs_downloads(hub: FakeHub) -> list[str]:
    return [r for r in hub.requests if r.startswith("GET /lfs/")]


def run(engine: Engine, request: GenerationRequest) -> GenerationResult:
    [result] = engine.generate([request])
    return result


def test_pull_downloads_the_repository_into_the_cache(hub: FakeHub, tiny_sdxl: FakeRepo) -> None:
    assert "status:        not downloaded" in invoke("models", "info", REPO).output
    result = invoke("models", "pull", REPO)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(snapshot())
    # Every file, byte for byte; the weights came from the CDN the hub redirected to.
    served = served_files(tiny_sdxl)
    cached = {p.relative_to(snapshot()).as_posix(): p for p in snapshot().rglob("*") if p.is_file()}
    assert sorted(cached) == sorted(served)
    assert [path for path, file in cached.items() if file.read_bytes() != served[path]] == []
    assert len(lfs_downloads(hub)) == sum(path.endswith(".safetensors") for path in served)
    assert (snapshot().parents[1] / "refs" / "main").read_text() == COMMIT
    # What the cache holds, as list, info and verify tell it (equal files share one blob).
    size = f"{sum(map(len, set(served.values()))) / 2**20:.1f} MiB"
    [line] = [line for line in invoke("models", "list").output.splitlines() if REPO in line]
    assert line.split() == [REPO, "model", *size.split()]
    assert f"status:        cached, {size}" in invoke("models", "info", REPO).output
    verify = invoke("models", "verify", REPO)
    assert verify.exit_code == 0, verify.output
    assert verify.output.split() == [REPO, str(len(set(served.values()))), "files", "ok"]


def test_a_corrupt_file_fails_verify_until_pulled_again(hub: FakeHub, tiny_sdxl: FakeRepo) -> None:
    assert invoke("models", "pull", REPO).exit_code == 0
    weights = snapshot() / "unet" / "diffusion_pytorch_model.safetensors"
    blob = weights.resolve()  # the cache's file, named by the SHA-256 of its content
    damaged = bytearray(blob.read_bytes())
    damaged[-1] ^= 0xFF
    blob.write_bytes(bytes(damaged))

    verify = invoke("models", "verify")
    assert verify.exit_code == 5
    assert f"CORRUPT: {blob.name}" in verify.output
    assert errors(verify) == ["Error: 1 cached file(s) do not match their hash; pull them again"]
    # Pulling again fetches that file, and only it.
    hub.requests.clear()
    again = invoke("models", "pull", REPO)
    assert again.exit_code == 0, again.output
    assert f"{blob}: corrupt, downloading it again" in again.stderr
    assert lfs_downloads(hub) == [f"GET /lfs/{blob.name}"]
    assert weights.read_bytes() == tiny_sdxl.files["unet/diffusion_pytorch_model.safetensors"]
    assert invoke("models", "verify").exit_code == 0


def test_first_use_downloads_the_model_and_later_runs_need_no_hub(
    hub: FakeHub, make_request: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hub id is taken for SDXL-sized: draw at its smallest side to stay fast.
    request = make_request(model=REPO, steps=1, extra={"drawing_size": [256, 256]})
    first = run(Engine.load(REPO, device="cpu"), request)
    assert (first.model["kind"], first.model["revision"]) == ("hub", COMMIT)
    assert lfs_downloads(hub)
    assert (snapshot() / "model_index.json").is_file()
    [image] = first.images
    assert (image.sprite.size, image.sprite.mode, image.raw.size) == ((16, 16), "RGBA", (256, 256))

    hub.requests.clear()
    set_offline(monkeypatch, True)
    second = run(Engine.load(REPO, device="cpu"), request)
    assert hub.requests == []
    assert second.model["revision"] == COMMIT
    assert np.array_equal(np.asarray(second.images[0].raw), np.asarray(image.raw))


def test_a_cached_model_loads_when_the_hub_cannot_be_reached(
    hub: FakeHub, closed_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("models", "pull", REPO).exit_code == 0
    use_hub(monkeypatch, closed_port)  # online, but no hub answers: a machine off the network
    hub.requests.clear()
    engine = Engine.load(REPO, device="cpu")
    assert engine.model_id == REPO
    assert hub.requests == []


@pytest.mark.parametrize(
    "args",
    [
        ["models", "pull", UNKNOWN],
        ["generate", "a knight", "--model", UNKNOWN, "--local", "--device", "cpu", "--out"],
    ],
    ids=["pull", "generate"],
)
def test_an_unknown_repository_is_one_line(hub: FakeHub, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "out"
    result = invoke(*args, *([str(out)] if args[-1] == "--out" else []))
    assert result.exit_code == 5
    assert errors(result) == [NOT_ON_HUB]
    assert "Traceback" not in result.output
    assert f"GET /api/models/{UNKNOWN}" in hub.requests
    assert not out.exists()


def test_pull_when_the_hub_cannot_be_reached_is_one_line(
    closed_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # That generate says so with its pull hint is tested in tests/cli/test_generate.py.
    use_hub(monkeypatch, closed_port)
    result = invoke("models", "pull", REPO)
    assert result.exit_code == 5
    [line] = errors(result)
    assert line.startswith(
        f"Error: cannot download {REPO}: the Hugging Face hub cannot be reached ("
    )
    assert "Traceback" not in result.output


def test_the_fake_hub_answers_as_the_hub_does(hub: FakeHub) -> None:
    """huggingface_hub's own errors and file metadata, from the fake's answers."""
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi()
    info = api.model_info(REPO, files_metadata=True)
    assert info.sha == COMMIT
    lfs = {s.rfilename: s.lfs for s in info.siblings or []}
    assert lfs["model_index.json"] is None
    assert lfs["unet/diffusion_pytorch_model.safetensors"] is not None
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(UNKNOWN)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="v9")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(REPO, "no-such-file.json", cache_dir=hub_cache_dir())
