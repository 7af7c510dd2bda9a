"""The public API is what each package's ``__all__`` says, and nothing is missing.

A name added to or dropped from a package's surface must show up here as a
deliberate change (after httpx's tests/test_exported_members.py).
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import dgx_pixels.errors
import dgx_pixels.pixel
import dgx_pixels.request

PUBLIC_PACKAGES = [
    "dgx_pixels",
    "dgx_pixels.errors",
    "dgx_pixels.request",
    "dgx_pixels.image_files",
    "dgx_pixels.pixel",
    "dgx_pixels.engine",
    "dgx_pixels.assets",
    "dgx_pixels.jobs",
    "dgx_pixels.jobs.pool",
    "dgx_pixels.jobs.protocol",
    "dgx_pixels.metrics",
    "dgx_pixels.mcp",
    "dgx_pixels.doctor",
    "dgx_pixels.export",
    "dgx_pixels.train",
    "dgx_pixels.sprites",
    "dgx_pixels.tui",
]


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_all_names_exist_once(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported, f"{name} exports nothing"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names {missing}, which do not exist"


def test_pixel_surface() -> None:
    assert set(dgx_pixels.pixel.__all__) == {
        "Grid", "Palette", "PixelMetrics", "PixelSpec", "RestoreResult", "add_outline",
        "binarize_alpha", "builtin_names", "builtin_palette", "cleanup", "detect_grid",
        "downscale", "estimate_background", "extract_palette", "lock_palette",
        "map_to_palette", "measure", "palette_from_image", "pixelize", "remove_background",
        "remove_fringe", "remove_strays", "resolve_palette", "restore", "to_pixel_art",
        "upscale",
    }  # fmt: skip


def test_train_surface() -> None:
    import dgx_pixels.train

    assert set(dgx_pixels.train.__all__) == {
        "PRESETS", "DatasetError", "RunPaths", "Sample", "StepMetrics", "TrainConfig",
        "TrainResult", "Trainer", "TrainingSet", "load_dataset", "preset", "stop_on_signals",
        "train_lora",
    }  # fmt: skip


def test_jobs_pool_surface() -> None:
    import dgx_pixels.jobs.backend
    import dgx_pixels.jobs.pool
    import dgx_pixels.jobs.protocol

    assert set(dgx_pixels.jobs.pool.__all__) == {"Loaded", "ModelPool"}
    assert {"Loading", "Loaded", "Reprioritise"} <= set(dgx_pixels.jobs.protocol.__all__)
    assert {"GPU_SHARE", "RAM_SHARE"} <= set(dgx_pixels.jobs.backend.__all__)


def test_every_error_is_in_the_tree() -> None:
    for name in dgx_pixels.errors.__all__:
        cls = getattr(dgx_pixels.errors, name)
        assert issubclass(cls, dgx_pixels.errors.DgxPixelsError)
        assert cls.__name__ in (dgx_pixels.errors.__doc__ or ""), f"{name} is not drawn"


def test_request_surface() -> None:
    assert {"GenerationRequest", "LoraRef", "DEFAULT_MODEL"} <= set(dgx_pixels.request.__all__)


def test_mcp_surface() -> None:
    mcp = importlib.import_module("dgx_pixels.mcp")
    assert sorted(mcp.__all__) == [
        "OutsideRootError", "ProjectRoot", "ServerConfig", "WorkerLink", "build_server",
        "serve_http", "serve_stdio",
    ]  # fmt: skip


def test_pixel_and_engine_import_without_torch() -> None:
    # The toolkit never imports torch; the engine only when it generates.
    code = (
        "import sys, dgx_pixels.pixel, dgx_pixels.engine, dgx_pixels.assets, dgx_pixels.jobs\n"
        "import dgx_pixels.export\n"
        "import dgx_pixels.train\n"
        "import dgx_pixels.sprites\n"
        "print('TORCH', 'torch' in sys.modules, 'diffusers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "TORCH False False" in out.stdout


def test_set_plans_and_asset_copies_are_public() -> None:
    import dgx_pixels.assets
    import dgx_pixels.sprites

    assert {
        "SET_OPTIONS", "SET_TASKS", "SetPlan", "plan_set", "set_request", "terrain_names",
    } <= set(dgx_pixels.sprites.__all__)  # fmt: skip
    assert {"copy_asset", "copy_outputs"} <= set(dgx_pixels.assets.__all__)


def test_tui_surface() -> None:
    import dgx_pixels.tui

    assert set(dgx_pixels.tui.__all__) == {
        "RENDERERS", "DgxPixelsApp", "Settings", "TuiOptions", "WorkerLink", "WorkerStatus",
        "load_settings", "save_settings", "settings_path",
    }  # fmt: skip
