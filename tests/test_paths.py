"""The data directory: created private, and kept private however it was made."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.errors import InputError
from dgx_pixels.paths import PRIVATE_MODE, DataDir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_makes_a_private_root_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        data = DataDir(tmp_path / "fresh" / "data").create()
    finally:
        os.umask(old)
    assert mode(data.root) == PRIVATE_MODE
    assert data.outputs.is_dir()
    assert data.logs.is_dir()


def test_create_tightens_a_root_made_open(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    DataDir(root).create()
    assert mode(root) == PRIVATE_MODE


def test_a_data_dir_that_cannot_be_made_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot prepare the data directory"):
        DataDir(tmp_path / "file" / "data").create()


def test_worker_init_keys_on_a_fresh_dir_keeps_it_private(tmp_path: Path) -> None:
    pytest.importorskip("zmq")
    root = tmp_path / "new-data"
    out = CliRunner().invoke(cli, ["worker", "--init-keys", "--data-dir", str(root)])
    assert out.exit_code == 0, out.output
    assert mode(root) == PRIVATE_MODE
    assert (root / "keys" / "server.key_secret").is_file()
