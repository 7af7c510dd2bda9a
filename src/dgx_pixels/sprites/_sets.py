"""The generated sets as plans: checked once, up front, then drawn by an engine.

The ``animate``, ``tiles`` and ``tileset`` commands and the worker's set jobs
share this, so a set is checked in one place: :func:`set_request` fills a
set's defaults into the request fields the user gave; :func:`plan_set` checks
the request and the set's options (each bad value named, before any model
loads) and names the asset; :meth:`SetPlan.make` draws the set with an engine
and returns the asset in memory (written all or none by its ``write``),
reporting each unit as it is drawn: a frame (animate), a tile (tiles), a
drawing (tileset: two textures and the transitions).

A set job's options on the wire are :data:`SET_OPTIONS`' keys (plain JSON
data); the errors name them by their command-line flags (``--frames``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from dgx_pixels.errors import InputError
from dgx_pixels.request import GenerationRequest
from dgx_pixels.sprites._animation import DIRECTIONS, animation_asset, check_preview
from dgx_pixels.sprites._asset import AssetBundle, palette_of
from dgx_pixels.sprites._generated import _MIRRORED, MAX_ACTION, make_animation
from dgx_pixels.sprites._terrain import make_terrain_set, mask_template
from dgx_pixels.sprites._tiles import make_tiles, tiles_asset
from dgx_pixels.sprites._tileset import tileset_asset

__all__ = [
    "SET_OPTIONS",
    "SET_TASKS",
    "SetPlan",
    "plan_set",
    "set_request",
    "terrain_names",
]

#: The generated sets (the worker's set tasks).
SET_TASKS = ("animate", "tiles", "tileset")

#: Each set's options and their defaults.
SET_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "animate": {"action": "idle", "frames": 4, "directions": 1, "fps": None, "preview_scale": 8},
    "tiles": {"count": 1, "preview_scale": 4},
    "tileset": {"over": None, "layout": "blob47", "names": None, "preview_size": [12, 8]},
}

#: The request fields a set fills in when the user gives none: one palette for a
#: whole set; tiles fill their cell.
_REQUEST_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "animate": {"palette": "auto:16"},
    "tiles": {"palette": "auto:16", "background": "keep", "seamless": "xy"},
    "tileset": {"background": "keep"},
}

#: The widest canvas of one direction's frames (GenerationRequest's largest side).
MAX_CANVAS = 512
#: The largest painted preview map of a tileset, in tiles.
MAX_PREVIEW_TILES = 64

#: ``on_unit(k, n, image)``: unit ``k`` of ``n`` is drawn; ``image`` is it.
UnitCallback = Callable[[int, int, Image.Image], None]


def set_request(task: str, prompt: str, given: Mapping[str, Any]) -> GenerationRequest:
    """The request of a ``task`` set: the fields the user gave, the set's defaults for the rest."""
    _check_task(task)
    return GenerationRequest(prompt=prompt, **{**_REQUEST_DEFAULTS[task], **given})


