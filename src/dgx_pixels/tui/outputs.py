"""Outputs the worker wrote, as the TUI reads and re-processes them (locally, no GPU).

An output is the four files of :mod:`dgx_pixels.assets`; :class:`Output`
names them and reads the sprite and its metadata. :func:`reprocess` runs the
pixel toolkit again on the kept raw drawing with another palette and writes
the new sprite beside the original (never over a file).
:func:`plan_animation` checks an animation of an output (the sprite as the
character) before it is sent to the worker; :func:`read_animation` reads the
frames of the asset an animate job made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from dgx_pixels.assets import PNG_KEY, read_metadata, request_from_metadata, slugify
from dgx_pixels.errors import InputError
from dgx_pixels.image_files import read_image, write_png
from dgx_pixels.request import GenerationRequest
from dgx_pixels.tui.link import is_noise_model

if TYPE_CHECKING:
    from dgx_pixels.sprites import SetPlan

__all__ = ["Output", "plan_animation", "read_animation", "reprocess", "reprocessed_path"]


@dataclass(frozen=True, slots=True)
class Output:
    """One generated image: its sprite, raw drawing and sidecar paths."""

    sprite: Path
    raw: Path | None = None
    metadata: Path | None = None

    @classmethod
    def from_paths(cls, paths: Mapping[str, str]) -> Output:
        """From a ``done`` event's map (``sprite``, ``raw``, ``metadata``...)."""

        def opt(role: str) -> Path | None:
            return Path(paths[role]) if role in paths else None

        return cls(Path(paths["sprite"]), opt("raw"), opt("metadata"))

    @classmethod
    def from_sprite(cls, sprite: Path) -> Output:
        """From a sprite path, finding its raw drawing and sidecar by name."""
        stem = sprite.name.removesuffix(".png")
        raw = sprite.with_name(f"{stem}.raw.png")
        meta = sprite.with_name(f"{stem}.json")
        return cls(sprite, raw if raw.is_file() else None, meta if meta.is_file() else None)

    def image(self) -> Image.Image:
        """The sprite (RGBA)."""
        return read_image(self.sprite, mode="RGBA")

    def meta(self) -> dict[str, Any]:
        """The metadata document (from the sidecar, else the PNG's own chunk)."""
        return read_metadata(self.metadata if self.metadata is not None else self.sprite)

    def request(self) -> GenerationRequest:
        """The request that makes exactly this image again (its seed, count 1)."""
        return request_from_metadata(self.meta())

    @property
    def noise(self) -> bool:
        """Made by a random-weight model."""
        try:
            model = self.meta().get("model", {})
        except InputError:
            return False
        return isinstance(model, Mapping) and is_noise_model(str(model.get("id", "")))


def reprocessed_path(output: Output, palette: str) -> Path:
    """Where :func:`reprocess` writes: ``<stem>.<palette>.png`` beside the sprite."""
    stem = output.sprite.name.removesuffix(".png")
    return output.sprite.with_name(f"{stem}.{slugify(Path(palette).stem or palette)}.png")


def reprocess(output: Output, palette: str) -> Path:
    """The sprite made again from its raw drawing with ``palette``; the new file's path.

    Raises :class:`~dgx_pixels.errors.InputError` when the output kept no raw
    drawing or metadata, and :class:`~dgx_pixels.errors.OutputExistsError`
    when that re-processed file exists already.
    """
    from dgx_pixels.pixel.spec import PixelSpec, to_pixel_art

    if output.raw is None or not output.raw.is_file():
        raise InputError(f"{output.sprite}: no raw drawing kept beside it, cannot re-process")
    meta = output.meta()
    spec_data = dict(meta.get("pixel_spec") or {})
    if "size" in spec_data and spec_data["size"] is not None:
        spec_data["size"] = tuple(spec_data["size"])
    spec = PixelSpec(**{**spec_data, "palette": palette})
    sprite = to_pixel_art(read_image(output.raw, mode="RGBA"), spec)
    target = reprocessed_path(output, palette)
    described = {k: v for k, v in meta.items() if k != "files"}
    described["request"] = {**dict(meta["request"]), "palette": palette}
    described["pixel_spec"] = {**dict(meta.get("pixel_spec") or {}), "palette": palette}
    described["reprocessed_from"] = output.sprite.name
    return write_png(sprite, target, text={PNG_KEY: json.dumps(described, sort_keys=True)})


def _whole(text: str) -> int | str:
    """``text`` as a whole number, or as typed (so the check names the bad value)."""
    try:
        return int(text.strip())
    except ValueError:
        return text


def plan_animation(
    output: Output, action: str, frames: str, directions: str, *, model: str, steps: int
) -> SetPlan:
    """The checked animate job that draws ``action`` with ``output``'s sprite as the character.

    The sprite's own request gives the prompt, seed, LoRAs and sampling;
    ``model`` and ``steps`` are the form's. ``frames`` and ``directions`` are
    the typed texts; :class:`InputError` names the first bad value.
    """
    from dgx_pixels.sprites import plan_set, set_request

    sprite = output.image()
    made = output.request()
    given = {
        "size": sprite.size,
        "palette": None,  # the sprite's colours (plan_set)
        "model": model,
        "seed": made.seed,
        "steps": steps,
        "guidance": made.guidance,
        "scheduler": made.scheduler,
        "negative": made.negative,
        "loras": made.loras,
    }
    options = {"action": action, "frames": _whole(frames), "directions": _whole(directions)}
    request = set_request("animate", made.prompt, given)
    return plan_set("animate", request, options, from_sprite=sprite, from_name=output.sprite.name)


def read_animation(manifest_path: str | Path) -> tuple[Path, list[Image.Image], int]:
    """An animation asset's folder, its frames (every direction, in order) and the first
    frame's duration in ms; :class:`~dgx_pixels.errors.DgxPixelsError` when it cannot be read."""
    from dgx_pixels.assets import read_manifest

    manifest = read_manifest(manifest_path)
    folder = Path(manifest_path).parent
    frames = [read_image(folder / frame.file, mode="RGBA") for frame in manifest.frames]
    return folder, frames, manifest.frames[0].duration_ms
