"""Independent readers of our files, made by others, set up once per machine.

TexturePacker JSON: PixiJS's own ``Spritesheet`` (npm ``pixi.js``), run by
node in a folder under the cache where it is installed once.

RON (Bevy's ``.meta`` and bevy_asset_loader's ``.assets.ron``): the ``ron``
crate, as Debian packages it (``librust-ron-dev``), built offline by cargo
from ``/usr/share/cargo/registry`` into a tiny program (``ron_check/``) once
per version of its source; skipped where cargo or the crate is absent.

The two Aseprite readers on PyPI (``aseprite``, ``aseprite-reader``) need
Python >= 3.12 while the project runs on 3.11, so they get a small venv of
their own, created on first use under pytest's cache folder (keyed by their
versions) and reused by later sessions. Where no Python 3.12 exists, or the
packages cannot be installed, the tests that need them are skipped with the
reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ASEPRITE_READERS = ("aseprite==0.1.0", "aseprite-reader==1.1.0")
_PY312 = ("/root/.pyenv/versions/3.12.1/bin/python3.12", "python3.12", "python3.13")

# Dumps what both readers see in each .aseprite file named on the command line.
_DUMP_ASEPRITE = r"""
import base64, json, sys
import aseprite
from aseprite_reader import AsepriteFile
from aseprite_reader.render import frame_to_image

out = {}
for path in sys.argv[1:]:
    s = aseprite.Sprite.open(path)
    frames = [s.image(i).convert("RGBA").tobytes() for i in range(len(s.frames))]
    r = AsepriteFile(path)
    out[path] = {
        "size": list(s.size),
        "durations": [f.duration_ms for f in s.frames],
        "pixels": [base64.b64encode(p).decode() for p in frames],
        "layers": [layer.name for layer in s.layers],
        "tags": [
            {"name": t.name, "from": t.from_frame, "to": t.to_frame,
             "direction": int(t.direction), "repeat": t.repeat}
            for t in s.tags
        ],
        "palette": ["#%02x%02x%02x%02x" % (c.r, c.g, c.b, c.a) for c in s.palette_at(0)],
        "slices": [
            {"name": sl.name, "keys": [
                {"frame": k.frame, "bounds": [k.x, k.y, k.width, k.height],
                 "pivot": list(k.pivot) if k.pivot is not None else None}
                for k in sl.keys]}
            for sl in s.slices
        ],
        "reader2": {
            "size": [r.header.width, r.header.height],
            "durations": [f.duration for f in r.frames],
            "tags": [
                {"name": t.name, "from": t.from_frame, "to": t.to_frame,
                 "direction": t.loop_animation_direction, "repeat": t.repeat}
                for t in r.tags
            ],
            "pixels": [
                base64.b64encode(frame_to_image(r, f).convert("RGBA").tobytes()).decode()
                for f in r.frames
            ],
        },
    }
json.dump(out, sys.stdout)
"""


def _run_or_skip(
    args: list[str], *, what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a one-off set-up step; skip the tests that need it if it takes over 5 minutes."""
    try:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip(f"{what} took more than 5 minutes (offline?)")


def _python312() -> str | None:
    for candidate in _PY312:
        found = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if found and os.access(found, os.X_OK):
            return found
    return None


@pytest.fixture(scope="session")
def aseprite_python(request: pytest.FixtureRequest) -> str:
    """A Python >= 3.12 with both Aseprite readers installed (skips where impossible)."""
    base = _python312()
    if base is None:
        pytest.skip("no Python >= 3.12 here; the Aseprite readers on PyPI need it")
    key = "aseprite-readers-" + "-".join(p.replace("==", "_") for p in ASEPRITE_READERS)
    venv = Path(request.config.cache.mkdir(key)) / "venv"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        made = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a Python 3.12 venv: {made.stderr.strip()[-300:]}")
        pip = _run_or_skip(
            [str(python), "-m", "pip", "install", "-q", *ASEPRITE_READERS],
            what=f"installing {ASEPRITE_READERS}",
        )
        if pip.returncode != 0:
            pytest.skip(f"cannot install {ASEPRITE_READERS}: {pip.stderr.strip()[-300:]}")
        stamp.touch()
    return str(python)


def read_aseprite(python: str, *paths: Path) -> dict[str, Any]:
    """What the two independent readers see in each of ``paths``."""
    done = subprocess.run(
        [python, "-c", _DUMP_ASEPRITE, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


_REGISTRY = Path("/usr/share/cargo/registry")
_RON_CHECK = Path(__file__).parent / "ron_check"
_CARGO_CONFIG = f"""
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "{_REGISTRY}"
[net]
offline = true
"""


@pytest.fixture(scope="session")
def ron_check(request: pytest.FixtureRequest) -> str:
    """The ``ron_check`` program, built once (skips without cargo or Debian's ron crate)."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("no cargo here to build the RON checker")
    if not any(_REGISTRY.glob("ron-0.*")):
        pytest.skip(f"Rust's ron crate is not in {_REGISTRY} (apt-get install librust-ron-dev)")
    sources = [_RON_CHECK / "Cargo.toml", _RON_CHECK / "src" / "main.rs"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    work = Path(request.config.cache.mkdir(f"ron-check-{digest}"))
    binary = work / "target" / "release" / "ron_check"
    if not binary.exists():
        (work / "src").mkdir(exist_ok=True)
        shutil.copy(sources[0], work / "Cargo.toml")
        shutil.copy(sources[1], work / "src" / "main.rs")
        (work / "cargo-home").mkdir(exist_ok=True)
        (work / "cargo-home" / "config.toml").write_text(_CARGO_CONFIG)
        env = {**os.environ, "CARGO_HOME": str(work / "cargo-home")}
        built = _run_or_skip(
            [cargo, "build", "--release", "--offline", "-q"],
            what="building the RON checker",
            cwd=work,
            env=env,
        )
        if built.returncode != 0:
            pytest.skip(f"cannot build the RON checker offline: {built.stderr.strip()[-400:]}")
    return str(binary)


def read_ron(binary: str, *paths: Path) -> dict[str, Any]:
    """Each file as the ``ron`` crate parses it (after the typed Bevy-shape checks)."""
    done = subprocess.run([binary, *map(str, paths)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


PIXI = "pixi.js@8.22.0"


@pytest.fixture(scope="session")
def pixi_check(request: pytest.FixtureRequest) -> Path:
    """A folder where ``node pixi_check.mjs`` runs with PixiJS installed (skips without npm)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("no node/npm here to run PixiJS")
    work = Path(request.config.cache.mkdir("pixi-check-" + PIXI.replace("@", "_")))
    stamp = work / ".installed"
    if not stamp.exists():
        (work / "package.json").write_text('{"name": "pixi-check", "private": true}\n')
        installed = _run_or_skip(
            [npm, "install", "--no-audit", "--no-fund", "--silent", PIXI],
            what=f"installing {PIXI}",
            cwd=work,
        )
        if installed.returncode != 0:
            pytest.skip(f"cannot install {PIXI}: {installed.stderr.strip()[-300:]}")
        stamp.touch()
    shutil.copy(Path(__file__).parent / "pixi_check.mjs", work / "check.mjs")
    return work


def read_pixi(work: Path, *paths: Path) -> dict[str, Any]:
    """Each TexturePacker JSON as PixiJS's ``Spritesheet`` parses it."""
    done = subprocess.run(
        ["node", "check.mjs", *map(str, paths)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


__all__ = [
    "ASEPRITE_READERS",
    "aseprite_python",
    "pixi_check",
    "read_aseprite",
    "read_pixi",
    "read_ron",
    "ron_check",
]
