import pytest

from rlvr.verifiers import get_verifier

GOOD = "<think>\nreasoning\n</think>\n<answer>\n42\n</answer>"


@pytest.mark.parametrize(
    "text, strict, soft, problem",
    [
        (GOOD, 1, 1, None),
        ("  " + GOOD + "\n", 1, 1, None),
        ("Sure! " + GOOD, 0, 1, "text_outside_tags"),
        (GOOD + " extra", 0, 1, "text_outside_tags"),
        ("<think>a</think> b <answer>1</answer>", 0, 1, "text_outside_tags"),
        ("<answer>1</answer><think>a</think>", 0, 0, "wrong_order"),
        ("<think>a</think>", 0, 0, "missing_tag"),
        ("<think>a</think><think>b</think><answer>1</answer>", 0, 1, "repeated_tag"),
        ("<think>a</think><answer> </answer>", 0, 1, "empty_answer"),
        ("", 0, 0, "missing_tag"),
    ],
)
def test_strict_and_soft(text, strict, soft, problem):
    s = get_verifier("format").verify(text)
    assert s.score == strict
    if problem:
        assert s.details["problem"] == problem and s.reason == "format"
    assert get_verifier("format", mode="soft").verify(text).score == soft


def test_custom_tags_and_prefilled_think():
    v = get_verifier("format", think_tag="reasoning", answer_tag="final")
    assert v.verify("<reasoning>r</reasoning><final>1</final>").score == 1.0
    assert v.verify(GOOD).score == 0.0
    assert get_verifier("format", prefilled_think=True).verify("r</think><answer>1</answer>").score == 1.0


def test_extracted_is_the_answer_block():
    assert get_verifier("format").verify(GOOD).extracted == "42"


def test_bad_option_names_the_field():
    with pytest.raises(ValueError, match="mode"):
        get_verifier("format", mode="sloppy")


@pytest.mark.parametrize(
    "text, prefilled, score",
    [
        ("no tags at all", False, 0.0),
        ("<think> a </think> b", False, 0.25),
        ("<think> a </think> <answer> 4 </answer>", False, 1.0),
        ("</answer> <think>", False, 0.125),  # only tags in order count
        (" a </think> <answer> 4", True, 1 / 3),  # the prefilled <think> earns nothing
        (" a </think> <answer> 4 </answer>", True, 1.0),
        # all tags in order but repeated / text outside: at most half (the hack a policy found)
        (" 5 </think> <answer> <think> 1 </think> <answer> 2 </answer>", True, 0.5),
        (" 5 </think> <answer> 4 </answer> and more", True, 0.5),
    ],
)
def test_partial_mode_gives_credit_per_tag_in_order(text, prefilled, score):
    result = get_verifier("format", mode="partial", prefilled_think=prefilled).verify(text)
    assert result.score == pytest.approx(score)
    assert result.correct == (score == 1.0)
