"""How consistent the frames of an animation are: the measures its manifest carries.

- ``palette_agreement``: the share of opaque pixels, over all frames, whose
  colour is in the asset's palette (1.0 when the palette is locked).
- ``silhouette_iou_min`` / ``silhouette_iou_mean``: intersection over union of
  the opaque masks of consecutive frames of each direction, the last frame
  followed by the first (two empty frames agree fully).
- ``pivot_drift_px``: the largest distance between a frame's foot point (the
  bottom centre of its opaque pixels) and the pivot; empty frames are skipped.

>>> from PIL import Image
>>> a = Image.new("RGBA", (4, 4)); a.paste((255, 0, 0, 255), (1, 1, 3, 4))
>>> measures = animation_consistency([[a, a]], palette=("#ff0000",), pivot=(2, 3))
>>> measures["palette_agreement"], measures["silhouette_iou_min"], measures["pivot_drift_px"]
(1.0, 1.0, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from dgx_pixels.pixel._arrays import opaque_mask, rgba_array
from dgx_pixels.sprites._effects import foot_point

__all__ = ["animation_consistency"]


def animation_consistency(
    rows: Sequence[Sequence[Image.Image]],
    *,
    palette: Sequence[str],
    pivot: tuple[int, int],
) -> dict[str, Any]:
    """The consistency measures of an animation whose ``rows`` are its directions."""
    allowed = {int(c[1:], 16) for c in palette}
    inside = total = 0
    ious: list[float] = []
    drift = 0.0
    for row in rows:
        masks = []
        for frame in row:
            rgba = rgba_array(frame)
            mask = opaque_mask(rgba)
            masks.append(mask)
            rgb = rgba[mask][:, :3].astype(np.int64)
            keys = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
            inside += int(np.isin(keys, list(allowed)).sum()) if allowed else 0
            total += int(keys.size)
            if mask.any():
                fx, fy = foot_point(frame)
                drift = max(drift, math.hypot(fx - pivot[0], fy - pivot[1]))
        if len(masks) > 1:
            for a, b in zip(masks, masks[1:] + masks[:1], strict=True):
                union = int((a | b).sum())
                ious.append(1.0 if union == 0 else int((a & b).sum()) / union)
    return {
        "palette_agreement": round(inside / total, 6) if total else 1.0,
        "silhouette_iou_min": round(min(ious), 6) if ious else 1.0,
        "silhouette_iou_mean": round(sum(ious) / len(ious), 6) if ious else 1.0,
        "pivot_drift_px": round(drift, 3),
    }
