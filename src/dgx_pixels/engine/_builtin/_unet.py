"""The network of the built-in model: a small pixel-space UNet for 32x32 RGBA sprites.

The prompt arrives as one sentence embedding. It is added to the timestep
embedding (FiLM: every residual block scales and shifts its features by it)
and projected to a few context tokens that the attention blocks cross-attend
to. Classifier-free guidance needs an unconditional prediction: rows whose
``drop`` flag is set use a learned null embedding instead of their prompt.

Weights are one safetensors file whose metadata holds the :class:`UNetConfig`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from dgx_pixels.errors import ModelError

__all__ = [
    "MODEL_ID",
    "PRESETS",
    "SpriteUNet",
    "UNetConfig",
    "load_weights",
    "parameter_count",
    "save_weights",
]

MODEL_ID = "builtin:sprites-32"
_FORMAT = "dgx-pixels-builtin-1"


@dataclass(frozen=True)
class UNetConfig:
    """The shape of the network; saved in every weights file."""

    channels: int = 64
    multipliers: tuple[int, ...] = (1, 2, 4)
    blocks: int = 2
    attention_levels: tuple[int, ...] = (1, 2)
    heads: int = 4
    context_tokens: int = 4
    text_dim: int = 384
    image_channels: int = 4
    groups: int = 32

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> UNetConfig:
        raw = json.loads(text)
        names = {f.name for f in fields(cls)}
        if not isinstance(raw, dict) or set(raw) - names:
            raise ModelError(f"not a built-in model config: {text[:200]}")
        for key in ("multipliers", "attention_levels"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(**raw)


#: ``full`` is the model that ships: 12.7M parameters for 1.06 GFLOP a sprite a step. Its
#: parameters sit at 8x8 and 4x4 (256 channels), where they cost little; the 32x32 level,
#: where every FLOP is paid 16 times over, is 32 channels wide with one block a level and
#: attention only at 8x8 and 4x4. That is 4.4x less work than the first design
#: (``UNetConfig()``: 19.3M, 4.6 GFLOP), for 16 sprites in seconds on two CPU cores.
#: ``tiny`` is for tests.
PRESETS = {
    "full": UNetConfig(channels=32, multipliers=(1, 2, 4, 8), blocks=1, attention_levels=(2, 3)),
    "tiny": UNetConfig(
        channels=16, multipliers=(1, 2), blocks=1, attention_levels=(1,), heads=2,
        context_tokens=2, groups=8,
    ),
}  # fmt: skip


def _timestep_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = 1000.0 * t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _zero(layer: nn.Conv2d | nn.Linear) -> None:
    """Start a residual branch's last layer at zero: each block begins as the identity."""
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class _ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        _zero(self.conv2)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        out: torch.Tensor = self.skip(x) + self.conv2(F.silu(h))
        return out


