"""Generation on the tiny random SDXL: txt2img, img2img, inpaint, LoRAs, seeds, progress."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.engine import Engine, GenerationResult, StepInfo
from dgx_pixels.engine._random_models import write_random_lora
from dgx_pixels.errors import (
    ImageReadError,
    InputError,
    Interrupted,
    ModelNotFoundError,
    RequestError,
)
from dgx_pixels.request import GenerationRequest, LoraRef

from ..images import assert_image_equal

MakeRequest = Callable[..., GenerationRequest]


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def run(engine: Engine, request: GenerationRequest) -> GenerationResult:
    [result] = engine.generate([request])
    return result


def test_txt2img_gives_true_resolution_sprites(
    tiny_engine: Engine, make_request: MakeRequest
) -> None:
    result = run(tiny_engine, make_request(size=(16, 8), count=2, seed=40))
    assert [im.seed for im in result.images] == [40, 41]
    for image in result.images:
        assert image.sprite.mode == "RGBA"
        assert image.sprite.size == (16, 8)
        assert image.raw.mode == "RGB"
        assert image.raw.size == result.drawing_size
    # 16x8 on a model drawing ~64x64: a factor of 6 gives 96x48 (multiples of 8).
    assert result.drawing_size == (96, 48)
    assert result.factor == 6
    assert result.device == "CPU"
    assert result.dtype == "fp32"
    assert result.model["id"] == "random:sdxl-tiny"
    assert {"torch", "diffusers", "transformers", "peft", "dgx_pixels"} <= set(result.versions)


def test_same_request_and_seed_give_the_same_pixels(
    tiny_engine: Engine, make_request: MakeRequest
) -> None:
    request = make_request(count=2, seed=7, scheduler="euler-a")
    first, second = run(tiny_engine, request), run(tiny_engine, request)
    for a, b in zip(first.images, second.images, strict=True):
        assert_image_equal(a.raw, b.raw, what="raw")
        assert_image_equal(a.sprite, b.sprite, what="sprite")


def test_each_image_is_reproducible_alone(tiny_engine: Engine, make_request: MakeRequest) -> None:
    batch = run(tiny_engine, make_request(count=3, seed=20, scheduler="euler-a"))
    alone = run(tiny_engine, make_request(count=1, seed=22, scheduler="euler-a"))
    # Same noise, same result: a CPU kernel may round differently in a batch of 3
    # than of 1, so allow one level of rounding in the raw drawing.
    assert_image_equal(batch.images[2].raw, alone.images[0].raw, tolerance=1)
    assert not np.array_equal(pixels(batch.images[0].raw), pixels(batch.images[1].raw))


def test_one_batch_of_several_requests(tiny_engine: Engine, make_request: MakeRequest) -> None:
    knight, slime = make_request("a knight", seed=3), make_request("a green slime", seed=3, count=2)
    assert tiny_engine.batch_key(knight) == tiny_engine.batch_key(slime)
    results = tiny_engine.generate([knight, slime])
    assert [len(r.images) for r in results] == [1, 2]
    assert results[1].request is slime
    alone = run(tiny_engine, knight)
    assert_image_equal(results[0].images[0].raw, alone.images[0].raw, tolerance=1)


def test_requests_of_different_batch_keys_are_refused(
    tiny_engine: Engine, make_request: MakeRequest
) -> None:
    with pytest.raises(RequestError, match="share"):
        tiny_engine.generate([make_request(steps=3), make_request(steps=4)])
    with pytest.raises(RequestError, match="model"):
        tiny_engine.generate([make_request(model="random:sdxl")])
    with pytest.raises(RequestError, match="at least one"):
        tiny_engine.generate([])


@pytest.mark.parametrize("scheduler", ["euler", "euler-a", "dpm++ 2m karras", "ddim", "lcm"])
def test_schedulers_by_name(tiny_engine: Engine, make_request: MakeRequest, scheduler: str) -> None:
    result = run(tiny_engine, make_request(scheduler=scheduler, steps=2))
    assert result.scheduler == scheduler
    assert result.images[0].sprite.size == (16, 16)


def test_progress_reports_every_step_with_a_preview(
    tiny_engine: Engine, make_request: MakeRequest
) -> None:
    steps: list[StepInfo] = []
    previews: list[Image.Image] = []

    def on_step(info: StepInfo) -> None:
        steps.append(info)
        if info.step == 1:
            previews.append(info.preview())

    # max_batch is 4 on the CPU: 5 images run as two chunks of 3 steps.
    run(tiny_engine, make_request(count=5, steps=3))
    tiny_engine.generate([make_request(count=5, steps=3)], on_step=on_step)
    assert [(s.step, s.total) for s in steps] == [(i, 6) for i in range(1, 7)]
    assert all(b.elapsed_s >= a.elapsed_s for a, b in itertools.pairwise(steps))
    assert previews[0].mode == "RGB"
    assert previews[0].size == (32, 32)  # one pixel per latent pixel of a 64x64 drawing


def test_interrupt_stops_within_a_step(tiny_engine: Engine, make_request: MakeRequest) -> None:
    flag = threading.Event()
    seen: list[int] = []

    def on_step(info: StepInfo) -> None:
        seen.append(info.step)
        if info.step == 2:
            flag.set()

    with pytest.raises(Interrupted):
        tiny_engine.generate([make_request(steps=10)], on_step=on_step, interrupt=flag)
    assert seen == [1, 2]
    with pytest.raises(Interrupted):  # already set: nothing runs
        tiny_engine.generate([make_request()], interrupt=flag)


def test_img2img_starts_from_the_init_image(
    tiny_engine: Engine, make_request: MakeRequest, tmp_path: Path
) -> None:
    init = tmp_path / "init.png"
    Image.new("RGBA", (16, 16), (200, 40, 40, 255)).save(init)
    light = run(tiny_engine, make_request(init=str(init), strength=0.3, steps=4))
    heavy = run(tiny_engine, make_request(init=str(init), strength=1.0, steps=4))
    red = np.array([200, 40, 40])
    # A light touch stays nearer the init colour than a full repaint does.
    dist_light = np.abs(pixels(light.images[0].raw).astype(int) - red).mean()
    dist_heavy = np.abs(pixels(heavy.images[0].raw).astype(int) - red).mean()
    assert dist_light < dist_heavy
    assert light.images[0].sprite.size == (16, 16)


def test_inpaint_uses_the_mask(
    tiny_engine: Engine, make_request: MakeRequest, tmp_path: Path
) -> None:
    init, mask = tmp_path / "init.png", tmp_path / "mask.png"
    Image.new("RGB", (32, 32), (40, 200, 40)).save(init)
    m = Image.new("L", (32, 32), 0)
    m.paste(255, (0, 0, 16, 32))  # repaint the left half
    m.save(mask)
    result = run(tiny_engine, make_request(init=str(init), mask=str(mask), strength=1.0))
    raw = pixels(result.images[0].raw).astype(int)
    w = raw.shape[1]
    green = np.array([40, 200, 40])
    kept = np.abs(raw[:, w * 3 // 4 :] - green).mean()
    repainted = np.abs(raw[:, : w // 4] - green).mean()
    assert kept < repainted


def test_init_and_mask_errors(
    make_request: MakeRequest, tiny_engine: Engine, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match="not an image"):
        tiny_engine.generate([make_request(init=str(broken))])
    init, mask = tmp_path / "init.png", tmp_path / "mask.png"
    Image.new("RGB", (32, 32)).save(init)
    Image.new("L", (16, 16)).save(mask)
    with pytest.raises(InputError, match=r"mask .* is 16x16 but the init image is 32x32"):
        tiny_engine.generate([make_request(init=str(init), mask=str(mask))])
    wide = tmp_path / "wide.png"
    Image.new("RGB", (64, 32)).save(wide)
    with pytest.raises(InputError, match="not the shape"):
        tiny_engine.generate([make_request(init=str(wide))])


def test_a_kohya_lora_draws_as_its_peft_twin(
    tiny_engine: Engine, make_request: MakeRequest, tmp_path: Path
) -> None:
    # Most LoRAs shared online (nerijs/pixel-art-xl among them, as far as we know)
    # are in kohya's layout; diffusers converts it. The same weights in both
    # layouts must draw the same pixels.
    peft = write_random_lora(tmp_path / "peft.safetensors", seed=3)
    kohya = write_random_lora(tmp_path / "kohya.safetensors", seed=3, layout="kohya")
    drawn = [
        run(tiny_engine, make_request(loras=(LoraRef(str(path), 0.8),))).images[0].raw
        for path in (peft, kohya)
    ]
    assert_image_equal(drawn[1], drawn[0])
    plain = run(tiny_engine, make_request()).images[0].raw
    assert not np.array_equal(pixels(plain), pixels(drawn[0]))


def test_loras_stack_and_unload(
    tiny_engine: Engine, make_request: MakeRequest, lora_files: dict[str, Path]
) -> None:
    a, b = str(lora_files["a"]), str(lora_files["b"])
    plain = run(tiny_engine, make_request())
    with_a = run(tiny_engine, make_request(loras=(LoraRef(a, 0.8),)))
    with_ab = run(tiny_engine, make_request(loras=(LoraRef(a, 0.8), LoraRef(b, 0.5))))
    zero = run(tiny_engine, make_request(loras=(LoraRef(a, 0.0),)))
    again = run(tiny_engine, make_request())
    raw = [pixels(r.images[0].raw) for r in (plain, with_a, with_ab, zero, again)]
    assert not np.array_equal(raw[0], raw[1])
    assert not np.array_equal(raw[1], raw[2])
    assert_image_equal(raw[3], raw[0], tolerance=1, what="weight-0")  # no effect
    assert_image_equal(raw[4], raw[0], what="after")  # LoRAs are switched off again
    assert [lo.id for lo in with_ab.loras] == [a, b]
    assert with_ab.loras[1].file == "style-b.safetensors"
    assert len(with_ab.loras[0].sha256) == 64


def test_bad_loras_are_refused_before_generating(
    tiny_engine: Engine, make_request: MakeRequest, lora_files: dict[str, Path]
) -> None:
    with pytest.raises(InputError, match=r"not a \.safetensors file"):
        tiny_engine.generate([make_request(loras=(LoraRef(str(lora_files["pickle"])),))])
    with pytest.raises(InputError, match=r"for another model.*768"):
        tiny_engine.generate([make_request(loras=(LoraRef(str(lora_files["sd15"])),))])
    a = str(lora_files["a"])
    with pytest.raises(RequestError, match="more than once"):
        tiny_engine.generate([make_request(loras=(LoraRef(a), LoraRef(a, 0.5)))])


def test_a_models_own_loras_load_with_it(
    monkeypatch: pytest.MonkeyPatch, lora_files: dict[str, Path], make_request: MakeRequest
) -> None:
    import dataclasses

    from dgx_pixels.engine import models

    tiny = models.RANDOM_MODELS["random:sdxl-tiny"]
    styled = dataclasses.replace(tiny, id="tiny-styled", loras=(LoraRef(str(lora_files["a"])),))
    monkeypatch.setitem(models.PRESETS, "tiny-styled", styled)
    engine = Engine.load("tiny-styled", device="cpu")
    result = run(engine, make_request(model="tiny-styled"))
    assert [lo.file for lo in result.loras] == ["style-a.safetensors"]
    # Like pixel-art-xl: a preset whose LoRA is on the hub and not cached fails at load.
    hub = dataclasses.replace(tiny, id="tiny-hub", loras=(LoraRef("nerijs/pixel-art-xl"),))
    monkeypatch.setitem(models.PRESETS, "tiny-hub", hub)
    with pytest.raises(ModelNotFoundError) as info:
        Engine.load("tiny-hub", device="cpu")
    assert str(info.value) == (
        "LoRA nerijs/pixel-art-xl is not downloaded; "
        "get it with: dgx-pixels models pull nerijs/pixel-art-xl"
    )


def test_a_local_diffusers_folder_loads_offline(make_request: MakeRequest, tmp_path: Path) -> None:
    import torch
    from diffusers import StableDiffusionXLPipeline

    from dgx_pixels.engine._random_models import build_components

    folder = tmp_path / "my-sdxl"
    parts = build_components("sdxl-tiny", device="cpu", dtype=torch.float32)
    StableDiffusionXLPipeline(**parts).save_pretrained(str(folder), safe_serialization=True)
    engine = Engine.load(str(folder), device="cpu")
    assert engine.model_id == str(folder)
    # A folder is taken for SDXL-sized: draw at its smallest side to stay fast.
    request = make_request(model=str(folder), steps=1, extra={"drawing_size": [256, 256]})
    result = run(engine, request)
    assert result.model["kind"] == "folder"
    assert result.drawing_size == (256, 256)
    assert result.images[0].sprite.size == (16, 16)


def test_an_auto_palette_is_shared_by_all_images_of_a_request(
    tiny_engine: Engine, make_request: MakeRequest
) -> None:
    result = run(tiny_engine, make_request(count=3, seed=30, palette="auto:6", background="keep"))
    locked = result.pixel_spec["palette"]
    assert locked.startswith("#")  # the exact colours, not "auto:6"
    shared = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in locked.split(",")}
    assert len(shared) <= 6
    used: set[tuple[int, ...]] = set()
    for image in result.images:
        rgba = pixels(image.sprite)
        used |= {tuple(int(v) for v in c) for c in rgba[rgba[..., 3] > 0][:, :3]}
    assert used <= shared
    assert len(used) > 1
