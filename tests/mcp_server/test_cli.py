"""``dgx-pixels mcp``: the refusals that happen before anything is served."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli


def test_a_tokenless_bind_beyond_loopback_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["mcp", "--root", str(tmp_path), "--http", "--host", "0.0.0.0"]
    )
    assert result.exit_code == 2
    assert "--host 0.0.0.0 is reachable from other machines: set a token" in result.output


def test_a_short_token_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DGX_PIXELS_MCP_TOKEN", "secret")
    result = CliRunner().invoke(cli, ["mcp", "--root", str(tmp_path), "--http"])
    assert result.exit_code == 2
    assert "at least 32 characters" in result.output


def test_a_missing_root_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["mcp", "--root", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert result.output.strip().endswith("is not a folder")


@pytest.mark.parametrize("folder", ["/", "~"])
def test_a_root_that_confines_nothing_is_refused(folder: str) -> None:
    result = CliRunner().invoke(cli, ["mcp", "--root", folder])
    assert result.exit_code == 2
    assert "would let tools reach every file; give --root" in result.output


def test_importing_the_server_imports_no_torch() -> None:
    code = "import sys, dgx_pixels.mcp\nprint('TORCH', 'torch' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "TORCH False" in out.stdout