@dataclass(frozen=True, slots=True)
class SetPlan:
    """A checked set: its request, its options (all filled in), its asset's name."""

    task: str
    request: GenerationRequest
    options: Mapping[str, Any]
    name: str
    #: How many units :meth:`make` reports (frames drawn, tiles, drawings).
    units: int
    #: ``animate --from``: the user's sprite (the request's palette is its colours).
    from_sprite: Image.Image | None = field(default=None, compare=False)
    #: The sprite's name as the manifest records it (``"from"``).
    from_name: str | None = None

    def make(
        self,
        engine: Any,
        *,
        on_step: Callable[[Any], None] | None = None,
        on_unit: UnitCallback | None = None,
        interrupt: threading.Event | None = None,
    ) -> AssetBundle:
        """Draw the set with ``engine`` and build its asset (nothing is written).

        ``interrupt`` is passed to every draw: once it is set the draw in
        flight raises :class:`~dgx_pixels.errors.Interrupted` within a step.
        """
        per_image = self.options["frames"] if self.task == "animate" else 1
        drawing = _Drawing(engine, interrupt, on_unit, per_image=per_image, total=self.units)
        if self.task == "animate":
            return self._animation(drawing, on_step)
        if self.task == "tiles":
            made = make_tiles(drawing, self.request, count=self.options["count"], on_step=on_step)
            bundle: AssetBundle = tiles_asset(
                made, name=self.name, preview_scale=self.options["preview_scale"]
            )
            return bundle
        return self._tileset(drawing, on_step)

    def _animation(self, drawing: Any, on_step: Callable[[Any], None] | None) -> AssetBundle:
        o, request = self.options, self.request
        frames, directions, action = o["frames"], o["directions"], o["action"]
        rows, canvases, palette = make_animation(
            drawing, request, action=action, frames=frames, directions=directions,
            from_sprite=self.from_sprite, on_step=on_step,
        )  # fmt: skip
        from dgx_pixels.assets import slugify

        w, h = request.size
        colours_used = palette_of([f for row in rows.values() for f in row])
        locked = tuple(palette.split(",")) if palette and palette.startswith("#") else colours_used
        duration = max(1, round(1000 / (o["fps"] or 8.0)))
        return animation_asset(
            name=self.name,
            action=slugify(action)[:40],
            rows=rows,
            durations_ms=[duration] * frames,
            loop=action not in ("death", "hurt"),
            pivot=(w // 2, h - 1),
            palette=tuple(c.lower() for c in locked),
            preview_scale=o["preview_scale"],
            request={
                "command": "animate",
                "request": request.to_dict(),
                "action": action,
                "frames": frames,
                "directions": list(DIRECTIONS[directions]),
                "from": self.from_name,
                "canvases": [r.prompt for r in canvases],
            },
        )

    def _tileset(self, drawing: Any, on_step: Callable[[Any], None] | None) -> AssetBundle:
        o, request = self.options, self.request
        made = make_terrain_set(
            drawing, request, over=o["over"], layout=o["layout"], on_step=on_step
        )
        assert request.seed is not None  # GenerationRequest draws one
        return tileset_asset(
            made.tiles,
            name=self.name,
            terrain_names=_names_of(request.prompt, o),
            base=made.textures[1],
            preview_size=tuple(o["preview_size"]),
            seed=request.seed,
            request={
                "command": "tileset",
                "requests": [r.to_dict() for r in made.requests],
                "over": o["over"],
                "layout": o["layout"],
                "palette": made.palette,
            },
            palette=tuple(made.palette.split(",")),
        )


def plan_set(
    task: str,
    request: GenerationRequest,
    options: Mapping[str, Any],
    *,
    from_sprite: Image.Image | None = None,
    from_name: str | None = None,
) -> SetPlan:
    """Check ``request`` and ``options`` for a ``task`` set; raise :class:`InputError`
    naming the first bad value. Options not given take :data:`SET_OPTIONS`' defaults.

    ``from_sprite`` (``animate --from``, named ``from_name`` in errors) is the
    character: it must be the request's size and pixel art (at most 256
    colours), and its colours become the request's palette (a request naming
    another palette is refused).
    """
    from dgx_pixels.assets import asset_stem, slugify
    from dgx_pixels.engine import check_request

    _check_task(task)
    unknown = sorted(str(k)[:40] for k in options if k not in SET_OPTIONS[task])
    if unknown:
        raise InputError(
            f"unknown {task} option(s): {', '.join(unknown)}; "
            f"the options are {', '.join(SET_OPTIONS[task])}"
        )
    o = {**SET_OPTIONS[task], **options}
    if from_sprite is not None:
        if task != "animate":
            raise InputError(f"--from applies to animate, not {task}")
        request = _sprite_palette(request, from_sprite, from_name or "the --from sprite")
    assert request.seed is not None  # GenerationRequest draws one
    w, h = request.size
    if task == "animate":
        action = _text(o, "action", MAX_ACTION)
        frames = _int(o, "frames", 2, 16)
        directions = _int(o, "directions", 1, 8)
        if directions not in DIRECTIONS:
            raise InputError(f"--directions must be 1, 4 or 8, got {directions}")
        fps = o["fps"]
        if fps is not None and (_not_number(fps) or not 0.1 <= fps <= 100):
            raise InputError(f"--fps must be 0.1-100, got {_shown(fps)}")
        preview_scale = _int(o, "preview_scale", 1, 32)
        if request.palette is None:  # its frames share it, and its GIF holds 255 colours
            raise InputError("an animation needs one palette: give --palette (e.g. auto:16)")
        if request.count != 1:
            raise InputError(
                "--count does not apply here: an animation is one asset; "
                "use --frames and --directions"
            )
        if w * frames > MAX_CANVAS:
            raise InputError(
                f"{frames} frames of {w} px make a {w * frames} px canvas; "
                f"the most is {MAX_CANVAS} px"
            )
        check_preview((w, h), directions, preview_scale)
        check_request(request.replace(size=(w * frames, h)))
        drawn = [d for d in DIRECTIONS[directions] if d not in _MIRRORED]
        name = f"{asset_stem(request.prompt, request.seed)}-{slugify(action)[:20]}"
        units = frames * len(drawn)
    elif task == "tiles":
        count = _int(o, "count", 1, 16, what="tiles")
        _int(o, "preview_scale", 1, 32)
        if request.count != 1:
            raise InputError("--count of tiles is a tiles option, not the request's")
        if request.seamless == "none":
            raise InputError("seamless tiles need --seamless x, y or xy")
        check_request(request)
        name, units = slugify(asset_stem(request.prompt, request.seed)), count
    else:
        _text(o, "over", 500)
        if o["layout"] not in ("blob47", "wang16"):
            raise InputError(f"--layout must be blob47 or wang16, got {_shown(o['layout'])}")
        size = o["preview_size"]
        if (
            not isinstance(size, Sequence)
            or len(size) != 2
            or any(_not_int(n) or not 1 <= n <= MAX_PREVIEW_TILES for n in size)
        ):
            raise InputError(
                f"--preview-size must be 1x1 to {MAX_PREVIEW_TILES}x{MAX_PREVIEW_TILES} tiles, "
                f"got {_shown(size)}"
            )
        if o["names"] is not None and not isinstance(o["names"], str):
            raise InputError(f"--names must be text like grass,dirt, got {_shown(o['names'])}")
        _names_of(request.prompt, o)
        if request.count != 1:
            raise InputError("--count does not apply here: a tileset is one set of tiles")
        if w != h:
            raise InputError(f"tiles of a tileset are square, got {w}x{h}")
        mask_template(w)
        check_request(request.replace(size=(2 * w, 3 * h)))
        name, units = f"{asset_stem(request.prompt, request.seed)}-{o['layout']}", 3
    return SetPlan(task, request, o, name, units, from_sprite=from_sprite, from_name=from_name)


def _sprite_palette(
    request: GenerationRequest, sprite: Image.Image, name: str
) -> GenerationRequest:
    """``request`` with ``sprite``'s own colours as its palette (``--from`` keeps them exactly)."""
    colours = palette_of([sprite])
    if not colours:
        raise InputError(f"{name}: has more than 256 colours; pixelize it first")
    own = ",".join(colours)
    if request.palette is not None and request.palette.lower() != own:
        raise InputError("--from keeps the sprite's own palette; leave out --palette")
    if tuple(request.size) != sprite.size:
        raise InputError(f"--size must be the sprite's size {sprite.width}x{sprite.height}")
    return request.replace(palette=own)


def terrain_names(names: str) -> tuple[str, str]:
    """``"grass,dirt"`` as two different slugs; :class:`InputError` otherwise."""
    from dgx_pixels.assets import slugify

    parts = [p.strip() for p in names.split(",")]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise InputError(f"--names must be two different names like grass,dirt, got {names!r}")
    return slugify(parts[0]), slugify(parts[1])


def _names_of(prompt: str, o: Mapping[str, Any]) -> tuple[str, str]:
    from dgx_pixels.assets import slugify

    if o["names"]:
        return terrain_names(o["names"])
    names = (slugify(prompt)[:30], slugify(o["over"])[:30])
    if names[0] == names[1]:
        raise InputError("PROMPT and --over must name different terrains")
    return names


class _Drawing:
    """The engine as the set code sees it: each draw gets the interrupt and reports its units.

    ``per_image``: how many units one drawn image holds, side by side (an
    animation canvas holds its frames).
    """

    def __init__(
        self,
        engine: Any,
        interrupt: threading.Event | None,
        on_unit: UnitCallback | None,
        *,
        per_image: int,
        total: int,
    ) -> None:
        self._engine = engine
        self._interrupt = interrupt
        self._on_unit = on_unit
        self._per_image = per_image
        self._total = total
        self._done = 0

    def generate(
        self, requests: Sequence[GenerationRequest], *, on_step: Callable[[Any], None] | None = None
    ) -> Sequence[Any]:
        results: Sequence[Any] = self._engine.generate(
            requests, on_step=on_step, interrupt=self._interrupt
        )
        if self._on_unit is not None:
            for result in results:
                for image in result.images:
                    sprite = image.sprite
                    w = sprite.width // self._per_image
                    for i in range(self._per_image):
                        self._done = min(self._done + 1, self._total)
                        unit = sprite.crop((i * w, 0, (i + 1) * w, sprite.height))
                        self._on_unit(self._done, self._total, unit)
        return results


def _check_task(task: str) -> None:
    if task not in SET_TASKS:
        raise InputError(f"unknown set {task!r}; the sets are {', '.join(SET_TASKS)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _not_int(value: Any) -> bool:
    return type(value) is not int


def _not_number(value: Any) -> bool:
    return type(value) not in (int, float)


def _int(o: Mapping[str, Any], key: str, low: int, high: int, *, what: str = "") -> int:
    value = o[key]
    if _not_int(value) or not low <= value <= high:
        flag = "--" + key.replace("_", "-")
        raise InputError(f"{flag} must be {low}-{high}{' ' + what if what else ''}, got "
                         f"{_shown(value)}")  # fmt: skip
    return int(value)


def _text(o: Mapping[str, Any], key: str, most: int) -> str:
    value = o[key]
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        shown = len(value) if isinstance(value, str) else _shown(value)
        raise InputError(f"--{key} must be 1-{most} characters, got {shown}")
    return value
