"""Where dgx_pixels keeps its state: one data directory.

Everything the job system writes lives under the data directory: the job
store, outputs, worker logs and CURVE keys. It is chosen, first match wins:

1. an explicit path (the ``--data-dir`` option),
2. the ``DGX_PIXELS_DATA_DIR`` environment variable,
3. the platform's user data directory (platformdirs), e.g.
   ``~/.local/share/dgx-pixels`` on Linux.

>>> import os, tempfile
>>> tmp = tempfile.mkdtemp()
>>> data_dir(tmp) == Path(tmp).resolve()
True
>>> DataDir(Path("/d")).outputs
PosixPath('/d/outputs')
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from dgx_pixels.errors import InputError

__all__ = ["APP_NAME", "DATA_DIR_ENV", "PRIVATE_MODE", "DataDir", "data_dir"]

APP_NAME = "dgx-pixels"
DATA_DIR_ENV = "DGX_PIXELS_DATA_DIR"
#: The data directory's mode: only its owner may enter it.
PRIVATE_MODE = 0o700


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory in effect (not created; see :meth:`DataDir.create`).

    Raises :class:`~dgx_pixels.errors.InputError` when the chosen path exists
    and is not a directory.
    """
    if explicit is not None and str(explicit).strip():
        chosen = Path(explicit).expanduser()
    elif os.environ.get(DATA_DIR_ENV, "").strip():
        chosen = Path(os.environ[DATA_DIR_ENV]).expanduser()
    else:
        import platformdirs  # only when no path was given: keeps the common path import-light

        chosen = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    chosen = chosen.resolve()
    if chosen.exists() and not chosen.is_dir():
        raise InputError(f"data directory {chosen} exists and is not a directory", path=str(chosen))
    return chosen


@dataclass(frozen=True, slots=True)
class DataDir:
    """The layout of a data directory: one property per thing kept there."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> DataDir:
        """The layout of :func:`data_dir` ``(explicit)``."""
        return cls(data_dir(explicit))

    @property
    def jobs_db(self) -> Path:
        """The SQLite job store."""
        return self.root / "jobs.sqlite3"

    @property
    def outputs(self) -> Path:
        """Default output folder: ``outputs/<date>/<job>/``."""
        return self.root / "outputs"

    @property
    def inputs(self) -> Path:
        """Files clients sent with their jobs (init images, masks, palettes), by content hash."""
        return self.root / "inputs"

    @property
    def logs(self) -> Path:
        """Worker logs."""
        return self.root / "logs"

    @property
    def keys(self) -> Path:
        """CURVE key pairs for a worker exposed beyond loopback."""
        return self.root / "keys"

    @property
    def worker_lock(self) -> Path:
        """Held (flock) by the one worker that serves this data directory."""
        return self.root / "worker.lock"

    @property
    def worker_info(self) -> Path:
        """JSON with the running worker's pid, endpoints and metrics port."""
        return self.root / "worker.json"

    def create(self) -> DataDir:
        """Create the folders, make the root private (0700), and return ``self``.

        Every entry point that writes into the data directory calls this first,
        so the job store, the log and the keys are never readable by other
        users, however the directory was made (by hand, by an older version).
        Raises :class:`~dgx_pixels.errors.InputError` when it cannot.
        """
        try:
            for folder in (self.root, self.outputs, self.logs):
                folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_MODE)
            if stat.S_IMODE(self.root.stat().st_mode) != PRIVATE_MODE:
                self.root.chmod(PRIVATE_MODE)
        except OSError as exc:
            raise InputError(
                f"cannot prepare the data directory {self.root}: {exc.strerror or exc}",
                path=str(self.root),
            ) from None
        return self
