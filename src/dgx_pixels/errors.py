"""The exception tree of dgx_pixels.

Every error a user can cause is a :class:`DgxPixelsError`. The command line
prints its message as one line and exits with its ``exit_code``; nothing else
decides exit codes (see ``dgx_pixels.cli``)::

    DgxPixelsError                    exit 1  something went wrong
    ├── InputError                    exit 2  the user's input is wrong
    │   ├── ImageReadError                    not an image, truncated, a bomb, animated
    │   ├── PaletteError                      unknown palette, bad palette file
    │   ├── ManifestError                     an asset manifest that breaks its format
    │   └── RequestError                      an invalid GenerationRequest field
    ├── OutputExistsError             exit 3  would overwrite a file without --force
    ├── NoGridError                   exit 4  restore found no pixel grid it trusts
    ├── ModelError                    exit 5  a model cannot be found, loaded or used
    │   └── ModelNotFoundError                not cached and cannot be downloaded
    ├── GenerationError               exit 6  the engine failed while generating
    │   ├── DeviceError                       the GPU failed (out of memory, CUDA error): transient
    │   └── Interrupted                       cancelled through the interrupt flag
    └── JobError                      exit 7  the job system
        ├── WorkerUnavailableError            no worker answers at the address
        ├── ProtocolError                     a malformed or incompatible message
        └── StoreError                        the job store (SQLite) failed: disk full, locked...

Errors carry context (a path, a job id, a stage) as keyword arguments; the
message already names the bad value, so the context is for programs. An error
whose class is ``transient`` may not happen again on a retry (the worker runs
such a job again, up to its attempts); every other one would.

>>> err = InputError("size must be at least 1, got 0", option="size")
>>> str(err), err.context, err.exit_code
('size must be at least 1, got 0', {'option': 'size'}, 2)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "DeviceError",
    "DgxPixelsError",
    "GenerationError",
    "ImageReadError",
    "InputError",
    "Interrupted",
    "JobError",
    "ManifestError",
    "ModelError",
    "ModelNotFoundError",
    "NoGridError",
    "OutputExistsError",
    "PaletteError",
    "ProtocolError",
    "RequestError",
    "StoreError",
    "WorkerUnavailableError",
]


class DgxPixelsError(Exception):
    """Base of every error dgx_pixels raises on purpose."""

    exit_code: ClassVar[int] = 1
    #: Whether running the same thing again may succeed (see :class:`DeviceError`).
    transient: ClassVar[bool] = False

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = context


class InputError(DgxPixelsError):
    """The user's input (an option, a file, a request field) is wrong."""

    exit_code = 2


class ImageReadError(InputError):
    """A file is not an image we accept: unreadable, truncated, too large, animated."""


class PaletteError(InputError):
    """An unknown palette name or a palette file that cannot be used."""


class ManifestError(InputError):
    """An asset manifest (``manifest.json``) that is not valid ``dgx-pixels/asset@1``."""


class RequestError(InputError):
    """A GenerationRequest field is invalid."""


class OutputExistsError(DgxPixelsError):
    """Writing would replace an existing file and overwriting was not asked for."""

    exit_code = 3


class NoGridError(DgxPixelsError):
    """Restore found no pixel grid it trusts enough to return a sprite."""

    exit_code = 4


class ModelError(DgxPixelsError):
    """A model cannot be resolved, loaded or used."""

    exit_code = 5


class ModelNotFoundError(ModelError):
    """A model is not cached locally and cannot be downloaded now."""


class GenerationError(DgxPixelsError):
    """The engine failed while generating."""

    exit_code = 6


class DeviceError(GenerationError):
    """The device failed while drawing: out of memory, a CUDA error, a lost GPU.

    Not the request's fault, so worth another try (the worker retries it).
    """

    transient = True


class Interrupted(GenerationError):
    """Generation stopped because its interrupt flag was set."""


class JobError(DgxPixelsError):
    """Something in the job system: the worker, the store or the protocol."""

    exit_code = 7


class WorkerUnavailableError(JobError):
    """No worker answered at the address."""


class ProtocolError(JobError):
    """A message that is malformed, too large or of another protocol version."""


class StoreError(JobError):
    """The job store's database failed (a full disk, a lock held too long, a broken file)."""
