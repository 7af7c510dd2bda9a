"""The test suite's own image assert: it must fail, say where, and keep the images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .images import assert_image_equal


def test_equal_images_pass_and_a_tolerance_is_honoured() -> None:
    a = Image.new("RGBA", (4, 3), (10, 20, 30, 255))
    assert_image_equal(a, a.copy())
    b = np.asarray(a).copy()
    b[1, 2, 0] += 3
    assert_image_equal(b, a, tolerance=3)
    with pytest.raises(AssertionError):
        assert_image_equal(b, a, tolerance=2)


def test_a_failure_says_where_and_saves_got_want_and_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DGX_PIXELS_TEST_FAILURES", str(tmp_path))
    want = Image.new("RGBA", (5, 5), (0, 0, 0, 255))
    got = want.copy()
    got.putpixel((3, 1), (200, 0, 0, 255))
    with pytest.raises(AssertionError, match=r"1 of 25 pixels .* x=3, y=1") as info:
        assert_image_equal(got, want, what="sprite")
    saved = sorted(p.name for p in tmp_path.rglob("*.png"))
    assert saved == ["sprite-diff.png", "sprite-got.png", "sprite-want.png"]
    assert str(tmp_path) in str(info.value)
    with Image.open(next(tmp_path.rglob("sprite-got.png"))) as im:
        assert im.getpixel((3, 1)) == (200, 0, 0, 255)


def test_a_size_mismatch_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DGX_PIXELS_TEST_FAILURES", str(tmp_path))
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_image_equal(Image.new("RGBA", (4, 4)), Image.new("RGBA", (4, 5)))
