"""Training for real on the tiny random SDXL and four DCSS sprites: the loss falls, the
LoRA changes what is drawn, a resumed run equals an uninterrupted one, and the files
written load in our engine and in diffusers' own converter."""

from __future__ import annotations

import json
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from dgx_pixels.engine import Engine, resolve_model
from dgx_pixels.errors import InputError
from dgx_pixels.request import GenerationRequest, LoraRef
from dgx_pixels.train import Trainer, load_dataset, preset, train_lora

from ..images import assert_image_equal
from .conftest import DATA, TINY

# The threshold, from repeated runs (benchmarks/train_loss_runs.py --lr 2e-2 --steps 60,
# written down in docs/training.md): with these settings, over seeds 0-4, the fixed-draw
# loss after 60 steps was 0.897 to 0.905 of the loss before (no learning: exactly 1).
# 0.95 sits about halfway between the worst run and no learning at all.
STEPS = 60
LOSS_RATIO = 0.95


def tiny_config(**changes: Any) -> Any:
    """Fast settings for the tiny model: rank 4, no checkpointing, short validation."""
    values: dict[str, Any] = {
        "trigger": "ourstyle",
        "model": TINY,
        "steps": STEPS,
        "rank": 4,
        "alpha": 2,  # not the rank: the files must carry it
        "lr": 2e-2,
        "warmup_steps": 0,
        "lr_schedule": "constant",
        "gradient_checkpointing": False,
        "checkpoint_every": 20,
        "validate_every": STEPS,
        "validation_prompts": ("a bat",),
        "validation_seeds": (1, 2),
        "validation_size": 16,
        "validation_steps": 2,
    }
    values.update(changes)
    return preset("pixel-fast", **values)


@dataclass
class Trained:
    trainer: Trainer
    loss_before: float
    loss_after: float
    peft: Path
    kohya: Path
    grids: list[Path]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """One run of STEPS steps, its LoRA written in both layouts."""
    out = tmp_path_factory.mktemp("run") / "ourstyle.safetensors"
    config = tiny_config()
    dataset = load_dataset(DATA, config, resolve_model(TINY))
    trainer = Trainer(config, dataset, out, device="cpu")
    trainer.setup()
    before = trainer.measure_loss()
    result = train_lora(trainer)
    after = trainer.measure_loss()
    kohya = trainer.export("kohya", path=out.with_name("ourstyle-kohya.safetensors"))
    assert result.lora == out
    return Trained(trainer, before, after, out, kohya, result.validation)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load(TINY, device="cpu")


def test_the_loss_on_the_training_sprites_falls(trained: Trained) -> None:
    assert trained.loss_after < LOSS_RATIO * trained.loss_before, (
        trained.loss_before,
        trained.loss_after,
    )


def test_the_metrics_log_has_a_line_per_step(trained: Trained) -> None:
    lines = trained.trainer.paths.metrics.read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    assert set(rows[0]) == {"step", "loss", "lr", "it_s", "memory_bytes"}
    assert all(r["loss"] > 0 and r["it_s"] > 0 and r["lr"] == 2e-2 for r in rows)
    assert all(r["memory_bytes"] > 2**20 for r in rows)  # the process's peak RSS on a CPU


def test_the_validation_grid_shows_finished_sprites(trained: Trained) -> None:
    from PIL import Image

    base, grid = trained.grids  # before training, and after the last step
    assert (base.name, grid.name) == ("step-000000.png", f"step-{STEPS:06d}.png")
    image = Image.open(grid)
    assert json.loads(image.info["prompts"]) == ["ourstyle, a bat"]
    assert image.size == (2 * 128, 128)  # 2 seeds x 1 prompt, 16 px sprites at 8x
    cells = np.asarray(image.convert("RGBA")).reshape(16, 8, 32, 8, 4)
    assert (cells == cells[:, :1, :, :1]).all()  # every sprite pixel a crisp 8x8 square


def _draw(engine: Engine, lora: Path | None, prompt: str, seed: int) -> Any:
    loras = () if lora is None else (LoraRef(str(lora), 1.0),)
    request = GenerationRequest(
        prompt, size=(32, 32), seed=seed, model=TINY, steps=4, scheduler="euler", loras=loras
    )
    [result] = engine.generate([request])
    return result.images[0].raw


