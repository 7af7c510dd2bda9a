"""``dgx-pixels mcp --http`` as a real server on a loopback port, with a bearer token."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.anyio
TOKEN = secrets.token_urlsafe(32)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "dgx_pixels", "mcp", "--http", "--port", str(port),
         "--root", str(tmp_path), "--no-spawn", "--worker", "tcp://127.0.0.1:9"],
        env={**os.environ, "DGX_PIXELS_MCP_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_requests_without_the_token_get_401(http_server: str) -> None:
    async with httpx2.AsyncClient() as http:
        bare = await http.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        wrong = await http.post(
            http_server, json={}, headers={"Authorization": "Bearer " + "x" * 43}
        )
    assert bare.status_code == 401
    assert wrong.status_code == 401


async def test_the_sdk_client_with_the_token_calls_tools(http_server: str) -> None:
    # A generous timeout: a loaded CI machine is slow, and a timeout here is not what is tested.
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    async with http, Client(streamable_http_client(http_server, http_client=http)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        listed = await client.call_tool("palette_list", {})
        no_worker = await client.call_tool("jobs_list", {})
        escape = await client.call_tool("generate", {"prompt": "a slime", "out": "/tmp"})
    assert "generate" in names
    assert not listed.is_error
    assert no_worker.is_error  # --no-spawn and nothing at the address: a tool error, not a crash
    assert "no worker answered" in no_worker.content[0].text  # type: ignore[union-attr]
    # Arguments are checked before the worker is asked: the escape, not the missing worker.
    assert "outside the project root" in escape.content[0].text  # type: ignore[union-attr]
