"""The built-in sprite model ``builtin:sprites-32`` (private: no Engine backend yet).

A small text-conditioned diffusion UNet that draws 32x32 RGBA sprites in
pixel space (alpha is a fourth channel), conditioned on the all-MiniLM-L6-v2
sentence embedding of the prompt; v-prediction, a deterministic DDIM sampler
with classifier-free guidance, seeds and img2img. Not wired into ``Engine``
until trained weights exist: see docs/builtin-model.md.
"""

__all__: list[str] = []
