"""Downloads from the Hugging Face hub, for real, from a fake hub on 127.0.0.1.

``fake_hub.FakeHub`` serves the tiny random SDXL pipeline, saved once per
session, as the repository ``dgx-test/tiny-sdxl``, and, for the default
preset ``pixel-art-xl``, a tiny stand-in for the SDXL base repository and a
LoRA for it as ``nerijs/pixel-art-xl``; huggingface_hub and diffusers
download them with their own code. Each test has its own empty HF home
(cache, token, agent registry), so the user's is never read or written.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from dgx_pixels.cli import cli
from dgx_pixels.engine import Engine, GenerationResult, LoraInfo
from dgx_pixels.engine._hub import hub_cache_dir
from dgx_pixels.engine.models import KNOWN_LORA_FILES, PRESETS, SDXL_BASE
from dgx_pixels.request import GenerationRequest

from .fake_hub import FakeHub, FakeRepo

REPO = "dgx-test/tiny-sdxl"
COMMIT = "5e1f0c2a9d3b4e6f7a8b9c0d1e2f3a4b5c6d7e8f"  # the fake repository's one commit
UNKNOWN = "dgx-test/no-such-model"
NOT_ON_HUB = (
    f"Error: model {UNKNOWN} is not on the Hugging Face hub (or needs a login: hf auth login)"
)

PRESET = "pixel-art-xl"  # the default model
[PIXEL_LORA] = [lora.id for lora in PRESETS[PRESET].loras]
PIXEL_LORA_FILE = KNOWN_LORA_FILES[PIXEL_LORA]
BASE_COMMIT = "462165984030d82259a11f4367a4eed129e94a7b"
LORA_COMMIT = "9f8c3d2b1a0e4f5d6c7b8a9e0f1d2c3b4a5e6f7d"

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


@pytest.fixture(scope="session")
def preset_repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FakeRepo]:
    """The repositories of the default preset: a tiny SDXL base stand-in and a LoRA for it.

    The stand-in is laid out as the real base repository is, with the
    full-precision weights and the ``fp16`` variant the preset asks for (as
    ``save_pretrained(variant="fp16")`` names them, in half precision), a
    single-file checkpoint at the top (placeholder bytes: nothing may read
    it) and a README; a download must fetch only the configs and the fp16
    weights.

    It has SDXL's interfaces, not the tiny model's, because the preset is
    SDXL's: LoRAs are checked against a cross-attention width of 2048 (the
    two text encoders' widths together, here 1024 each), and drawings are
    at least 256 px, which SDXL's 8x VAE (four blocks here) turns into
    32x32 latents; the tiny model's 2x VAE would make them 128x128, seconds
    a step on a CPU. The LoRA is a random peft-format one for its UNet's
    attention, under the file name the preset asks for, beside a README.
    """
    import torch
    import transformers
    from diffusers import AutoencoderKL, StableDiffusionXLPipeline, UNet2DConditionModel
    from safetensors.torch import save_file

    from dgx_pixels.engine._random_models import RANDOM_CONFIGS, build_components

    configs = RANDOM_CONFIGS["sdxl-tiny"]
    parts = build_components("sdxl-tiny", device="cpu", dtype=torch.float32)
    tokenizer = parts["tokenizer"]
    special = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    torch.manual_seed(0)
    parts["unet"] = UNet2DConditionModel(**{**configs["unet"], "cross_attention_dim": 2048})
    torch.manual_seed(1)
    blocks = {
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
    }
    parts["vae"] = AutoencoderKL(
        **{**configs["vae"], "block_out_channels": (8, 8, 16, 16), **blocks}
    )
    encoders = {
        "text_encoder": transformers.CLIPTextModel,
        "text_encoder_2": transformers.CLIPTextModelWithProjection,
    }
    for seed, (name, encoder) in enumerate(encoders.items(), start=2):
        torch.manual_seed(seed)
        config = {**configs[name], "hidden_size": 1024, "num_hidden_layers": 1}
        parts[name] = encoder(transformers.CLIPTextConfig(**config, **special))
    pipe = StableDiffusionXLPipeline(**parts)
    base = tmp_path_factory.mktemp("sdxl-base")
    pipe.save_pretrained(str(base), safe_serialization=True)
    pipe.to(torch.float16).save_pretrained(str(base), safe_serialization=True, variant="fp16")
    (base / "sd_xl_base_1.0.safetensors").write_bytes(b"the single-file checkpoint")
    (base / "README.md").write_text("# SD-XL 1.0-base Model Card\n")

    lora = tmp_path_factory.mktemp("pixel-art-xl")
    gen = torch.Generator().manual_seed(0)
    tensors = {}
    for name, module in pipe.unet.named_modules():  # as write_random_lora, for this UNet
        if name.endswith(("to_q", "to_k", "to_v", "to_out.0")):
            out_features, in_features = module.weight.shape
            tensors[f"unet.{name}.lora_A.weight"] = torch.randn(4, in_features, generator=gen)
            tensors[f"unet.{name}.lora_B.weight"] = torch.randn(out_features, 4, generator=gen)
    save_file(tensors, str(lora / PIXEL_LORA_FILE))
    (lora / "README.md").write_text("# Pixel Art XL\n")
    return {
        SDXL_BASE: FakeRepo.from_folder(base, BASE_COMMIT),
        PIXEL_LORA: FakeRepo.from_folder(lora, LORA_COMMIT),
    }


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
def preset_hub(
    preset_repos: dict[str, FakeRepo], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeHub]:
    """The fake hub serving the default preset's repositories, and huggingface_hub pointed at it."""
    with FakeHub(preset_repos) as fake:
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


