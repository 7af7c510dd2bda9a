"""Model ids, drawing sizes, scheduler names, LoRA checks, devices: no generation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dgx_pixels.engine as engine_pkg
from dgx_pixels.engine import DrawingSize, Engine, canonical_scheduler, drawing_size, resolve_model
from dgx_pixels.engine._device import MEMORY_PLANS, choose_memory, place
from dgx_pixels.engine._loras import check_lora_file, read_safetensors_header
from dgx_pixels.engine._schedulers import make_scheduler
from dgx_pixels.errors import InputError, ModelError, ModelNotFoundError, RequestError


def test_public_api_is_what_we_meant() -> None:
    assert set(engine_pkg.__all__) == {
        "MEMORY_PLANS", "SCHEDULERS", "Backend", "DrawingSize", "Engine", "GeneratedImage",
        "GenerationResult", "LoraInfo", "MemoryPlan", "ModelSpec", "StepInfo", "Timings",
        "canonical_scheduler", "check_request", "drawing_size", "resolve_model",
        "circular_padding",
    }  # fmt: skip


def test_importing_engine_and_assets_imports_no_torch() -> None:
    code = (
        "import sys, dgx_pixels.engine, dgx_pixels.assets\n"
        "print([m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_model_ids_resolve(tmp_path: Path) -> None:
    assert resolve_model("random:sdxl-tiny").kind == "random"
    preset = resolve_model("pixel-art-xl")
    assert (preset.kind, preset.source) == ("hub", "stabilityai/stable-diffusion-xl-base-1.0")
    assert resolve_model("someone/some-sdxl").kind == "hub"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model_index.json").write_text("{}")
    assert resolve_model(str(folder)).kind == "folder"
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(b"")
    assert resolve_model(str(checkpoint)).kind == "file"


def test_a_models_weight_size_is_on_its_spec() -> None:
    assert resolve_model("random:sdxl-tiny").weights_gib_16 == pytest.approx(0.01)
    assert resolve_model("pixel-art-xl").weights_gib_16 == pytest.approx(6.5)
    assert resolve_model("someone/some-sdxl").weights_gib_16 == pytest.approx(6.5)


def test_bad_model_ids(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="unknown random model"):
        resolve_model("random:sd3")
    with pytest.raises(ModelError, match=r"only \.safetensors"):
        resolve_model(str(tmp_path / "model.ckpt"))
    with pytest.raises(ModelNotFoundError, match="no such checkpoint"):
        resolve_model(str(tmp_path / "missing.safetensors"))
    with pytest.raises(ModelError, match="not a diffusers model"):
        resolve_model(str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="unknown model"):
        resolve_model("not a model")


def test_missing_hub_model_offline_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotFoundError) as info:
        Engine.load("someone/some-sdxl", device="cpu")
    assert str(info.value) == (
        "model someone/some-sdxl is not downloaded and HF_HUB_OFFLINE is set; "
        "get it with: dgx-pixels models pull someone/some-sdxl"
    )


def test_random_sdxl_has_the_real_sdxl_shapes() -> None:
    import torch

    from dgx_pixels.engine._random_models import build_components

    parts = build_components("sdxl", device="meta", dtype=torch.float16)
    counts = {
        name: sum(p.numel() for p in parts[name].parameters())
        for name in ("unet", "vae", "text_encoder", "text_encoder_2")
    }
    assert counts == {
        "unet": 2_567_463_684,
        "vae": 83_653_863,
        "text_encoder": 123_060_480,
        "text_encoder_2": 694_659_840,
    }


@pytest.mark.parametrize(
    ("sprite", "model", "expected"),
    [
        ((32, 32), "sdxl-base", DrawingSize(1024, 1024, 32)),
        ((16, 16), "sdxl-base", DrawingSize(1024, 1024, 64)),
        ((64, 32), "sdxl-base", DrawingSize(1472, 736, 23)),
        ((500, 500), "sdxl-base", DrawingSize(1000, 1000, 2)),
        ((512, 512), "sdxl-base", DrawingSize(1024, 1024, 2)),
        ((33, 33), "sdxl-base", DrawingSize(1056, 1056, 32)),
        ((32, 32), "random:sdxl-tiny", DrawingSize(64, 64, 2)),
        ((16, 16), "random:sdxl-tiny", DrawingSize(64, 64, 4)),
    ],
)
def test_drawing_size_is_a_whole_factor_near_the_native_area(
    sprite: tuple[int, int], model: str, expected: DrawingSize
) -> None:
    got = drawing_size(sprite, resolve_model(model))
    assert got == expected
    assert got.width % 8 == 0
    assert got.height % 8 == 0


@pytest.mark.parametrize("sprite", [(511, 511), (512, 1), (300, 16)])
def test_unreachable_sizes_are_refused(sprite: tuple[int, int]) -> None:
    with pytest.raises(RequestError, match=f"size {sprite[0]}x{sprite[1]} cannot be drawn"):
        drawing_size(sprite, resolve_model("sdxl-base"))


def test_drawing_size_override() -> None:
    sdxl = resolve_model("sdxl-base")
    assert drawing_size((32, 32), sdxl, override=[512, 512]) == DrawingSize(512, 512, 16)
    with pytest.raises(RequestError, match="whole multiple"):
        drawing_size((32, 32), sdxl, override=[500, 500])
    with pytest.raises(RequestError, match="does not fit"):
        drawing_size((32, 32), sdxl, override=[4096, 4096])


def test_scheduler_names() -> None:
    assert canonical_scheduler("Euler a") == "euler-a"
    assert canonical_scheduler(" DPM++  2M   Karras ") == "dpm++ 2m karras"
    with pytest.raises(RequestError, match="unknown scheduler 'warp'; choose one of: euler"):
        canonical_scheduler("warp")
    from diffusers import EulerDiscreteScheduler

    base = EulerDiscreteScheduler().config
    karras = make_scheduler("dpm++ 2m karras", base)
    assert type(karras).__name__ == "DPMSolverMultistepScheduler"
    assert karras.config.use_karras_sigmas is True
    assert type(make_scheduler("lcm", base)).__name__ == "LCMScheduler"


def test_lora_header_checks(tmp_path: Path) -> None:
    not_st = tmp_path / "x.safetensors"
    not_st.write_bytes(b"\xff" * 8 + b"{}")
    with pytest.raises(InputError, match="not a valid safetensors file"):
        read_safetensors_header(not_st)
    with pytest.raises(InputError, match=r"not a \.safetensors file"):
        check_lora_file(tmp_path / "x.bin", cross_attention_dim=2048)


def test_devices_and_memory_plans() -> None:
    cpu = place("cpu", None)
    assert (cpu.device_name, cpu.dtype_name, cpu.description) == ("cpu", "fp32", "CPU")
    assert place("cpu", "bfloat16").dtype_name == "bf16"
    with pytest.raises(InputError, match="device must be"):
        place("tpu", None)
    with pytest.raises(InputError, match="dtype must be"):
        place("cpu", "fp8")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA GPU"):
            place("cuda", None)
    assert choose_memory(cpu, 13.0, None) == MEMORY_PLANS["none"]
    assert choose_memory(cpu, 13.0, "offload").offload == "model"
    with pytest.raises(InputError, match="memory must be"):
        choose_memory(cpu, 13.0, "tiny")
