"""A single-file SDXL checkpoint, as ComfyUI and A1111 users keep them, loaded for real.

diffusers builds the pipeline from the SDXL base repository's configs, which
it fetches from the hub (here the fake one on 127.0.0.1), and fills it with
the file's weights, converted from Stability's layout. The file is written
by ``single_file.py`` from a tiny stand-in SDXL whose configs are what the
fake hub serves for the base repository.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dgx_pixels.engine import Engine
from dgx_pixels.engine.models import SDXL_BASE, pull_hint
from dgx_pixels.request import GenerationRequest

from ..images import assert_image_equal
from . import test_hub
from .fake_hub import FakeHub, FakeRepo
from .single_file import build_standin, sgm_state_dict, write_checkpoint
from .test_hub import BASE_COMMIT, errors, invoke, run, set_offline, use_hub

# test_hub's fixtures, used here: an own empty HF home per test, a hub that never answers.
_own_hf_home = test_hub._own_hf_home
closed_port = test_hub.closed_port


@dataclass(frozen=True)
class Standin:
    """The stand-in SDXL base: the pipeline, its hub repository, the same weights as a
    single-file checkpoint and as a diffusers folder."""

    pipe: Any
    repo: FakeRepo
    checkpoint: Path
    folder: Path


@pytest.fixture(scope="session")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Standin:
    """The stand-in, saved once: a diffusers folder laid out as the base repository is
    (its configs, tokenizers and weights, and the single-file checkpoint at the top,
    which nothing may fetch), and the checkpoint again where a user keeps it."""
    pipe = build_standin()
    folder = tmp_path_factory.mktemp("sdxl-base")
    pipe.save_pretrained(str(folder), safe_serialization=True)
    user_folder = tmp_path_factory.mktemp("checkpoints")
    checkpoint = write_checkpoint(pipe, user_folder / "my-sdxl.safetensors")
    (folder / "sd_xl_base_1.0.safetensors").write_bytes(checkpoint.read_bytes())
    return Standin(pipe, FakeRepo.from_folder(folder, BASE_COMMIT), checkpoint, folder)


@pytest.fixture
def base_hub(standin: Standin, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """The fake hub serving the stand-in as the SDXL base repository."""
    with FakeHub({SDXL_BASE: standin.repo}) as fake:
        use_hub(monkeypatch, fake.endpoint)
        yield fake


def request(model: str) -> GenerationRequest:
    """A 16x16 sprite in one step, drawn at 256x256 (SDXL's smallest side: 32x32 latents)."""
    return GenerationRequest(
        "a knight with a sword",
        size=(16, 16),
        seed=1,
        model=model,
        steps=1,
        scheduler="euler",
        extra={"drawing_size": [256, 256]},
    )


def fetched(hub: FakeHub) -> list[str]:
    """The repository files the hub was asked for (HEAD or GET), sorted, each once."""
    resolve = re.compile(rf"(?:HEAD|GET) /{SDXL_BASE}/resolve/[^/]+/(?P<path>.+)")
    return sorted({m["path"] for r in hub.requests if (m := resolve.fullmatch(r))})


def test_the_checkpoint_converts_back_to_the_standin(standin: Standin) -> None:
    """diffusers' own converters read the written file back into each model's exact weights."""
    import torch
    from diffusers.loaders import single_file_utils as sf
    from safetensors.torch import load_file

    checkpoint = load_file(str(standin.checkpoint))
    assert checkpoint.keys() == sgm_state_dict(standin.pipe).keys()
    assert sf.infer_diffusers_model_type(checkpoint) == "xl_base"
    pipe = standin.pipe
    converted = {
        "unet": sf.convert_ldm_unet_checkpoint(checkpoint, dict(pipe.unet.config)),
        "vae": sf.convert_ldm_vae_checkpoint(checkpoint, dict(pipe.vae.config)),
        "text_encoder": {
            key.removeprefix("text_model."): value
            for key, value in sf.convert_ldm_clip_checkpoint(checkpoint).items()
        },
        "text_encoder_2": sf.convert_open_clip_checkpoint(
            pipe.text_encoder_2, checkpoint, prefix="conditioner.embedders.1.model."
        ),
    }
    for name, weights in converted.items():
        want = getattr(pipe, name).state_dict()
        assert sorted(weights) == sorted(want), name
        assert [k for k in want if not torch.equal(weights[k], want[k])] == [], name


def test_a_checkpoint_draws_as_its_diffusers_folder_online_then_offline(
    standin: Standin, base_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = str(standin.checkpoint)
    drawn = run(Engine.load(model, device="cpu"), request(model))
    assert drawn.model["kind"] == "file"
    assert drawn.model["sha256"] == hashlib.sha256(standin.checkpoint.read_bytes()).hexdigest()
    # Only the base's configs and tokenizers were fetched, each of them; no weights.
    configs = [p for p in standin.repo.files if p.endswith((".json", ".txt"))]
    assert fetched(base_hub) == sorted(configs)
    assert [r for r in base_hub.requests if r.startswith("GET /lfs/")] == []

    # The same weights in diffusers' layout draw the same pixels: the file's
    # layout, as written here and as diffusers reads it, lost nothing. Exactly
    # the same: on these random weights, a text encoder's query and key swapped
    # moves a few pixels by one level.
    folder = str(standin.folder)
    want = run(Engine.load(folder, device="cpu"), request(folder))
    assert_image_equal(drawn.images[0].raw, want.images[0].raw, what="raw")

    # Offline, the cached configs are enough.
    base_hub.requests.clear()
    set_offline(monkeypatch, True)
    again = run(Engine.load(model, device="cpu"), request(model))
    assert base_hub.requests == []
    assert_image_equal(again.images[0].raw, want.images[0].raw, what="raw")


@pytest.mark.parametrize("hub", ["unreachable", "offline"])
def test_a_checkpoint_without_the_base_configs_is_one_line(
    standin: Standin,
    closed_port: str,
    hub: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if hub == "unreachable":
        use_hub(monkeypatch, closed_port)
    else:
        set_offline(monkeypatch, True)
    out = tmp_path / "out"
    model = str(standin.checkpoint)
    result = invoke("generate", "a knight", "--model", model, "--local", "--device", "cpu",
                    "--out", str(out))  # fmt: skip
    assert result.exit_code == 5, result.output
    [line] = errors(result)
    why = {
        "unreachable": "the Hugging Face hub cannot be reached;",
        "offline": "HF_HUB_OFFLINE is set; unset it to fetch them (a few MB), or",
    }[hub]
    assert line == (
        f"Error: checkpoint {model} needs the SDXL base configs ({SDXL_BASE}), which are not "
        f"cached and {why} get them with: {pull_hint('sdxl-base')}"
    )
    assert "Traceback" not in result.output
    assert not out.exists()
