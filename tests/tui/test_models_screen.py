"""Models: the ids and the HF cache as `models list` sees them, with a LoRA's own metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from textual.widgets import DataTable

from dgx_pixels.tui.screens.models import lora_meta

from .conftest import NOBODY, make_app, wait_for

pytestmark = pytest.mark.anyio


def cached_lora(cache: Path, metadata: dict[str, str]) -> Path:
    """A hub-cache layout holding one LoRA file written by the safetensors library."""
    repo = cache / "models--owner--pixel-lora"
    blob = repo / "blobs" / ("a" * 64)
    blob.parent.mkdir(parents=True)
    save_file({"lora_unet.down.weight": torch.zeros(4, 64)}, str(blob), metadata=metadata)
    snapshot = repo / "snapshots" / "0123456789abcdef0123"
    snapshot.mkdir(parents=True)
    (snapshot / "pixel.safetensors").symlink_to(blob)
    return snapshot / "pixel.safetensors"


def test_trigger_words_from_the_tag_frequency(tmp_path: Path) -> None:
    tags = json.dumps({"10_pixel": {"pixel art": 30, "knight": 12, "sword": 3, "red": 1}})
    path = cached_lora(tmp_path, {"ss_tag_frequency": tags})
    assert lora_meta(path).triggers == ("pixel art", "knight", "sword")
    assert lora_meta(path).weight == "-"


async def test_models_screen_lists_ids_and_the_cached_lora(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    cached_lora(cache, {"modelspec.trigger_phrase": "pxl, 8bit", "ss_recommended_weight": "0.8"})
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    app = make_app(NOBODY, tmp_path)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.screen.settled, timeout=10, what="the scan")
        ids = app.screen.query_one("#models-ids", DataTable)
        states = {ids.get_row_at(i)[0]: ids.get_row_at(i)[1] for i in range(ids.row_count)}
        assert states["random:sdxl-tiny"] == "built in"
        assert states["pixel-art-xl"] == "not downloaded"
        cached = app.screen.query_one("#models-cache", DataTable)
        row = cached.get_row_at(0)
        assert row[0] == "owner/pixel-lora"
        assert row[3] == "0123456789ab"
        assert (row[4], row[5]) == ("pxl, 8bit", "0.8")
