"""The JSON sheet data that Aseprite and TexturePacker write, and most 2D engines read.

Both tools write the same frame records (TexturePacker's "JSON (Hash)" and
"JSON (Array)" formats, which Aseprite's ``--data`` output copies):
``frame {x, y, w, h}``, ``rotated``, ``trimmed``, ``spriteSourceSize``,
``sourceSize`` and ``duration`` (ms), either keyed by frame name (hash) or
as a list with a ``filename`` each (array), plus a ``meta`` block with
``image``, ``format``, ``size`` and ``scale``. Aseprite adds ``frameTags``,
``layers`` and ``slices`` to ``meta``
(https://www.aseprite.org/docs/cli/#data); PixiJS reads ``animations``, a
map from clip name to frame names
(https://pixijs.com/8.x/guides/components/assets/spritesheet).
Phaser loads both (``load.atlas`` for the frames, ``anims.createFromAseprite``
for Aseprite's tags); LÖVE libraries such as anim8 read the frame rects.
"""

from __future__ import annotations

import json
from typing import Any

from dgx_pixels.export._asset import Asset

__all__ = ["aseprite_sheet", "frame_names", "texturepacker_sheet"]

_ASEPRITE_APP = "https://www.aseprite.org/"
_TEXTUREPACKER_APP = "https://www.codeandweb.com/texturepacker"


def frame_names(asset: Asset) -> list[str]:
    """One unique name per frame: the frames' labels, or ``<asset>-<i>`` if two labels clash."""
    labels = [f.label or f"{asset.name}-{i}" for i, f in enumerate(asset.frames)]
    if len(set(labels)) != len(labels):
        labels = [f"{asset.name}-{i}" for i in range(len(asset.frames))]
    return labels


def aseprite_sheet(asset: Asset, *, image: str, title: str) -> bytes:
    """Aseprite's ``json-hash`` data for ``asset``'s sheet saved as ``image``."""
    names = [f"{title} {i}.aseprite" for i in range(len(asset.frames))]
    meta: dict[str, Any] = {
        "app": _ASEPRITE_APP,
        "version": "1.3",
        **_meta(asset, image),
        "frameTags": [
            {
                "name": t.name,
                "from": t.first,
                "to": t.last,
                "direction": t.direction,
                **({} if t.loop else {"repeat": "1"}),
            }
            for t in asset.tags
        ],
        "layers": [{"name": asset.name, "opacity": 255, "blendMode": "normal"}],
        "slices": _slices(asset),
    }
    return _dumps({"frames": dict(zip(names, _records(asset), strict=True)), "meta": meta})


def texturepacker_sheet(asset: Asset, *, image: str, style: str) -> bytes:
    """TexturePacker's JSON for ``asset``'s sheet saved as ``image``: ``style`` hash or array."""
    names = frame_names(asset)
    records = _records(asset)
    frames: object
    if style == "hash":
        frames = dict(zip(names, records, strict=True))
    elif style == "array":
        frames = [{"filename": n, **r} for n, r in zip(names, records, strict=True)]
    else:
        raise ValueError(f"style must be 'hash' or 'array', got {style!r}")
    document: dict[str, Any] = {"frames": frames}
    if asset.tags:
        document["animations"] = {t.name: names[t.first : t.last + 1] for t in asset.tags}
    document["meta"] = {"app": _TEXTUREPACKER_APP, "version": "1.0", **_meta(asset, image)}
    return _dumps(document)


def _records(asset: Asset) -> list[dict[str, Any]]:
    out = []
    for frame in asset.frames:
        x, y, w, h = frame.rect
        record: dict[str, Any] = {
            "frame": {"x": x, "y": y, "w": w, "h": h},
            "rotated": False,
            "trimmed": False,
            "spriteSourceSize": {"x": 0, "y": 0, "w": w, "h": h},
            "sourceSize": {"w": w, "h": h},
            "duration": frame.duration_ms,
        }
        if frame.pivot is not None:
            # TexturePacker's "pivot", and the same point as PixiJS's "anchor".
            point = {"x": round(frame.pivot[0] / w, 6), "y": round(frame.pivot[1] / h, 6)}
            record["pivot"] = point
            record["anchor"] = dict(point)
        out.append(record)
    return out


def _meta(asset: Asset, image: str) -> dict[str, Any]:
    w, h = asset.sheet.size
    return {"image": image, "format": "RGBA8888", "size": {"w": w, "h": h}, "scale": "1"}


def _slices(asset: Asset) -> list[dict[str, Any]]:
    w, h = asset.cell
    keys = [
        {
            "frame": index,
            "bounds": {"x": 0, "y": 0, "w": w, "h": h},
            "pivot": {"x": px, "y": py},
        }
        for index, (px, py) in asset.pivot_keys()
    ]
    return [{"name": asset.name, "color": "#0000ffff", "keys": keys}] if keys else []


def _dumps(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
