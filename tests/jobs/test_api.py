"""The public API of the job system is what we meant, and the data dir is found as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

import dgx_pixels.jobs
from dgx_pixels.errors import InputError
from dgx_pixels.paths import DATA_DIR_ENV, data_dir


def test_exported_members() -> None:
    assert dgx_pixels.jobs.__all__ == [
        "DEFAULT_ADDRESS",
        "PROTOCOL_VERSION",
        "TASKS",
        "AsyncClient",
        "Client",
        "JobRecord",
        "JobState",
        "SpawnedWorker",
        "WorkerState",
        "find_worker",
        "resolve_address",
        "spawn_worker",
    ]
    for name in dgx_pixels.jobs.__all__:
        assert getattr(dgx_pixels.jobs, name) is not None


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    assert data_dir() == tmp_path / "from-env"
    assert data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert data_dir().name == "dgx-pixels"  # the platform's user data dir
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is not a directory"):
        data_dir(tmp_path / "file")


def test_worker_address_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    from dgx_pixels.jobs.client import resolve_address

    monkeypatch.delenv("DGX_PIXELS_WORKER", raising=False)
    assert resolve_address() == dgx_pixels.jobs.DEFAULT_ADDRESS == "tcp://127.0.0.1:5557"
    monkeypatch.setenv("DGX_PIXELS_WORKER", "tcp://127.0.0.1:6000")
    assert resolve_address() == "tcp://127.0.0.1:6000"
    assert resolve_address("tcp://[::1]:7000") == "tcp://[::1]:7000"
    with pytest.raises(InputError, match="got 'nowhere'"):
        resolve_address("nowhere")
