"""Seamless drawing: circular padding in every convolution, per axis, for one run.

A convolution that pads with zeros sees the image's edge; one that pads by
wrapping around sees the opposite edge instead, so the network draws on a
torus and the picture tiles without a seam. :func:`circular_padding` switches
every padded ``Conv2d`` of the given modules (the UNet and the whole VAE,
LoRA layers included) to wrap along x, y or both, and puts each back exactly
as it was when the block ends: the warm pipeline is unchanged afterwards.
Transformer-only models have no such switch; SDXL's UNet is convolutional.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from dgx_pixels.errors import RequestError
from dgx_pixels.request import SEAMLESS

__all__ = ["circular_padding"]


@contextlib.contextmanager
def circular_padding(modules: Iterable[Any], seamless: str) -> Iterator[int]:
    """Within the block, every padded ``Conv2d`` of ``modules`` wraps along ``seamless``.

    ``seamless`` is ``"x"``, ``"y"``, ``"xy"`` or ``"none"`` (nothing changes).
    Yields the number of convolutions switched.
    """
    if seamless not in SEAMLESS:
        raise RequestError(f"seamless must be one of {', '.join(SEAMLESS)}, got {seamless!r}")
    if seamless == "none":
        yield 0
        return
    import torch

    convs = []
    seen: set[int] = set()
    for module in modules:
        for m in module.modules():
            if (
                isinstance(m, torch.nn.Conv2d)
                and id(m) not in seen
                and m.padding_mode == "zeros"
                and not isinstance(m.padding, str)
                and any(p > 0 for p in m.padding)
                and "_conv_forward" not in vars(m)
            ):
                seen.add(id(m))
                convs.append(m)
    for conv in convs:
        # An instance attribute shadows Conv2d._conv_forward, which forward() calls.
        vars(conv)["_conv_forward"] = _wrapping(
            conv, wrap_x="x" in seamless, wrap_y="y" in seamless
        )
    try:
        yield len(convs)
    finally:
        for conv in convs:
            del vars(conv)["_conv_forward"]  # the class's own method again


def _wrapping(conv: Any, *, wrap_x: bool, wrap_y: bool) -> Any:
    from torch.nn import functional

    pad_h, pad_w = conv.padding

    def forward(x: Any, weight: Any, bias: Any) -> Any:
        if pad_w:
            x = functional.pad(x, (pad_w, pad_w, 0, 0), mode="circular" if wrap_x else "constant")
        if pad_h:
            x = functional.pad(x, (0, 0, pad_h, pad_h), mode="circular" if wrap_y else "constant")
        return functional.conv2d(x, weight, bias, conv.stride, 0, conv.dilation, conv.groups)

    return forward
