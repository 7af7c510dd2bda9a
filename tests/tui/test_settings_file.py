"""Settings: TOML in the config dir, every bad value named, and the ``tui`` command's checks."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.errors import InputError
from dgx_pixels.tui.settings import Settings, load_settings, save_settings, settings_path


def test_saved_settings_read_back_by_tomllib_and_by_us(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "tui.toml"
    settings = Settings(steps=12, palette="pico-8", keymap={"screen.help": "f12"})
    save_settings(settings, path)
    assert tomllib.loads(path.read_text())["steps"] == 12
    assert load_settings(path) == settings


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.toml") == Settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps = 500\n", "steps must be between 1 and 200, got 500"),
        ('steps = "many"\n', "steps must be a whole number, got 'many'"),
        ('renderer = "ascii"\n', "renderer must be one of auto, halfblock, kitty, sixel"),
        ('palette = "no-such-palette"\n', "no-such-palette"),
        ('scheduler = "fastest"\n', "unknown scheduler 'fastest'"),
        ('size = "0x8"\n', "size must be at least 1x1, got 0x8"),
        ("colour = 3\n", "unknown setting(s) colour"),
        ("steps = [\n", "not a readable TOML file"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tui.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert str(path) in caught.value.message
    assert message in caught.value.message


def test_config_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DGX_PIXELS_CONFIG_DIR", str(tmp_path))
    assert settings_path() == tmp_path / "tui.toml"


def test_tui_command_stops_at_a_bad_settings_file_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "tui.toml").write_text("count = 0\n")
    result = CliRunner().invoke(cli, ["tui", "--config-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().endswith("count must be between 1 and 64, got 0")
    assert len(result.output.strip().splitlines()) == 1


def test_tui_command_names_a_bad_worker_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["tui", "--config-dir", str(tmp_path), "--worker", "nope"])
    assert result.exit_code == 2
    assert "nope" in result.output