def snapshot(repo_id: str = REPO, commit: str = COMMIT) -> Path:
    return hub_cache_dir() / f"models--{repo_id.replace('/', '--')}" / "snapshots" / commit


def cached_files(repo_id: str, commit: str) -> dict[str, bytes]:
    folder = snapshot(repo_id, commit)
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def served_files(repo: FakeRepo) -> dict[str, bytes]:
    """What a diffusers download of ``repo`` fetches: every file but ``.gitattributes``."""
    return {path: content for path, content in repo.files.items() if path != ".gitattributes"}


def lfs_downloads(hub: FakeHub) -> list[str]:
    return [r for r in hub.requests if r.startswith("GET /lfs/")]


def preset_files(repos: dict[str, FakeRepo]) -> dict[str, dict[str, bytes]]:
    """What the preset needs of each repository: for the base, ``model_index.json`` and,
    in each component's folder, its configs and fp16 weights; for the LoRA, its file."""
    base = repos[SDXL_BASE].files
    needed = [
        path
        for path in base
        if path == "model_index.json"
        or (
            "/" in path
            and (path.endswith(".fp16.safetensors") or not path.endswith(".safetensors"))
        )
    ]
    lora = repos[PIXEL_LORA].files
    return {
        SDXL_BASE: {path: base[path] for path in needed},
        PIXEL_LORA: {PIXEL_LORA_FILE: lora[PIXEL_LORA_FILE]},
    }


def preset_lfs_downloads(repos: dict[str, FakeRepo]) -> list[str]:
    """The CDN downloads of exactly the weights the preset needs, sorted."""
    return sorted(
        f"GET /lfs/{repos[repo_id].lfs[path]}"
        for repo_id, files in preset_files(repos).items()
        for path in files
        if path in repos[repo_id].lfs
    )


def cached_preset() -> dict[str, dict[str, bytes]]:
    return {
        SDXL_BASE: cached_files(SDXL_BASE, BASE_COMMIT),
        PIXEL_LORA: cached_files(PIXEL_LORA, LORA_COMMIT),
    }


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
    cached = cached_files(REPO, COMMIT)
    assert sorted(cached) == sorted(served)
    assert [path for path, content in cached.items() if content != served[path]] == []
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


