"""Training the built-in model for real on the CPU: tiny config, real DCSS sprites, few steps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

from dgx_pixels.engine._builtin import _unet
from dgx_pixels.errors import InputError
from dgx_pixels.train._builtin import data, trainer

from ..engine.builtin_fixtures import hashed_words_encoder

RLTILES = Path(__file__).parent.parent / "data" / "rltiles"


TINY = {
    "model": "tiny", "batch_size": 8, "learning_rate": 2e-3, "warmup_steps": 2,
    "checkpoint_every_s": 0.0, "sample_steps": 2, "eval_min_category": 2,
    "eval_classifier_steps": 5, "budget_s": 120.0,
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sprites = data.read_sprites(RLTILES, heldout=0.3)
    return data.write_cache(
        sprites, hashed_words_encoder, tmp_path_factory.mktemp("c") / "c.safetensors"
    )


@pytest.fixture(scope="module")
def resumed(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """Six steps, then a second run that resumes and stops at ten."""
    out = tmp_path_factory.mktemp("run")
    first = trainer.train(trainer.TrainConfig(**TINY, max_steps=6), cache, out)
    second = trainer.train(trainer.TrainConfig(**TINY, max_steps=10), cache, out)
    return out, first, second


def test_the_loss_falls(cache: Path, tmp_path: Path) -> None:
    t = trainer.Trainer(trainer.TrainConfig(**TINY), cache, tmp_path)
    t.setup()
    before = t.evaluate(ema=False)
    losses = [t.step() for _ in range(25)]
    after = t.evaluate(ema=False)
    assert after < 0.8 * before, (before, after, losses)


def test_a_run_resumes_from_its_checkpoint(resumed: tuple[Path, dict, dict]) -> None:
    _, first, second = resumed
    assert first["steps"] == 6
    assert second["steps"] == 10
    assert second["steps_this_run"] == 4
    assert second["train_seconds_total"] > first["train_seconds_total"]
    assert [h["step"] for h in second["history"]][: len(first["history"])] == [
        h["step"] for h in first["history"]
    ]


def test_a_run_ends_with_weights_grid_and_report(resumed: tuple[Path, dict, dict]) -> None:
    out, _, report = resumed
    model, meta = _unet.load_weights(out / trainer.WEIGHTS)
    assert model.config == _unet.PRESETS["tiny"]
    assert meta["steps"] == "10"
    on_disk = json.loads((out / trainer.REPORT).read_text())
    assert on_disk["recipe"]["model"] == "tiny"
    assert on_disk["parameters"] == _unet.parameter_count(model)
    assert on_disk["samples"]["prompts"] == report["samples"]["prompts"]
    assert len(report["samples"]["prompts"]) == 5  # one row per category
    with Image.open(out / trainer.SAMPLES) as grid:
        assert grid.format == "PNG"
        assert grid.height == 5 * (96 + 4) + 4
    ev = report["evaluation"]
    assert ev["categories"] == ["dngn/floor", "dngn/wall", "item/potion", "item/weapon",
                                "mon/animals"]  # fmt: skip
    assert 0 <= ev["real_top1"] <= 1
    assert 0 <= ev["generated_top1"] <= 1
    assert ev["nearest_generated"] > 0


def test_the_weights_a_run_writes_load_in_the_engine(
    resumed: tuple[Path, dict, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the trainer writes is what ``Engine.load`` reads (as a retrained file)."""
    from dgx_pixels.engine import Engine
    from dgx_pixels.engine._builtin import _engine, _text
    from dgx_pixels.request import GenerationRequest

    out, _, _ = resumed
    monkeypatch.setenv(_engine.WEIGHTS_ENV, str(out / trainer.WEIGHTS))
    monkeypatch.setattr(_text, "encode_prompts", hashed_words_encoder)
    engine = Engine.load("builtin:sprites-32", device="cpu")
    request = GenerationRequest("wolf, animals, monster", seed=0, steps=3, model=engine.model_id)
    [result] = engine.generate([request])
    assert result.images[0].sprite.size == (32, 32)
    assert result.model["metadata"]["steps"] == "10"


def test_resume_refuses_another_recipe(cache: Path, resumed: tuple[Path, dict, dict]) -> None:
    out, _, _ = resumed
    changed = trainer.TrainConfig(**{**TINY, "learning_rate": 1e-3})
    with pytest.raises(InputError, match=r"learning_rate is 0\.002, this run's is 0\.001"):
        trainer.Trainer(changed, cache, out).setup()


def test_bad_configs_name_the_value() -> None:
    with pytest.raises(InputError, match="got 'huge'"):
        trainer.TrainConfig(model="huge").check()
    with pytest.raises(InputError, match="got 0"):
        trainer.TrainConfig(batch_size=0).check()
    with pytest.raises(InputError, match="bf16 needs a CUDA device"):
        trainer.TrainConfig(bf16=True).check()
