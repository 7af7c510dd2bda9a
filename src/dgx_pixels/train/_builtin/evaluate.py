"""Score the built-in model without a person: does it draw the asked-for thing, and is it new?

1. A small CNN learns the real sprites' categories (``item/weapon``,
   ``dngn/wall``...) from the training split. Its top-1 accuracy on the
   held-out real sprites is the ceiling.
2. The model draws one sprite per held-out caption (at most
   ``per_category`` a category); the classifier's top-1 on those, against the
   category the caption came from, is the score.
3. Each generated sprite's distance to its nearest training sprite (mean
   absolute RGBA difference, 0..1) says whether it copies; the held-out real
   sprites' own nearest distance is the reference (DCSS has near-twins).

Only categories with at least ``min_category`` sprites are scored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from dgx_pixels.engine._builtin import _diffusion
from dgx_pixels.errors import InputError
from dgx_pixels.train._builtin import data

__all__ = ["COPY_DISTANCE", "Evaluation", "evaluate", "nearest_distance", "train_classifier"]

#: A generated sprite closer than this to a training sprite counts as a copy
#: (1% mean RGBA difference: a handful of pixels changed).
COPY_DISTANCE = 0.01


@dataclass(frozen=True)
class Evaluation:
    categories: list[str]
    real_top1: float  # the ceiling: the classifier on held-out real sprites
    generated_top1: float
    generated_top1_by_category: dict[str, float]
    nearest_generated: float  # mean distance of a generated sprite to its nearest training one
    nearest_real: float  # the same for held-out real sprites
    copies: int
    generated: int

    def as_dict(self) -> dict[str, object]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _classifier(classes: int) -> nn.Module:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(8, cout), nn.SiLU()]

    return nn.Sequential(
        *block(4, 32), *block(32, 32), nn.AvgPool2d(2),
        *block(32, 64), *block(64, 64), nn.AvgPool2d(2),
        *block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, classes),
    )  # fmt: skip


def train_classifier(
    images: torch.Tensor, labels: torch.Tensor, *, classes: int, steps: int, seed: int = 0
) -> nn.Module:
    """Fit the category classifier on ``images`` (N, 4, 32, 32) with balanced batches and shifts."""
    torch.manual_seed(seed)
    net = _classifier(classes).to(images.device)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    weights = torch.from_numpy(data.sampling_weights(labels.cpu().numpy(), power=1.0)).float()
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.multinomial(weights, min(256, 4 * len(labels)), replacement=True, generator=g)
        dy, dx = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
        x = torch.roll(images[idx.to(images.device)], shifts=(dy, dx), dims=(2, 3))
        loss = F.cross_entropy(net(x), labels[idx.to(labels.device)], label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
    return net.eval()


@torch.no_grad()
def nearest_distance(queries: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
    """For each query sprite, the mean absolute difference (0..1) to its nearest sprite in pool."""
    q, p = queries.flatten(1).float(), pool.flatten(1).float()
    best = []
    for start in range(0, q.shape[0], 256):
        chunk = q[start : start + 256]
        best.append(torch.cdist(chunk, p, p=1).min(dim=1).values / (2 * q.shape[1]))
    return torch.cat(best)


def evaluate(
    model: nn.Module,
    sprites: data.SpriteSet,
    text: torch.Tensor,
    *,
    device: torch.device,
    steps: int = 25,
    guidance: float = 3.0,
    min_category: int = 20,
    per_category: int = 16,
    classifier_steps: int = 1500,
) -> Evaluation:
    """The numbers above for ``model`` on ``sprites`` (``text``: their caption embeddings)."""
    counts = np.bincount(sprites.category_ids, minlength=len(sprites.categories))
    kept = [c for c in range(len(sprites.categories)) if counts[c] >= min_category]
    scored = [int(i) for i in np.flatnonzero(sprites.heldout) if sprites.category_ids[i] in kept]
    if len(kept) < 2 or not scored:
        raise InputError(
            f"too few categories of at least {min_category} sprites with held-out sprites to score"
        )
    remap = {c: i for i, c in enumerate(kept)}
    # Both sides through the same normalisation: transparent pixels are black.
    images = _diffusion.from_pixels(_diffusion.to_pixels(_diffusion.from_pixels(sprites.images)))
    images = images.to(device)
    train = [int(i) for i in np.flatnonzero(~sprites.heldout) if sprites.category_ids[i] in kept]
    label = torch.tensor(
        [remap[int(c)] for c in sprites.category_ids[train + scored]], device=device
    )
    net = train_classifier(images[train], label[: len(train)], classes=len(kept),
                           steps=classifier_steps)  # fmt: skip

    # 1. The ceiling, on the held-out real sprites.
    real_labels = label[len(train) :]
    with torch.no_grad():
        real_top1 = float((net(images[scored]).argmax(1) == real_labels).float().mean())
    # 2. Generated sprites, up to per_category held-out captions a category.
    prompts: list[int] = []
    for c in kept:
        prompts += [i for i in scored if sprites.category_ids[i] == c][:per_category]
    prompt_ids = torch.tensor(prompts, device=device)
    drawn = _diffusion.sample(model, text[prompt_ids, 0], seeds=list(range(len(prompts))),
                              steps=steps, guidance=guidance)  # fmt: skip
    drawn = _diffusion.from_pixels(_diffusion.to_pixels(drawn)).to(device)
    want = torch.tensor([remap[int(sprites.category_ids[i])] for i in prompts], device=device)
    with torch.no_grad():
        hit = (net(drawn).argmax(1) == want).float()
    by_cat = {
        sprites.categories[c]: round(float(hit[want == remap[c]].mean()), 4)
        for c in kept
        if bool((want == remap[c]).any())
    }
    # 3. Nearest training sprite, for the generated and (as reference) the held-out real ones.
    pool = images[torch.from_numpy(np.flatnonzero(~sprites.heldout)).to(device)]
    near_gen = nearest_distance(drawn, pool)
    near_real = nearest_distance(images[scored], pool)
    return Evaluation(
        categories=[sprites.categories[c] for c in kept],
        real_top1=real_top1,
        generated_top1=float(hit.mean()),
        generated_top1_by_category=by_cat,
        nearest_generated=float(near_gen.mean()),
        nearest_real=float(near_real.mean()),
        copies=int((near_gen < COPY_DISTANCE).sum()),
        generated=len(prompts),
    )
