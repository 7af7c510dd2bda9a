"""``dgx-pixels models``: list, pull, info and verify against a local HF cache folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dgx_pixels.cli import cli


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["models", *args])


def fake_repo(cache: Path, repo_id: str, content: bytes, *, corrupt: bool = False) -> None:
    blobs = cache / f"models--{repo_id.replace('/', '--')}" / "blobs"
    blobs.mkdir(parents=True)
    (blobs.parent / "snapshots" / "abc123").mkdir(parents=True)
    name = hashlib.sha256(content).hexdigest()
    (blobs / name).write_bytes(content + (b"!" if corrupt else b""))


def test_list_shows_ids_and_the_cache(cache: Path) -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "pixel-art-xl" in result.output
    assert "not downloaded" in result.output
    assert "random:sdxl-tiny" in result.output
    assert "(empty)" in result.output
    fake_repo(cache, "nerijs/pixel-art-xl", b"x" * 2048)
    assert "nerijs/pixel-art-xl" in invoke("list").output


def test_info(cache: Path) -> None:
    result = invoke("info", "pixel-art-xl")
    assert result.exit_code == 0, result.output
    assert "stabilityai/stable-diffusion-xl-base-1.0" in result.output
    assert "nerijs/pixel-art-xl:1" in result.output
    assert "not downloaded" in result.output
    assert invoke("info", "random:nope").exit_code == 5


def test_pull_offline_is_one_clear_error(cache: Path) -> None:
    result = invoke("pull", "sdxl-base")
    assert result.exit_code == 5
    assert result.output.strip() == (
        "Error: cannot download sdxl-base: HF_HUB_OFFLINE is set; unset it to download"
    )
    lora = invoke("pull", "nerijs/pixel-art-xl")
    assert lora.exit_code == 5
    assert "dgx-pixels models pull nerijs/pixel-art-xl" in lora.output
    assert "nothing to download" in invoke("pull", "random:sdxl-tiny").output


def test_verify_finds_corrupt_files(cache: Path) -> None:
    assert "nothing cached" in invoke("verify").output
    fake_repo(cache, "good/model", b"weights")
    fake_repo(cache, "bad/model", b"weights", corrupt=True)
    result = invoke("verify")
    assert result.exit_code == 5
    assert "good/model" in result.output
    assert "CORRUPT" in result.output
    assert "1 cached file(s) do not match" in result.output
    assert invoke("verify", "good/model").exit_code == 0


def test_pull_of_an_unknown_lora_offline_names_the_lora_flag(cache: Path) -> None:
    result = CliRunner().invoke(
        cli, ["generate", "a knight", "--model", "random:sdxl-tiny", "--device", "cpu",
              "--steps", "1", "--lora", "someone/style-lora", "--out", str(cache / "out")],
    )  # fmt: skip
    assert result.exit_code == 5
    assert "get it with: dgx-pixels models pull --lora someone/style-lora" in result.output
    assert not (cache / "out").exists()
