"""Models: the ids and the HF cache as `models list` sees them, with a LoRA's own metadata."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from textual.widgets import Checkbox, DataTable, Input, ProgressBar

from dgx_pixels.tui.messages import PullProgress
from dgx_pixels.tui.screens.models import lora_meta
from dgx_pixels.tui.settings import load_settings

from ..engine.builtin_fixtures import write_random_weights
from ..engine.fake_hub import FakeHub, FakeRepo
from .conftest import MODEL, NOBODY, make_app, wait_for

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


async def test_models_screen_lists_the_built_in_model_and_its_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from dgx_pixels.engine._builtin import _engine

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv(_engine.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(_engine, "shipped_weights", lambda: tmp_path / "none.safetensors")
    app = make_app(NOBODY, tmp_path)
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.screen.settled, timeout=10, what="the scan")
        ids = app.screen.query_one("#models-ids", DataTable)
        assert ids.get_row_at(0)[:2] == ["builtin:sprites-32", "not trained in this install"]
        weights = write_random_weights(tmp_path / "random.safetensors")
        monkeypatch.setenv(_engine.WEIGHTS_ENV, str(weights))
        app.screen.settled = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.settled, timeout=10, what="the rescan")
        sha = hashlib.sha256(weights.read_bytes()).hexdigest()
        state = f"ready, {weights.stat().st_size / 2**10:.1f} KiB, sha256 {sha}"
        assert ids.get_row_at(0)[:2] == ["builtin:sprites-32", state]


@pytest.fixture
def lora_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeHub, bytes]]:
    """A fake hub on loopback serving one LoRA repository slowly; huggingface_hub pointed at it.

    The cache is an empty folder of this test's own; nothing leaves 127.0.0.1.
    """
    import huggingface_hub.constants as constants
    import huggingface_hub.hf_api as hf_api

    folder = tmp_path / "served"
    folder.mkdir()
    metadata = {"modelspec.trigger_phrase": "pxl", "ss_recommended_weight": "0.7"}
    save_file({"lora_unet.w": torch.zeros(64, 1024)}, str(folder / "pixel.safetensors"), metadata)
    content = (folder / "pixel.safetensors").read_bytes()
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with FakeHub({"owner/slow-lora": FakeRepo.from_folder(folder, "ab" * 20)}, pace=0.15) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
        template = hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}"
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        monkeypatch.setattr(hf_api.api, "endpoint", hub.endpoint)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        # huggingface_hub writes what it receives in pieces of this size (10 MiB): the
        # watch sees a real model grow 10 MiB at a time; this small file, 64 KiB at a time
        monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 1 << 16)
        yield hub, content


async def test_pull_shows_the_bytes_as_they_arrive_then_the_lora(
    lora_hub: tuple[FakeHub, bytes], tmp_path: Path
) -> None:
    hub, content = lora_hub
    seen: list[int] = []

    def hook(message: object) -> None:
        if isinstance(message, PullProgress):
            seen.append(message.received)

    app = make_app(NOBODY, tmp_path)
    async with app.run_test(size=(120, 30), message_hook=hook) as pilot:
        await pilot.press("f4")
        screen = app.screen
        await wait_for(pilot, lambda: screen.settled, timeout=10, what="the scan")
        screen.query_one("#models-pull-lora", Checkbox).value = True
        screen.query_one("#models-pull-id", Input).focus()
        await pilot.press(*"owner/slow-lora", "enter")
        status = screen.query_one("#models-pull-status")
        await wait_for(
            pilot,
            lambda: str(status.render()).startswith("pulled"),
            timeout=30,
            what=lambda: str(status.render()),
        )
        await wait_for(
            pilot,
            lambda: screen.query_one("#models-cache", DataTable).row_count == 1,
            timeout=10,
            what="the rescan",
        )
        row = screen.query_one("#models-cache", DataTable).get_row_at(0)
        assert (row[0], row[4], row[5]) == ("owner/slow-lora", "pxl", "0.7")
        assert screen.query_one("#models-pull-bar", ProgressBar).percentage == 1.0
    # The bytes reported grew while the file came in 64 KiB pieces, and ended at its size.
    assert len(content) > 4 * 2**16
    assert seen == sorted(seen)
    assert any(0 < n < len(content) for n in seen)  # seen mid-way (polled every 0.25 s)
    assert seen[-1] == len(content)
    assert [r for r in hub.requests if r.startswith("GET /lfs/")]


async def test_the_default_model_is_saved_and_survives_a_restart(tmp_path: Path) -> None:
    settings_file = tmp_path / "config" / "tui.toml"
    app = make_app(NOBODY, tmp_path, settings_path=settings_file)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        screen = app.screen
        await wait_for(pilot, lambda: screen.settled, timeout=10, what="the scan")
        ids = screen.query_one("#models-ids", DataTable)
        ids.focus()
        row = next(i for i in range(ids.row_count) if ids.get_row_at(i)[0] == MODEL)
        ids.move_cursor(row=row)
        await pilot.press("d")
        assert app.settings.model == MODEL
        assert ids.get_row_at(row)[2] == "default"
    assert load_settings(settings_file).model == MODEL
    # A restart reads the file: the mark is there, and it is what `tui` starts a worker with.
    again = make_app(NOBODY, tmp_path, settings=load_settings(settings_file))
    async with again.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        await wait_for(pilot, lambda: again.screen.settled, timeout=10, what="the scan")
        ids = again.screen.query_one("#models-ids", DataTable)
        marked = [ids.get_row_at(i)[0] for i in range(ids.row_count) if ids.get_row_at(i)[2]]
        assert marked == [MODEL]


async def test_an_offline_pull_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    app = make_app(NOBODY, tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f4")
        screen = app.screen
        await wait_for(pilot, lambda: screen.settled, timeout=10, what="the scan")
        ids = screen.query_one("#models-ids", DataTable)
        ids.focus()
        ids.move_cursor(row=[ids.get_row_at(i)[0] for i in range(ids.row_count)].index("sdxl-base"))
        await pilot.press("p")
        status = screen.query_one("#models-pull-status")
        await wait_for(pilot, lambda: "HF_HUB_OFFLINE" in str(status.render()), timeout=20)
        assert str(status.render()) == (
            "cannot download sdxl-base: HF_HUB_OFFLINE is set; unset it to download"
        )
        assert not screen.query_one("#models-pull-bar", ProgressBar).display


async def test_a_cached_pipeline_can_be_the_default_and_a_lora_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hub"
    cached_lora(cache, {"ss_recommended_weight": "0.8"})
    pipeline = cache / "models--owner--pixel-pipe" / "snapshots" / ("c" * 40)
    pipeline.mkdir(parents=True)
    (pipeline / "model_index.json").write_text('{"_class_name": "StableDiffusionXLPipeline"}')
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    settings_file = tmp_path / "config" / "tui.toml"
    app = make_app(NOBODY, tmp_path, settings_path=settings_file)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("f4")
        screen = app.screen
        await wait_for(pilot, lambda: screen.settled, timeout=10, what="the scan")
        table = screen.query_one("#models-cache", DataTable)
        repos = [table.get_row_at(i)[0] for i in range(table.row_count)]
        table.focus()
        table.move_cursor(row=repos.index("owner/pixel-lora"))
        await pilot.press("d")
        status = str(screen.query_one("#models-pull-status").render())
        assert status == "owner/pixel-lora is not a diffusers pipeline (a LoRA?)"
        table.move_cursor(row=repos.index("owner/pixel-pipe"))
        await pilot.press("d")
        assert load_settings(settings_file).model == "owner/pixel-pipe"
        ids = screen.query_one("#models-ids", DataTable)
        await wait_for(pilot, lambda: ids.get_row_at(0)[0] == "owner/pixel-pipe", timeout=10)
        assert ids.get_row_at(0)[2] == "default"