def test_pull_of_the_default_preset_fetches_what_it_draws_with_offline(
    preset_hub: FakeHub,
    preset_repos: dict[str, FakeRepo],
    make_request: MakeRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = invoke("models", "pull", PRESET)
    assert result.exit_code == 0, result.output
    lora_file = snapshot(PIXEL_LORA, LORA_COMMIT) / PIXEL_LORA_FILE
    assert result.stdout.split() == [str(snapshot(SDXL_BASE, BASE_COMMIT)), str(lora_file)]
    # The base's configs and fp16 weights and the LoRA's file, byte for byte, and
    # nothing else: no full-precision weights, no single-file checkpoint, no README.
    assert cached_preset() == preset_files(preset_repos)
    assert sorted(lfs_downloads(preset_hub)) == preset_lfs_downloads(preset_repos)
    listing = [line.split() for line in invoke("models", "list").output.splitlines()]
    assert [PRESET, "cached"] in [words[:2] for words in listing]
    repos = [words[:2] for words in listing if words[0] in (SDXL_BASE, PIXEL_LORA)]
    assert repos == [[SDXL_BASE, "model"], [PIXEL_LORA, "model"]]
    verify = invoke("models", "verify")
    assert verify.exit_code == 0, verify.output

    # Offline, the preset draws with its LoRA applied; the metadata names it.
    preset_hub.requests.clear()
    set_offline(monkeypatch, True)
    # Drawn at the smallest side the preset allows, to stay fast.
    request = make_request(model=PRESET, steps=1, extra={"drawing_size": [256, 256]})
    drawn = run(Engine.load(PRESET, device="cpu"), request)
    assert preset_hub.requests == []
    assert (drawn.model["source"], drawn.model["revision"]) == (SDXL_BASE, BASE_COMMIT)
    lora_sha256 = preset_repos[PIXEL_LORA].lfs[PIXEL_LORA_FILE]
    assert drawn.loras == [LoraInfo(PIXEL_LORA, 1.0, PIXEL_LORA_FILE, lora_sha256)]
    [image] = drawn.images
    assert (image.sprite.size, image.sprite.mode, image.raw.size) == ((16, 16), "RGBA", (256, 256))
    # The same base without the LoRA (the sdxl-base preset, from the same cache) draws
    # another image from the same seed.
    plain_request = make_request(model="sdxl-base", steps=1, extra={"drawing_size": [256, 256]})
    plain = run(Engine.load("sdxl-base", device="cpu"), plain_request)
    assert preset_hub.requests == []
    assert plain.loras == []
    assert not np.array_equal(np.asarray(plain.images[0].raw), np.asarray(image.raw))


def test_first_use_of_the_default_preset_fetches_the_model_and_its_lora(
    preset_hub: FakeHub, preset_repos: dict[str, FakeRepo]
) -> None:
    engine = Engine.load(PRESET, device="cpu")
    assert engine.model_id == PRESET
    assert sorted(lfs_downloads(preset_hub)) == preset_lfs_downloads(preset_repos)
    assert cached_preset() == preset_files(preset_repos)


def test_a_preset_is_cached_only_with_its_loras(preset_hub: FakeHub) -> None:
    # sdxl-base shares pixel-art-xl's base: pulling it leaves the preset a LoRA short.
    assert invoke("models", "pull", "sdxl-base").exit_code == 0
    needs = f"needs {PIXEL_LORA}"

    def state(model_id: str) -> str:
        for line in invoke("models", "list").output.splitlines():
            if line.split()[:1] == [model_id]:
                return line.split(maxsplit=1)[1]
        raise AssertionError(f"{model_id} not listed")

    assert state("sdxl-base").startswith("cached")
    assert state(PRESET).startswith(needs)
    assert f"status:        {needs}" in invoke("models", "info", PRESET).output
    assert invoke("models", "pull", PRESET).exit_code == 0
    assert state(PRESET).startswith("cached")
    assert "status:        cached, " in invoke("models", "info", PRESET).output


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
