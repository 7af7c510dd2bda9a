"""The pixel-art toolkit: NumPy and Pillow only, never torch.

Pure functions ``(image, *, options) -> new image``: deterministic, no hidden
state, the input is never changed.
"""

from __future__ import annotations
