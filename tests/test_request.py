"""GenerationRequest: validation up front, bad value in the message, round trips."""

from __future__ import annotations

import pytest

from dgx_pixels.errors import RequestError
from dgx_pixels.request import DEFAULT_NEGATIVE, GenerationRequest, LoraRef


def test_round_trip_through_plain_data() -> None:
    r = GenerationRequest(
        prompt="a slime",
        size=(16, 24),
        count=3,
        seed=5,
        loras=(LoraRef("a/b", 0.5),),
        palette="pico-8",
        init="x.png",
        mask="m.png",
        extra={"k": 1},
    )
    assert GenerationRequest.from_dict(r.to_dict()) == r


def test_seed_is_drawn_once_and_kept() -> None:
    r = GenerationRequest(prompt="a slime", count=2)
    assert r.seed is not None
    assert r.seeds() == (r.seed, r.seed + 1)
    assert GenerationRequest.from_dict(r.to_dict()).seeds() == r.seeds()


def test_default_negative_prompt() -> None:
    assert GenerationRequest(prompt="x").negative_prompt == DEFAULT_NEGATIVE
    assert GenerationRequest(prompt="x", negative="").negative_prompt == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"prompt": ""}, "prompt must not be empty"),
        ({"size": (0, 32)}, "sprite width must be between 1 and 512, got 0"),
        ({"size": (32, 5000)}, "sprite height must be between 1 and 512, got 5000"),
        ({"count": 0}, "count must be between 1 and 64, got 0"),
        ({"steps": 0}, "steps must be between 1 and 200, got 0"),
        ({"dither": "fancy"}, "dither must be one of"),
        ({"background": "pink"}, "background must be transparent, keep or a colour"),
        ({"strength": 0.0}, "strength must be in (0, 1]"),
        ({"mask": "m.png"}, "a mask needs an init image"),
        ({"init": "i.png", "steps": 3, "strength": 0.3}, "3 x 0.3 = 0.9 denoising steps, under 1"),
        ({"init": "i.png", "steps": 1, "strength": 0.6}, "1 x 0.6 = 0.6 denoising steps"),
        ({"seed": -1}, "seed must be between"),
    ],
)
def test_invalid_fields_name_the_value(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"prompt": "a knight", **changes}
    with pytest.raises(RequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        GenerationRequest(**fields)  # type: ignore[arg-type]


def test_from_dict_rejects_unknown_and_malformed() -> None:
    with pytest.raises(RequestError, match="unknown request field"):
        GenerationRequest.from_dict({"prompt": "x", "colour": 3})
    with pytest.raises(RequestError, match="invalid request"):
        GenerationRequest.from_dict({"size": [8, 8]})
    with pytest.raises(RequestError, match="must be a mapping"):
        GenerationRequest.from_dict([1, 2])  # type: ignore[arg-type]


def test_lora_parse() -> None:
    assert LoraRef.parse("x/y:0.7") == LoraRef("x/y", 0.7)
    assert LoraRef.parse("x/y") == LoraRef("x/y", 1.0)
    assert LoraRef.parse("D:/l.safetensors") == LoraRef("D:/l.safetensors", 1.0)
    with pytest.raises(RequestError, match="lora weight"):
        LoraRef.parse("x:9")


@pytest.mark.parametrize("value", ["#abc", "#1a1c2c", "1a1c2c", "transparent", "keep"])
def test_a_background_the_request_accepts_the_pixel_spec_accepts(value: str) -> None:
    from dgx_pixels.pixel.spec import PixelSpec

    assert GenerationRequest(prompt="x", background=value).background == value
    assert PixelSpec(background=value).background == value


@pytest.mark.parametrize(
    ("field", "value"), [("background", "pink"), ("background", "#abcd"), ("dither", "dots")]
)
def test_request_and_pixel_spec_refuse_alike_with_one_message(field: str, value: str) -> None:
    from dgx_pixels.errors import InputError
    from dgx_pixels.pixel.spec import PixelSpec

    with pytest.raises(RequestError) as by_request:
        GenerationRequest(prompt="x", **{field: value})  # type: ignore[arg-type]
    with pytest.raises(InputError) as by_spec:
        PixelSpec(**{field: value})  # type: ignore[arg-type]
    assert by_request.value.message == by_spec.value.message
    assert repr(value) in by_spec.value.message


def test_drawing_size_is_a_declared_field() -> None:
    r = GenerationRequest(prompt="x", size=(16, 16), drawing_size=(512, 512))
    assert r.to_dict()["drawing_size"] == [512, 512]
    assert GenerationRequest.from_dict(r.to_dict()) == r
    # a request written before the field kept it in extra: it moves to the field
    old = GenerationRequest.from_dict({"prompt": "x", "extra": {"drawing_size": [512, 512]}})
    assert (old.drawing_size, old.extra) == ((512, 512), {})