def test_the_lora_changes_drawings_toward_the_training_images(
    trained: Trained, engine: Engine
) -> None:
    # A random model's VAE cannot draw the sprites themselves; what it can draw is
    # its own rendering of them (their latents, decoded). Drawings with the LoRA must
    # come closer to that than drawings without it, over the four captions.
    trainer = trained.trainer
    vae = engine.pipeline.vae
    with torch.no_grad():
        renders = []
        for i in range(len(trainer.dataset.samples)):
            mean, _ = trainer.features.latents[(i, False)]
            image = vae.decode(mean[None].to(vae.dtype)).sample[0].clamp(-1, 1)
            renders.append(((image + 1) * 127.5).permute(1, 2, 0).float().numpy())

    def distance(raw: Any, i: int) -> float:
        drawn = np.asarray(raw.convert("RGB"), dtype=np.float32)
        return float(np.abs(drawn - renders[i]).mean())

    plain, styled = [], []
    for i, sample in enumerate(trainer.dataset.samples):
        plain.append(distance(_draw(engine, None, sample.caption, i), i))
        styled.append(distance(_draw(engine, trained.peft, sample.caption, i), i))
    assert plain != styled
    assert np.mean(styled) < np.mean(plain), (plain, styled)


def test_both_layouts_draw_the_same_pixels(trained: Trained, engine: Engine) -> None:
    peft = _draw(engine, trained.peft, "ourstyle, bat", 3)
    kohya = _draw(engine, trained.kohya, "ourstyle, bat", 3)
    assert_image_equal(kohya, peft, tolerance=1, what="kohya vs peft")


def test_the_kohya_file_uses_sgm_names_and_diffusers_reads_it(trained: Trained) -> None:
    from diffusers import StableDiffusionXLPipeline
    from diffusers.utils import convert_unet_state_dict_to_peft

    kohya = load_file(str(trained.kohya))
    peft = load_file(str(trained.peft))
    assert kohya, "empty file"
    sgm = re.compile(
        r"lora_unet_(input_blocks_\d+_1|middle_block_1|output_blocks_\d+_1)_transformer_blocks_"
        r"\d+_attn[12]_to_(q|k|v|out_0)\.(lora_down\.weight|lora_up\.weight|alpha)"
    )
    assert [k for k in kohya if not sgm.fullmatch(k)] == []
    assert {k.split("_")[2] for k in kohya} == {"input", "middle", "output"}
    alphas = {k: v for k, v in kohya.items() if k.endswith(".alpha")}
    assert len(alphas) * 3 == len(kohya)
    assert {float(v) for v in alphas.values()} == {2.0}
    # diffusers' own converter maps the SGM names back onto the same weights.
    unet_config = trained.trainer.pipe.unet.config
    state, alphas_read = StableDiffusionXLPipeline.lora_state_dict(
        str(trained.kohya), unet_config=unet_config
    )
    unet_state = {k.removeprefix("unet."): v for k, v in state.items()}
    converted = convert_unet_state_dict_to_peft(unet_state)  # diffusers' next step on load
    assert {f"unet.{k}" for k in converted} == set(peft)
    for key, value in converted.items():
        assert torch.equal(value, peft[f"unet.{key}"]), key
    assert set(alphas_read.values()) == {2.0}


def test_both_files_carry_the_metadata(trained: Trained) -> None:
    for path in (trained.peft, trained.kohya):
        with safe_open(str(path), "pt") as f:
            meta = f.metadata()
        assert meta["dgx_pixels.base_model"] == TINY
        assert meta["dgx_pixels.trigger"] == "ourstyle"
        assert meta["dgx_pixels.rank"] == "4"
        assert meta["dgx_pixels.alpha"] == "2"
        assert meta["dgx_pixels.steps"] == str(STEPS)
        assert meta["dgx_pixels.dataset_sha256"] == trained.trainer.dataset.sha256
        assert meta["ss_network_module"] == "networks.lora"
        assert (meta["ss_network_dim"], meta["ss_network_alpha"]) == ("4", "2")
        assert meta["ss_base_model_version"] == "sdxl_base_v1-0"
        assert json.loads(meta["ss_tag_frequency"])["train-sprites"]["ourstyle"] == 4
    with safe_open(str(trained.peft), "pt") as f:
        adapter = json.loads(f.metadata()["lora_adapter_metadata"])
    assert (adapter["unet.r"], adapter["unet.lora_alpha"]) == (4, 2)
    sidecar = json.loads(trained.peft.with_suffix(".json").read_text())
    assert sidecar["config"] == trained.trainer.config.to_dict()
    assert sidecar["steps"] == STEPS
    assert [i["caption"] for i in sidecar["dataset"]["images"]][3] == (
        "ourstyle, a grey wolf, side view"
    )


def _adapter(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in trainer.params.items()}


