"""End to end in a real terminal: tmux runs ``dgx-pixels tui``, which starts its own worker.

send-keys types a prompt and Enter; capture-pane shows the finished sprite as
half-block rows whose colours are the PNG's pixels; ctrl+q stops the app and
the worker it started, leaving no process behind.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgx_pixels.image_files import read_image
from dgx_pixels.tui.pixels import composite

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
    pytest.mark.slow,  # a worker process of its own: about 20 s to load
]

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


def alive(session: str) -> bool:
    has = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True, check=False)
    return has.returncode == 0


def cells(line: str) -> list[tuple[str, tuple[int, ...] | None, tuple[int, ...] | None]]:
    """``(char, fg, bg)`` per cell of one ``capture-pane -e`` line (truecolour SGR only)."""
    out = []
    fg: tuple[int, ...] | None = None
    bg: tuple[int, ...] | None = None
    pos = 0
    for match in SGR.finditer(line + "\x1b[m"):
        out += [(ch, fg, bg) for ch in line[pos : match.start()]]
        pos = match.end()
        codes = [int(c) for c in match.group(1).split(";") if c] or [0]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in (38, 48) and codes[i + 1 : i + 2] == [2]:
                rgb = tuple(codes[i + 2 : i + 5])
                fg, bg = (rgb, bg) if code == 38 else (fg, rgb)
                i += 5
                continue
            if code == 0:
                fg = bg = None
            elif code == 39:
                fg = None
            elif code == 49:
                bg = None
            i += 1
    return out


def sprite_from_pane(lines: list[str], width: int, height: int) -> Image.Image:
    """The first ``width``-wide block of ``▀`` rows in the pane, decoded into pixels."""
    grid = [cells(line) for line in lines]
    for y, row in enumerate(grid):
        text = "".join(c for c, _, _ in row)
        x = text.find("▀" * width)
        if x < 0 or y + height // 2 > len(grid):
            continue
        image = Image.new("RGB", (width, height))
        for cy in range(height // 2):
            for cx in range(width):
                ch, fg, bg = grid[y + cy][x + cx]
                assert ch == "▀"
                assert fg is not None
                assert bg is not None
                image.putpixel((cx, 2 * cy), fg)
                image.putpixel((cx, 2 * cy + 1), bg)
        return image
    raise AssertionError("no sprite rows in the pane:\n" + "\n".join(lines))


def test_tui_in_tmux_generates_and_leaves_nothing_behind(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    (config / "tui.toml").write_text(
        'size = "16"\ncount = 1\nsteps = 3\nmodel = "random:sdxl-tiny"\n'
    )
    session = f"dgx-pixels-test-{os.getpid()}"
    env = {
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HF_HUB_OFFLINE": "1",
        "COLORTERM": "truecolor",
        "TERM": "xterm-256color",
        "DGX_PIXELS_CONFIG_DIR": str(config),
    }
    exports = " ".join(f"{k}={v!s}" for k, v in env.items())
    command = (
        f"env {exports} {sys.executable} -m dgx_pixels tui --worker {address} "
        f"--data-dir {data} --renderer halfblock"
    )
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    try:
        deadline = time.monotonic() + 120
        # no --model: the worker it starts loads the default model of tui.toml (which the
        # Models screen's d sets)
        while "worker ready: random:sdxl-tiny" not in tmux("capture-pane", "-p", "-t", session):
            assert time.monotonic() < deadline, tmux("capture-pane", "-p", "-t", session)
            time.sleep(0.3)
        tmux("send-keys", "-t", session, "-l", "a slime, front view")
        tmux("send-keys", "-t", session, "Enter")
        while "done: 1 sprite" not in (pane := tmux("capture-pane", "-p", "-t", session)):
            assert time.monotonic() < deadline, pane
            time.sleep(0.3)
        time.sleep(0.5)  # the tile's picture is drawn right after the message
        lines = tmux("capture-pane", "-p", "-e", "-t", session).splitlines()
        [png] = list((data / "outputs").glob("*/job-*/a-slime-front-view-*[0-9].png"))
        shown = sprite_from_pane(lines, 16, 16)
        want = Image.fromarray(composite(read_image(png)))
        assert np.array_equal(np.asarray(shown), np.asarray(want))
        worker_pid = int((data / "worker.json").read_text().split('"pid": ')[1].split(",")[0])

        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 30
        while alive(session):
            assert time.monotonic() < deadline, "the tui did not exit"
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{worker_pid}").exists():
        assert time.monotonic() < deadline, f"the worker {worker_pid} is still running"
        time.sleep(0.2)
