import time
from pathlib import Path

import pytest

from rlvr.verifiers import get_verifier
from rlvr.verifiers.math import gold_text
from rlvr.verifiers.math.extract import extract_answer

CASES = [
    line.rstrip("\n").split("\t")
    for line in (Path(__file__).parent / "data" / "math_cases.tsv").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.fixture(scope="module")
def math():
    return get_verifier("math")


@pytest.fixture(scope="module")
def table_results(math):
    completions = [f"Reasoning...\nThe answer is $\\boxed{{{pred}}}$." for pred, *_ in CASES]
    return math.verify_batch(completions, [gold for _, gold, *_ in CASES])


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c[3]}:{c[0]}|{c[1]}" for c in CASES])
def test_answer_forms(table_results, index):
    pred, gold, expected, category = CASES[index]
    result = table_results[index]
    assert result.correct is (expected == "1"), f"[{category}] {pred!r} vs {gold!r}: {result}"
    assert result.score == (1.0 if expected == "1" else 0.0)


def test_verify_matches_verify_batch(math, table_results):
    for (pred, gold, *_), batch_result in list(zip(CASES, table_results))[:25]:
        single = math.verify(f"The answer is $\\boxed{{{pred}}}$.", gold)
        assert single.correct == batch_result.correct


@pytest.mark.parametrize(
    "completion, expected",
    [
        (r"so \boxed{5} and then \boxed{7}", "7"),
        (r"\boxed{\frac{1}{\sqrt{2}}}", r"\frac{1}{\sqrt{2}}"),
        (r"\fbox{12}", "12"),
        (r"the result is \boxed 5$.", "5"),
        ("<think>maybe \\boxed{3}</think>The final answer is \\boxed{4}", "4"),
        ("<think>the answer is \\boxed{3}</think>", "3"),  # nothing after </think>: use the reasoning
        ("<think>x</think><answer>\\boxed{9}</answer>", "9"),
        ("<think>x</think><answer> 42 </answer>", "42"),
        ("Final Answer: The final answer is $\\frac{2}{3}$. I hope it is correct.", r"\frac{2}{3}"),
        ("Answer: 17", "17"),
        ("**Answer:** **17**", "17"),
        ("**Final Answer**: $\\frac{1}{2}$", r"\frac{1}{2}"),
        ("所以答案是 12", "12"),
        ("The final answer is 3.", "3"),
        ("no answer here, 5 and 6", None),
        (r"unbalanced \boxed{1 + ", None),
        ("", None),
    ],
)
def test_extraction(completion, expected):
    assert extract_answer(completion) == expected


def test_last_number_fallback_is_opt_in():
    text = "we get 3 apples and then 41 pears"
    assert get_verifier("math").verify(text, "41").reason == "no_answer"
    assert get_verifier("math", last_number_fallback=True).verify(text, "41").correct is True


@pytest.mark.parametrize(
    "gold, text",
    [
        (42, "42"),
        (0.5, "0.5"),
        (r"\boxed{\frac12}", r"\frac12"),
        ("$7$", "7"),
        (["1", "2"], "1, 2"),
        (None, None),
    ],
)
def test_gold_answer_forms(gold, text):
    assert gold_text(gold) == text


def test_gold_as_number_or_solution(math):
    assert math.verify(r"\boxed{42}", 42).correct is True
    assert math.verify(r"\boxed{3/4}", "Hence $\\boxed{\\frac{3}{4}}$.").correct is True
    assert math.verify(r"\boxed{3}", None).reason == "no_reference"


def test_reasons(math):
    assert math.verify("nothing", "1").reason == "no_answer"
    assert math.verify(r"\boxed{2}", "1").reason == "mismatch"
    assert math.verify(r"\boxed{" + "1" * 5000 + "}", "1").reason == "too_long"


HOSTILE = [
    r"\boxed{9^{9^{9^9}}}",
    r"\boxed{2^{2^{2^{2^{2^{2}}}}}}",
    r"\boxed{10^{10^{10}}!}",
    r"\boxed{" + r"\frac{1}{" * 60 + "2" + "}" * 60 + "}",
    r"\boxed{" + "(" * 500 + "1" + ")" * 500 + "}",
    "x" * 1_000_000,
    r"\boxed{" + "1+" * 400 + "1}",
    "$" * 200_000,
    "\n" * 200_000 + "Answer:",
    r"\boxed{" * 10_000,
    "<think>" * 50_000,
]


@pytest.mark.parametrize("completion", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_inputs_are_bounded(completion):
    verifier = get_verifier("math", timeout_s=2)
    start = time.monotonic()
    result = verifier.verify(completion, r"\frac{1}{2}")
    assert time.monotonic() - start < 2 + 1
    assert result.correct is not True


def test_hostile_batch_with_good_items_around_it():
    verifier = get_verifier("math", timeout_s=2)
    completions = [r"\boxed{1}", r"\boxed{9^{9^{9^9}}}", r"\boxed{2}", "y" * 1_000_000, r"\boxed{3}"]
    start = time.monotonic()
    results = verifier.verify_batch(completions, ["1", "1", "2", "1", "3"], workers=2)
    assert time.monotonic() - start < 2 * 2 + 1
    assert [r.correct for r in results] == [True, False, True, False, True]


@pytest.mark.parametrize(
    "pred, gold, equal", [(r"25\%", r"\frac14", True), ("0.25", r"25\%", True), (r"2.5\%", r"\frac14", False)]
)
def test_grader_and_verifier_agree_on_percentages(math, pred, gold, equal):
    from rlvr.verifiers.math.grader import answers_equal

    assert answers_equal(pred, gold).equal is equal
    assert math.verify(f"\\boxed{{{pred}}}", gold).correct is equal


@pytest.mark.parametrize(
    ("completion", "gold", "strict_score"),
    [
        ("The answer is 2 - 8.", "-6", 0.0),  # the question restated
        ("\\boxed{3 \\times 4}", "12", 0.0),
        ("\\boxed{2^{10}}", "1024", 0.0),
        ("\\boxed{-6} or \\boxed{2-8}", "-6", 0.0),  # every box must be evaluated
        ("The answer is -6.", "-6", 1.0),
        ("<answer>x = -6</answer>", "-6", 1.0),
        ("\\boxed{(-6)}", "-6", 1.0),
        ("\\boxed{1,000}", "1000", 1.0),
        ("\\boxed{0.5}", "\\frac{1}{2}", 1.0),
        ("\\boxed{\\dfrac{3}{4}}", "0.75", 1.0),
        ("\\boxed{2+\\sqrt{3}}", "\\sqrt{3}+2", 1.0),  # the gold is not a plain number: values compare
        ("\\boxed{7}", "-6", 0.0),
    ],
)
def test_require_evaluated_refuses_expressions_for_a_numeric_gold(completion, gold, strict_score):
    strict = get_verifier("math", require_evaluated=True).verify(completion, gold)
    assert strict.score == strict_score, strict
    if strict_score == 0 and "7" not in completion:
        assert strict.reason == "not_evaluated"
        assert get_verifier("math").verify(completion, gold).score == 1.0  # off by default: values compare
