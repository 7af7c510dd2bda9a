"""Training and evaluation of the built-in sprite model ``builtin:sprites-32`` (private).

``python -m dgx_pixels.train._builtin cache`` turns a folder of 32x32 RGBA
sprites into one tensor file (pixels, caption embeddings, categories);
``python -m dgx_pixels.train._builtin train`` trains on that file for a fixed
wall time, resuming from its last checkpoint, and ends with the EMA weights,
a sample grid and a JSON report. See docs/builtin-model.md.
"""

__all__: list[str] = []
