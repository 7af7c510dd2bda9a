"""A LoRA id is a path or a hub id by its form, never by what exists where the worker runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgx_pixels.engine._loras import is_local_lora, local_lora_ref


def test_a_hub_shaped_id_stays_a_hub_id_even_when_such_a_file_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probe the worker must not answer: does "etc/shadow" exist in its folder?
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "shadow").write_text("secret")
    monkeypatch.chdir(tmp_path)
    assert not is_local_lora("etc/shadow")
    assert not is_local_lora("etc/nothing")  # the same answer whether or not it exists


@pytest.mark.parametrize(
    "lora_id", ["/abs/style", "./style", "../style", "~/style", "a/b/c", "style.safetensors"]
)
def test_paths_are_told_by_their_form(lora_id: str) -> None:
    assert is_local_lora(lora_id)


def test_the_cli_makes_a_path_in_the_users_folder_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "loras" / "style").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    ref = local_lora_ref("loras/style:0.5")
    assert ref.id == str(tmp_path / "loras" / "style")
    assert ref.weight == 0.5
    assert is_local_lora(ref.id)
    assert local_lora_ref("nerijs/pixel-art-xl").id == "nerijs/pixel-art-xl"
