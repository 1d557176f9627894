import math

import pytest

from rlvr.benchmarks.metrics import (
    avg_at_n,
    check_sample_counts,
    length_stats,
    maj_at_k,
    majority_answer,
    mean_with_error,
    pass_at_k,
)
from rlvr.errors import ConfigError


def humaneval_closed_form(n: int, c: int, k: int) -> float:
    """The estimator as published with HumanEval (Chen et al. 2021): 1 - C(n-c,k)/C(n,k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize(
    "n, c, k, expected",
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (4, 2, 1, 0.5),  # pass@1 = c/n
        (4, 2, 2, 1 - 1 / 6),  # C(2,2)/C(4,2) = 1/6 all-wrong pairs
        (5, 1, 5, 1.0),  # every draw includes the correct one
        (10, 3, 2, 1 - 21 / 45),  # C(7,2)=21, C(10,2)=45
        (16, 0, 8, 0.0),
    ],
)
def test_pass_at_k_by_hand(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize("n", [1, 5, 16, 64, 200])
def test_pass_at_k_matches_the_closed_form(n):
    for c in range(0, n + 1, max(1, n // 7)):
        for k in range(1, n + 1, max(1, n // 5)):
            assert pass_at_k(n, c, k) == pytest.approx(humaneval_closed_form(n, c, k), abs=1e-12)


def test_pass_at_k_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="k"):
        pass_at_k(4, 1, 5)
    with pytest.raises(ConfigError, match="c"):
        pass_at_k(4, 5, 1)


def test_avg_at_n():
    assert avg_at_n([True, False, True, True]) == 0.75
    with pytest.raises(ConfigError):
        avg_at_n([])


def test_majority_with_deterministic_ties():
    assert majority_answer(["3", "5", "5", "3"]) == "3"  # tie: first seen wins
    assert majority_answer(["5", "3", "5", "3", "3"]) == "3"
    assert majority_answer([None, "", None]) is None
    assert majority_answer([None, "7"]) == "7"


def test_maj_at_k():
    answers = ["1", "2", "2", "3", "2"]
    correct = [False, True, True, False, True]
    assert maj_at_k(answers, correct, 5) == 1.0
    assert maj_at_k(answers, correct, 1) == 0.0  # majority of ["1"] is the wrong "1"
    assert maj_at_k(["1", "2"], [False, True], 2) == 0.0  # tie -> first seen ("1"), wrong
    assert maj_at_k([None, None], [False, False], 2) == 0.0


def test_fewer_samples_than_asked_fails_loudly():
    check_sample_counts({"a": 4, "b": 4}, 4)
    with pytest.raises(ConfigError, match=r"1 problem\(s\) do not have exactly 4 samples \(b: 3\)"):
        check_sample_counts({"a": 4, "b": 3}, 4)


def test_mean_with_error_by_hand():
    r = mean_with_error([0.0, 1.0, 1.0, 0.0], bootstrap=2000, seed=1)
    assert r["mean"] == 0.5
    assert r["stderr"] == pytest.approx(math.sqrt(1 / 3) / 2)  # sample std sqrt(1/3), sqrt(n)=2
    assert 0.0 <= r["ci_low"] <= 0.5 <= r["ci_high"] <= 1.0
    assert mean_with_error([0.0, 1.0, 1.0, 0.0], seed=1) == mean_with_error([0.0, 1.0, 1.0, 0.0], seed=1)
    assert mean_with_error([0.7])["stderr"] == 0.0


def test_length_stats():
    r = length_stats([10, 20, 60], ["stop", "length", "stop"])
    assert r == {"mean_tokens": 30.0, "median_tokens": 20, "truncated_share": pytest.approx(1 / 3)}
