"""DGX-Pixels: game-ready pixel art generated on your own GPU.

The package is layered (see docs/ and DESIGN.md): ``pixel`` (numpy/Pillow,
pure functions), ``engine`` (the only torch importer), ``assets``, ``jobs``,
and the front ends ``cli``. Importing ``dgx_pixels`` is cheap: no torch.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