def test_resume_equals_uninterrupted_training(tmp_path: Path) -> None:
    config = tiny_config(steps=4, checkpoint_every=100, validate_every=0, rank=2, alpha=2)
    dataset = load_dataset(DATA, config, resolve_model(TINY))
    # Uninterrupted.
    straight = Trainer(config, dataset, tmp_path / "a" / "lora.safetensors", device="cpu")
    train_lora(straight)
    # Stopped after step 2 (as Ctrl-C does), then resumed in a new trainer.
    path = tmp_path / "b" / "lora.safetensors"
    stop = threading.Event()
    first = Trainer(config, dataset, path, device="cpu")
    stopped = train_lora(first, interrupt=stop, on_step=lambda m: m.step == 2 and stop.set())
    assert stopped.stopped
    assert stopped.steps == 2
    assert stopped.lora is None
    assert not path.exists()
    # A crash after the checkpoint may have logged a step the resumed run takes again.
    with first.paths.metrics.open("a") as log:
        log.write(json.dumps({"step": 3, "loss": 9.0, "lr": 0, "it_s": 1, "memory_bytes": 1}))
        log.write("\n")
    resumed = Trainer(config, dataset, path, device="cpu")
    result = train_lora(resumed, resume=True)
    assert result.steps == 4
    a, b = _adapter(straight), _adapter(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    losses = [
        [json.loads(line)["loss"] for line in t.paths.metrics.read_text().splitlines()]
        for t in (straight, resumed)
    ]
    assert losses[0] == losses[1]
    assert torch.equal(straight.generator.get_state(), resumed.generator.get_state())


def test_resume_refuses_what_it_cannot_continue(tmp_path: Path) -> None:
    config = tiny_config(steps=2, validate_every=0, rank=2)
    dataset = load_dataset(DATA, config, resolve_model(TINY))
    path = tmp_path / "lora.safetensors"
    with pytest.raises(InputError, match="no checkpoint"):
        train_lora(Trainer(config, dataset, path, device="cpu"), resume=True)
    stop = threading.Event()
    stop.set()
    train_lora(Trainer(config, dataset, path, device="cpu"), interrupt=stop)  # step-0 save
    other = tiny_config(steps=2, validate_every=0, rank=2, lr=5e-4)
    with pytest.raises(InputError, match=r"made with lr 0\.02 -> 0\.0005"):
        train_lora(Trainer(other, dataset, path, device="cpu"), resume=True)
    with pytest.raises(InputError, match="earlier run"):
        train_lora(Trainer(config, dataset, path, device="cpu"))
    changed = tmp_path / "changed"
    shutil.copytree(DATA, changed)
    (changed / "bat.txt").write_text("a bat, wings open")
    moved = load_dataset(changed, config, resolve_model(TINY))
    with pytest.raises(InputError, match="changed since the checkpoint"):
        train_lora(Trainer(config, moved, path, device="cpu"), resume=True)


def test_text_encoder_loras_are_written_as_te1_and_te2(tmp_path: Path, engine: Engine) -> None:
    from diffusers import StableDiffusionXLPipeline

    config = tiny_config(steps=1, validate_every=0, rank=2, train_text_encoders=True)
    dataset = load_dataset(DATA, config, resolve_model(TINY))
    trainer = Trainer(config, dataset, tmp_path / "te.safetensors", device="cpu")
    train_lora(trainer, layout="kohya")
    trained = {name.split(".")[0] for name in trainer.params}
    assert trained == {"unet", "text_encoder", "text_encoder_2"}  # all three are trained
    keys = load_file(str(tmp_path / "te.safetensors")).keys()
    prefixes = {k.split("_")[1] for k in keys}
    assert prefixes == {"unet", "te1", "te2"}
    assert "lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight" in keys
    assert "lora_te2_text_model_encoder_layers_1_self_attn_out_proj.alpha" in keys
    state, _ = StableDiffusionXLPipeline.lora_state_dict(
        str(tmp_path / "te.safetensors"), unet_config=trainer.pipe.unet.config
    )
    assert {k.split(".")[0] for k in state} == {"unet", "text_encoder", "text_encoder_2"}
    # Both layouts, text encoders included, load in the engine and draw alike.
    peft = trainer.export("peft", path=tmp_path / "te-peft.safetensors")
    drawn = [_draw(engine, p, "ourstyle, bat", 5) for p in (peft, tmp_path / "te.safetensors")]
    assert_image_equal(drawn[1], drawn[0], tolerance=1, what="kohya vs peft, text encoders")
