"""The asset store: names, PNG chunks, sidecars, atomicity, reading back."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import dgx_pixels.assets as assets
from dgx_pixels.assets import (
    FORMAT,
    PNG_KEY,
    read_metadata,
    request_from_metadata,
    save_result,
)
from dgx_pixels.engine import GeneratedImage, GenerationResult, LoraInfo, Timings
from dgx_pixels.errors import InputError, OutputExistsError
from dgx_pixels.pixel.spec import PixelSpec
from dgx_pixels.request import GenerationRequest, LoraRef


def make_result(count: int = 2) -> GenerationResult:
    request = GenerationRequest(
        "A Knight, side view!",
        size=(8, 4),
        count=count,
        seed=11,
        model="random:sdxl-tiny",
        loras=(LoraRef("/loras/style.safetensors", 0.7),),
        palette="pico-8",
    )
    images = [
        GeneratedImage(
            seed,
            Image.new("RGBA", (8, 4), (seed, 0, 0, 255)),
            Image.new("RGB", (64, 32), (seed, 9, 9)),
        )
        for seed in request.seeds()
    ]
    return GenerationResult(
        request=request,
        images=images,
        timings=Timings(1.5, 1.2, 0.1, count),
        drawing_size=(64, 32),
        factor=8,
        scheduler="dpm++ 2m karras",
        device="CPU",
        dtype="fp32",
        model={"id": "random:sdxl-tiny", "kind": "random", "source": "sdxl-tiny"},
        loras=[LoraInfo("/loras/style.safetensors", 0.7, "style.safetensors", "ab" * 32)],
        versions={"dgx_pixels": "0.1.0", "torch": "2.13.0"},
        pixel_spec=PixelSpec(size=(8, 4), palette="pico-8", seed=11).to_dict(),
    )


def test_public_api() -> None:
    assert set(assets.__all__) == {
        "FORMAT", "PNG_KEY", "PREVIEW_SCALE", "AssetFiles", "a1111_parameters", "asset_stem",
        "check_free", "planned_files", "read_metadata", "request_from_metadata", "save_result",
        "slugify", "CopiedOutputs", "copy_asset", "copy_outputs",
        # asset folders (docs/assets.md)
        "ASSET_FORMAT", "KINDS", "LAYOUTS", "MANIFEST_NAME", "AssetData", "Frame", "Manifest",
        "Sheet", "Tag", "Terrain", "TileInfo", "Tileset", "encode_gif", "read_manifest",
        "write_asset",
    }  # fmt: skip


def test_four_files_per_image_with_deterministic_names(tmp_path: Path) -> None:
    files = save_result(make_result(), tmp_path)
    assert [f.sprite.name for f in files] == [
        "a-knight-side-view-11.png",
        "a-knight-side-view-12.png",
    ]
    first = files[0]
    assert first.preview.name == "a-knight-side-view-11@8x.png"
    assert first.raw.name == "a-knight-side-view-11.raw.png"
    assert first.metadata.name == "a-knight-side-view-11.json"
    assert Image.open(first.sprite).size == (8, 4)
    assert Image.open(first.preview).size == (64, 32)
    assert Image.open(first.raw).size == (64, 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for f in files for p in f.all()
    )


def test_png_chunks_and_sidecar(tmp_path: Path) -> None:
    [first, _] = save_result(make_result(), tmp_path)
    png = Image.open(first.sprite)
    assert png.info["parameters"] == (
        "A Knight, side view! <lora:style:0.7>\n"
        f"Negative prompt: {make_result().request.negative_prompt}\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6, Seed: 11, Size: 64x32, "
        'Model: random:sdxl-tiny, Lora hashes: "style: abababababab", Version: dgx-pixels 0.1.0'
    )
    embedded = json.loads(png.info[PNG_KEY])
    sidecar = json.loads(first.metadata.read_text())
    assert sidecar["format"] == FORMAT
    assert sidecar["request"] == make_result().request.to_dict()
    assert sidecar["seed"] == 11
    assert sidecar["loras"][0]["sha256"] == "ab" * 32
    assert sidecar["timings"]["total_s"] == 1.5
    # The pixel processing is recorded, so the raw drawing can be processed again.
    assert PixelSpec.from_dict(sidecar["pixel_spec"]) == PixelSpec(
        size=(8, 4), palette="pico-8", seed=11
    )
    assert {k: v for k, v in sidecar.items() if k != "files"} == embedded
    for role, path in (("sprite", first.sprite), ("preview", first.preview), ("raw", first.raw)):
        assert sidecar["files"][role] == {
            "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }


def test_metadata_round_trip_from_json_and_png(tmp_path: Path) -> None:
    [_, second] = save_result(make_result(), tmp_path)
    for path in (second.metadata, second.sprite):
        again = request_from_metadata(read_metadata(path))
        assert again == make_result().request.replace(seed=12, count=1)


def test_nothing_is_overwritten_without_force(tmp_path: Path) -> None:
    files = save_result(make_result(count=1), tmp_path)
    before = {p: p.read_bytes() for p in files[0].all()}
    with pytest.raises(OutputExistsError, match="already exists; use --force"):
        save_result(make_result(count=2), tmp_path)
    assert not (tmp_path / "a-knight-side-view-12.png").exists()  # checked before writing
    assert {p: p.read_bytes() for p in files[0].all()} == before
    save_result(make_result(count=2), tmp_path, force=True)
    assert (tmp_path / "a-knight-side-view-12.json").exists()


def disk_fills_after(monkeypatch: pytest.MonkeyPatch, files: int, error: BaseException) -> None:
    """Make the ``files``-th file write onwards raise ``error`` (at the byte-writing call)."""
    import dgx_pixels.image_files as image_files

    calls = {"n": 0}
    real = image_files._write_all

    def flaky(f: Any, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > files:
            raise error
        real(f, data)

    monkeypatch.setattr(image_files, "_write_all", flaky)


def repainted(result: GenerationResult) -> GenerationResult:
    """The same result (same file names) with other pixels."""
    images = [
        dataclasses.replace(im, sprite=Image.new("RGBA", im.sprite.size, (0, 200, 0, 255)))
        for im in result.images
    ]
    return dataclasses.replace(result, images=images)


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_fills_after(monkeypatch, 4, KeyboardInterrupt())  # Ctrl-C half-way through image 2
    with pytest.raises(KeyboardInterrupt):
        save_result(make_result(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_keeps_the_earlier_set_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = save_result(make_result(), tmp_path)
    before = {p: p.read_bytes() for files in first for p in files.all()}
    disk_fills_after(monkeypatch, 5, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OSError, match="No space left"):
        save_result(repainted(make_result()), tmp_path, force=True)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before  # no mix, no temp files


def test_reading_metadata_that_is_not_ours(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    with pytest.raises(InputError, match="has no dgx-pixels metadata"):
        read_metadata(plain)
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(InputError, match="not dgx-pixels output metadata"):
        read_metadata(other)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InputError, match="not a readable JSON file"):
        read_metadata(broken)
    with pytest.raises(InputError, match="no such file"):
        read_metadata(tmp_path / "missing.json")


def test_copy_asset_publishes_the_whole_folder_or_refuses(tmp_path: Path) -> None:
    """A set job's asset copied from the worker's folder: every file, sub-folders kept."""
    from dgx_pixels.cli._animate import effect_asset
    from dgx_pixels.errors import InputError, OutputExistsError

    sprite = Path(__file__).parents[1] / "data" / "train-sprites" / "bat.png"
    source, _ = effect_asset(sprite, "blink", None, None, 2, tmp_path / "worker", False)
    outputs = {"manifest": str(source / "manifest.json")}
    copied = assets.copy_asset(outputs, tmp_path / "mine" / "bat-blink")
    names = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(copied)) for p in copied.rglob("*") if p.is_file())
    assert any("/" in name for name in names)  # frames/ kept as a folder
    for name in names:
        assert (copied / name).read_bytes() == (source / name).read_bytes()
    with pytest.raises(OutputExistsError):
        assets.copy_asset(outputs, copied)
    assets.copy_asset(outputs, copied, force=True)
    with pytest.raises(InputError, match="not on this machine"):
        assets.copy_asset({"manifest": str(tmp_path / "elsewhere" / "manifest.json")}, copied)
