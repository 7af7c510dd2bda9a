"""The built-in model's network and sampler, on the tiny config (random weights, CPU)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from dgx_pixels.engine._builtin import _diffusion, _unet
from dgx_pixels.errors import InputError, Interrupted, ModelError

RLTILES = Path(__file__).parent.parent / "data" / "rltiles"


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """The CI machine has two shared cores: a second torch thread only adds contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model() -> _unet.SpriteUNet:
    torch.manual_seed(0)
    m = _unet.SpriteUNet(_unet.PRESETS["tiny"]).eval()
    # The output layers start at zero; give them weights so predictions depend on the input.
    with torch.no_grad():
        for p in m.parameters():
            if not p.abs().sum():
                p.normal_(0, 0.02)
    return m


def test_parameter_counts() -> None:
    full = _unet.parameter_count(_unet.SpriteUNet(_unet.PRESETS["full"]))
    assert 10_000_000 <= full <= 25_000_000
    assert _unet.parameter_count(_unet.SpriteUNet(_unet.PRESETS["tiny"])) < 500_000


def test_a_config_that_does_not_fit_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"widths \[48\]"):
        _unet.SpriteUNet(_unet.UNetConfig(channels=48, multipliers=(1, 2)))


def test_weights_round_trip(model: _unet.SpriteUNet, tmp_path: Path) -> None:
    path = _unet.save_weights(model, tmp_path / "w.safetensors", extra={"steps": "3"})
    back, meta = _unet.load_weights(path)
    assert back.config == model.config
    assert meta["model_id"] == "builtin:sprites-32"
    assert meta["steps"] == "3"
    x, t = torch.randn(2, 4, 32, 32), torch.rand(2)
    text, drop = torch.randn(2, 384), torch.tensor([False, True])
    torch.testing.assert_close(back(x, t, text, drop), model(x, t, text, drop))


def test_bad_weights_files_are_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such"):
        _unet.load_weights(tmp_path / "nope.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ModelError, match="not a safetensors file"):
        _unet.load_weights(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file

    save_file({"a": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ModelError, match="not a built-in model"):
        _unet.load_weights(tmp_path / "other.safetensors")


def test_pixels_round_trip_through_the_model_range() -> None:
    from dgx_pixels.image_files import read_image

    rgba = np.asarray(read_image(RLTILES / "mon/animals/wolf.png"))[None]
    x = _diffusion.from_pixels(rgba)
    assert x.shape == (1, 4, 32, 32)
    assert x.min() >= -1
    assert x.max() <= 1
    back = _diffusion.to_pixels(x)
    opaque = rgba[..., 3] >= 128
    np.testing.assert_array_equal(back[opaque], rgba[opaque])
    assert (back[~opaque] == 0).all()


def test_v_prediction_recovers_the_sprite() -> None:
    x0, noise, t = torch.rand(3, 4, 32, 32) * 2 - 1, torch.randn(3, 4, 32, 32), torch.rand(3)
    a, s = (z[:, None, None, None] for z in _diffusion.alpha_sigma(t))
    v = _diffusion.v_target(x0, noise, t)
    torch.testing.assert_close(a * (a * x0 + s * noise) - s * v, x0)


def test_a_seed_fixes_its_sprite(model: _unet.SpriteUNet) -> None:
    text = torch.nn.functional.normalize(torch.randn(3, 384), dim=-1)
    first = _diffusion.sample(model, text, seeds=[1, 2, 1], steps=4, guidance=3.0)
    again = _diffusion.sample(model, text[:1], seeds=[1], steps=4, guidance=3.0)
    torch.testing.assert_close(first[:1], again)  # a batch does not change a sprite
    assert not torch.equal(first[0], first[1])
    assert first.abs().max() <= 1
    unguided = _diffusion.sample(model, text[:1], seeds=[1], steps=4, guidance=1.0)
    assert not torch.equal(unguided, again)


def test_img2img_strength_keeps_the_init(model: _unet.SpriteUNet) -> None:
    from dgx_pixels.image_files import read_image

    init = _diffusion.from_pixels(np.asarray(read_image(RLTILES / "mon/animals/wolf.png"))[None])
    text = torch.nn.functional.normalize(torch.randn(1, 384), dim=-1)
    near = _diffusion.sample(model, text, seeds=[0], steps=3, init=init, strength=0.1)
    far = _diffusion.sample(model, text, seeds=[0], steps=3, init=init, strength=1.0)
    assert (near - init).abs().mean() < 0.5 * (far - init).abs().mean()


def test_callback_can_stop_a_run_and_bad_options_say_so(model: _unet.SpriteUNet) -> None:
    text = torch.zeros(1, 384)
    seen: list[tuple[int, int]] = []
    with pytest.raises(Interrupted, match="after step 2 of 5"):
        _diffusion.sample(model, text, seeds=[0], steps=5,
                          callback=lambda i, n, x0: seen.append((i, n)) or i == 2)  # fmt: skip
    assert seen == [(1, 5), (2, 5)]
    with pytest.raises(InputError, match="2 seeds"):
        _diffusion.sample(model, text, seeds=[0, 1])
    with pytest.raises(InputError, match="got 0"):
        _diffusion.sample(model, text, seeds=[0], steps=0)
    with pytest.raises(InputError, match=r"got 1\.5"):
        _diffusion.sample(model, text, seeds=[0], strength=1.5)
