import pytest

from rlvr.errors import ConfigError, UnknownNameError
from rlvr.verifiers import get_verifier
from rlvr.verifiers.compose import overlong_penalty

GOOD_FORMAT_RIGHT = "<think>r</think><answer>\\boxed{4}</answer>"
GOOD_FORMAT_WRONG = "<think>r</think><answer>\\boxed{5}</answer>"
BAD_FORMAT_RIGHT = "so \\boxed{4}"


def test_weighted_sum_keeps_each_score():
    v = get_verifier("math=1.0,format=0.2")
    r = v.verify(GOOD_FORMAT_RIGHT, "4")
    assert r.score == pytest.approx(1.2)
    assert r.details["scores"] == {"math": 1.0, "format": 1.0}
    assert v.verify(BAD_FORMAT_RIGHT, "4").score == pytest.approx(1.0)
    assert v.verify(GOOD_FORMAT_WRONG, "4").score == pytest.approx(0.2)


def test_gate_zeroes_accuracy_without_format():
    v = get_verifier("math=1.0,format=0.2;gate=format")
    assert v.verify(GOOD_FORMAT_RIGHT, "4").score == pytest.approx(1.2)
    gated = v.verify(BAD_FORMAT_RIGHT, "4")
    assert gated.score == 0.0 and gated.reason == "gate:format" and gated.correct is False


@pytest.mark.parametrize(
    "length, expected", [(100, 0.0), (3584, 0.0), (3840, -0.5), (4096, -1.0), (5000, -1.0)]
)
def test_overlong_penalty_matches_dapo(length, expected):
    assert overlong_penalty(length, 4096, 512) == pytest.approx(expected)


@pytest.mark.parametrize("length, expected", [(50, 0.0), (80, 0.0), (90, -0.5), (100, -1.0), (120, -1.0)])
def test_overlong_penalty_small_window(length, expected):
    assert overlong_penalty(length, max_length=100, buffer=20) == pytest.approx(expected)


def test_overlong_in_a_spec_uses_given_lengths():
    v = get_verifier("math;overlong=100:20")
    results = v.verify_batch([GOOD_FORMAT_RIGHT] * 3, ["4"] * 3, lengths=[10, 90, 150])
    assert [r.score for r in results] == pytest.approx([1.0, 0.5, 0.0])
    assert results[1].details["scores"]["overlong"] == pytest.approx(-0.5)


def test_dict_answers_route_per_verifier():
    v = get_verifier("math,language=0.5")
    r = v.verify("<think>We add the numbers here.</think> \\boxed{4}", {"answer": "4", "language": "en"})
    assert r.details["scores"] == {"math": 1.0, "language": 1.0}


@pytest.mark.parametrize(
    "spec, field",
    [
        ("math=abc", "weight"),
        ("nope=1", "unknown name"),
        ("math;gate=format", "gate"),
        ("math;overlong=x", "overlong"),
        ("math;colour=red", "unknown setting"),
        ("math,,format", "empty item"),
    ],
)
def test_bad_specs_name_the_problem(spec, field):
    with pytest.raises((ConfigError, UnknownNameError), match=field):
        get_verifier(spec)


def test_a_composition_is_a_verifier_everywhere():
    from rlvr.verifiers import Verifier, get_verifier

    composed = get_verifier("math=1.0,format=0.2;overlong=8:4")
    assert isinstance(composed, Verifier)
    assert composed.timeout_s == max(c.verifier.timeout_s for c in composed.components)
    # the same keyword protocol as a single verifier: lengths go to the penalty, sizes are checked
    long, short = composed.verify_batch([r"\boxed{2}", r"\boxed{2}"], ["2", "2"], lengths=[8, 1])
    assert short.score > long.score
    single = get_verifier("math")
    assert single.verify_batch([r"\boxed{2}"], ["2"], lengths=[3])[0].correct
    with pytest.raises(ConfigError, match="lengths"):
        single.verify_batch([r"\boxed{2}"], ["2"], lengths=[1, 2])
    # check() composes the components' own checks in-process, with the same score
    assert composed.check(r"\boxed{2}", "2").score == composed.verify(r"\boxed{2}", "2").score
