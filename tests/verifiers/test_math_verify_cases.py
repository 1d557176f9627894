"""math-verify's own test cases, run through `get_verifier("math")`.

The cases are data (tests/verifiers/data/math_verify_cases.jsonl, extracted from
huggingface/Math-Verify's tests by data/extract_math_verify_cases.py).  Options a
test sets explicitly are passed under rlvr's names (docs/verifiers.md lists the
pairs); everything else runs with rlvr's defaults.  Disputed cases are the ones
where math-verify's expectation is wrong: rlvr must keep the opposite verdict.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from rlvr.verifiers import get_verifier

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "math_verify_cases.jsonl").open()]
MIN_AGREEMENT = 0.95  # of the non-disputed cases


def rlvr_options(options: dict) -> dict:
    """math-verify's option names -> rlvr's, for the options a test sets explicitly."""
    out: dict = {}
    if options.get("match_types") == ["expr"]:  # expression extraction anywhere: the last number
        out["last_number_fallback"] = True
    if "precision" in options:
        out["float_rounding"] = options["precision"]
    if "strict" in options:
        out["strict"] = options["strict"]
    if "allow_set_relation_comp" in options:
        out["set_relations"] = options["allow_set_relation_comp"]
    return out


@pytest.fixture(scope="module")
def verdicts() -> list[bool]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(CASES):
        groups[json.dumps(rlvr_options(case["options"]), sort_keys=True)].append(i)
    out: list[bool] = [False] * len(CASES)
    for key, indices in groups.items():
        verifier = get_verifier("math", **json.loads(key))
        results = verifier.verify_batch(
            [CASES[i]["pred"] for i in indices], [CASES[i]["gold"] for i in indices]
        )
        for i, result in zip(indices, results):
            assert result.reason not in ("error", "crash"), (CASES[i]["source"], result)
            out[i] = bool(result.correct)
    return out


def test_the_data_is_math_verifys_suite():
    assert len(CASES) == 270
    assert all(c["origin"].startswith("github.com/huggingface/Math-Verify@") for c in CASES)
    assert len({c["source"] for c in CASES}) == len(CASES)


def test_agreement_with_math_verify_and_no_false_positive(verdicts):
    kept = [(c, v) for c, v in zip(CASES, verdicts) if not c["disputed"]]
    agree = sum(v == bool(c["expected"]) for c, v in kept)
    false_positives = [c["source"] for c, v in kept if v and not c["expected"]]
    misses = [c["source"] for c, v in kept if not v and c["expected"]]
    overall = sum(v == bool(c["expected"]) for c, v in zip(CASES, verdicts))
    print(
        f"\nmath-verify cases: {overall}/{len(CASES)} agree overall, "
        f"{agree}/{len(kept)} ({agree / len(kept):.3f}) non-disputed, "
        f"{len(false_positives)} false positives, {len(CASES) - len(kept)} disputed"
    )
    print("misses:", *misses, sep="\n  ")
    assert false_positives == []
    assert agree / len(kept) >= MIN_AGREEMENT, misses


def test_with_rlvr_defaults_only_there_is_no_false_positive():
    """The same cases with no option mapped at all (a user who passes nothing)."""
    results = get_verifier("math").verify_batch([c["pred"] for c in CASES], [c["gold"] for c in CASES])
    kept = [(c, bool(r.correct)) for c, r in zip(CASES, results) if not c["disputed"]]
    agree = sum(v == bool(c["expected"]) for c, v in kept)
    print(f"\nwith rlvr's defaults only: {agree}/{len(kept)} non-disputed agree")
    assert [c["source"] for c, v in kept if v and not c["expected"]] == []


def test_disputed_cases_keep_the_correct_verdict(verdicts):
    disputed = [(c, v) for c, v in zip(CASES, verdicts) if c["disputed"]]
    assert all(c["dispute_reason"] for c, _ in disputed)
    assert [c["source"] for c, v in disputed if v == bool(c["expected"])] == []
