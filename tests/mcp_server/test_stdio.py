"""``dgx-pixels mcp`` as a real subprocess over stdio, as Claude Code and Cursor start it.

No worker answers at the address it is given, so the server starts one
(random:sdxl-tiny) itself, and stops it again when the client goes away.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from dgx_pixels.jobs.client import Client as JobClient

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def free_port_pair() -> int:
    """A port whose successor is free too (the worker's events use port + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free pair of ports")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_stdio_server_starts_a_worker_generates_and_cancels(tmp_path: Path) -> None:
    root, data = tmp_path / "game", tmp_path / "data"
    root.mkdir()
    address = f"tcp://127.0.0.1:{free_port_pair()}"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "dgx_pixels", "mcp", "--root", str(root), "--worker", address,
              "--model", "random:sdxl-tiny", "--data-dir", str(data)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    progress: list[float] = []
    started = anyio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)
        if done >= 1:
            started.set()

    async with Client(params, read_timeout_seconds=120) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"generate", "restore", "jobs_cancel"} <= names
        made = await client.call_tool(
            "generate",
            {"prompt": "a red potion", "size": "16", "steps": 2, "seed": 3, "out": "items"},
            progress_callback=on_progress,
        )
        assert not made.is_error, made.content
        files = json.loads(made.content[0].text)["files"]  # type: ignore[union-attr]
        assert Path(files[0]["sprite"]) == root / "items" / "a-red-potion-3.png"
        assert Path(files[0]["sprite"]).is_file()
        assert 2.0 in progress

        # Cancel a long call: notifications/cancelled over stdio cancels the job.
        started = anyio.Event()
        async with anyio.create_task_group() as tg:

            async def slow() -> None:
                await client.call_tool(
                    "generate",
                    {"prompt": "a slow potion", "size": "16", "steps": 200, "out": "slow"},
                    progress_callback=on_progress,
                )

            tg.start_soon(slow)
            with anyio.fail_after(60):
                await started.wait()
            tg.cancel_scope.cancel()
        with JobClient(address) as jobs:
            newest = jobs.jobs(limit=1).jobs[0]
            with anyio.fail_after(30):
                while jobs.status(newest.id).state != "cancelled":
                    await anyio.sleep(0.05)
        assert not (await client.call_tool("palette_list", {})).is_error  # still up
        worker_pid = json.loads((data / "worker.json").read_text())["pid"]
        assert process_alive(worker_pid)

    deadline = time.monotonic() + 30
    while process_alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(worker_pid), "the worker the server started outlived it"
