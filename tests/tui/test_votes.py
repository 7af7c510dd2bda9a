"""The vote store and its report: real SQLite, intervals checked against scipy."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.stats import binomtest

from dgx_pixels.errors import InputError
from dgx_pixels.tui.votes import TIE, VoteStore, wilson_interval


@pytest.mark.parametrize(("wins", "n"), [(0, 5), (3, 7), (10, 10), (40, 97)])
def test_wilson_matches_scipy(wins: int, n: int) -> None:
    ci = binomtest(wins, n).proportion_ci(method="wilson")
    assert wilson_interval(wins, n) == pytest.approx((ci.low, ci.high))


def test_votes_report_per_prompt_and_overall(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "compare.sqlite3")
    first = store.new_comparison("a slime", [1, 2, 3], ["A", "B"])
    second = store.new_comparison("a knight", [4], ["A", "B"])
    store.vote(first, 0, 1)
    store.vote(first, 0, 0)  # a new vote for the row replaces the old one
    store.vote(first, 1, TIE)
    store.vote(second, 0, 1)
    rates = {(r.prompt, r.variant): r for r in VoteStore(store.path).report()}
    assert (rates["a slime", "A"].wins, rates["a slime", "A"].rows) == (1, 2)
    assert (rates["*", "B"].wins, rates["*", "B"].rows, rates["*", "B"].ties) == (1, 3, 1)


def test_bad_votes_are_refused(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "compare.sqlite3")
    comparison = store.new_comparison("x", [1], ["A", "B"])
    with pytest.raises(InputError, match="row must be between 0 and 0, got 3"):
        store.vote(comparison, 3, 0)
    with pytest.raises(InputError, match="winner"):
        store.vote(comparison, 0, 2)
    with pytest.raises(InputError, match="compare 2 to 4 variants, got 1"):
        store.new_comparison("x", [1], ["A"])