class _AttentionBlock(nn.Module):
    """Self-attention over the pixels, then cross-attention to the prompt's tokens."""

    def __init__(self, ch: int, ctx: int, heads: int, groups: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Linear(ch, 3 * ch)
        self.norm_cross = nn.LayerNorm(ch)
        self.q = nn.Linear(ch, ch)
        self.kv = nn.Linear(ctx, 2 * ch)
        self.out = nn.Linear(2 * ch, ch)
        _zero(self.out)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        q, k, v = (self._split(p) for p in self.qkv(tokens).chunk(3, dim=-1))
        selfed = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, h * w, c)
        q = self._split(self.q(self.norm_cross(tokens)))
        k, v = (self._split(p) for p in self.kv(context).chunk(2, dim=-1))
        crossed = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, h * w, c)
        out: torch.Tensor = self.out(torch.cat([selfed, crossed], dim=-1))
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class SpriteUNet(nn.Module):
    """Predicts v for noisy sprites ``x`` (B, 4, 32, 32) at times ``t`` in [0, 1]."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        bad = [
            c * m for m in config.multipliers
            if (c * m) % config.groups or (c * m) % config.heads
        ] if (c := config.channels) > 0 else [c]  # fmt: skip
        if bad or not config.multipliers:
            raise ModelError(
                f"built-in model config does not fit: widths {bad} must be positive multiples "
                f"of groups ({config.groups}) and heads ({config.heads})"
            )
        self.config = config
        g = config.groups
        emb = 4 * c
        ctx = c * max(config.multipliers)
        self.time_mlp = nn.Sequential(nn.Linear(c, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.text_mlp = nn.Sequential(nn.Linear(config.text_dim, emb), nn.SiLU())
        self.text_emb = nn.Linear(emb, emb)
        self.text_tokens = nn.Linear(emb, config.context_tokens * ctx)
        self.null_text = nn.Parameter(torch.zeros(config.text_dim))
        self.conv_in = nn.Conv2d(config.image_channels, c, 3, padding=1)

        widths = [c * m for m in config.multipliers]
        self.down = nn.ModuleList()
        self.down_attn = nn.ModuleList()
        skips, ch = [c], c
        for level, width in enumerate(widths):
            for _ in range(config.blocks):
                self.down.append(_ResBlock(ch, width, emb, g))
                ch = width
                self.down_attn.append(self._attn(level, ch, ctx))
                skips.append(ch)
            if level < len(widths) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                self.down_attn.append(nn.Identity())
                skips.append(ch)
        self.mid1 = _ResBlock(ch, ch, emb, g)
        self.mid_attn = _AttentionBlock(ch, ctx, config.heads, g)
        self.mid2 = _ResBlock(ch, ch, emb, g)
        self.up = nn.ModuleList()
        self.up_attn = nn.ModuleList()
        self.upsample = nn.ModuleDict()
        for level in reversed(range(len(widths))):
            for _ in range(config.blocks + 1):
                self.up.append(_ResBlock(ch + skips.pop(), widths[level], emb, g))
                ch = widths[level]
                self.up_attn.append(self._attn(level, ch, ctx))
            if level > 0:
                self.upsample[str(len(self.up) - 1)] = nn.Conv2d(ch, ch, 3, padding=1)
        self.norm_out = nn.GroupNorm(g, ch)
        self.conv_out = nn.Conv2d(ch, config.image_channels, 3, padding=1)
        _zero(self.conv_out)

    def _attn(self, level: int, ch: int, ctx: int) -> nn.Module:
        if level in self.config.attention_levels:
            return _AttentionBlock(ch, ctx, self.config.heads, self.config.groups)
        return nn.Identity()

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, drop: torch.Tensor
    ) -> torch.Tensor:
        """``text`` (B, 384) prompt embeddings; rows with ``drop`` set are unconditional."""
        text = torch.where(drop[:, None], self.null_text.to(text.dtype)[None], text)
        t_emb = self.time_mlp(_timestep_features(t, self.config.channels).to(x.dtype))
        h_text = self.text_mlp(text.to(x.dtype))
        emb = t_emb + self.text_emb(h_text)
        context = self.text_tokens(h_text).view(x.shape[0], self.config.context_tokens, -1)

        h = self.conv_in(x)
        skips = [h]
        for block, attn in zip(self.down, self.down_attn, strict=True):
            h = block(h, emb) if isinstance(block, _ResBlock) else block(h)
            h = attn(h, context) if isinstance(attn, _AttentionBlock) else h
            skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), context), emb)
        for i, (block, attn) in enumerate(zip(self.up, self.up_attn, strict=True)):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
            h = attn(h, context) if isinstance(attn, _AttentionBlock) else h
            if str(i) in self.upsample:
                h = self.upsample[str(i)](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        out: torch.Tensor = self.conv_out(F.silu(self.norm_out(h)))
        return out


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_weights(
    model: SpriteUNet,
    path: Path,
    *,
    extra: dict[str, str] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """Write ``model``'s weights and config as one safetensors file, atomically.

    ``dtype=torch.float16`` halves the file (the shipped weights); loading
    always gives a float32 model.
    """
    from safetensors.torch import save

    from dgx_pixels.image_files import write_atomic

    state = {k: v.detach().to(dtype).cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": _FORMAT, "model_id": MODEL_ID, "config": model.config.to_json()}
    return write_atomic(save(state, metadata={**(extra or {}), **meta}), path, force=True)


def load_weights(path: Path, *, device: str = "cpu") -> tuple[SpriteUNet, dict[str, Any]]:
    """Read a weights file written by :func:`save_weights`; returns the model and its metadata."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelError(f"{path}: no such built-in model weights file", path=str(path))
    try:
        with safe_open(str(path), "pt") as f:
            meta = dict(f.metadata() or {})
        state = load_file(str(path), device=device)
    except Exception as exc:  # safetensors raises its own errors for bad files
        raise ModelError(f"{path}: not a safetensors file ({exc})", path=str(path)) from None
    if meta.get("format") != _FORMAT:
        raise ModelError(f"{path}: not a built-in model weights file", path=str(path))
    model = SpriteUNet(UNetConfig.from_json(meta["config"]))
    state = {k: v.float() for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelError(
            f"{path}: weights do not fit the config (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})",
            path=str(path),
        )
    return model.to(device).eval(), meta
