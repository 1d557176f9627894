import pytest

from rlvr.integrations.trl import reward_func
from rlvr.integrations.verl import compute_score


def test_trl_plain_completions():
    f = reward_func("math")
    scores = f(
        prompts=["p1", "p2"], completions=[r"\boxed{2}", r"\boxed{3}"], answer=["2", "2"], other=[1, 2]
    )
    assert scores == [1.0, 0.0]
    assert all(isinstance(s, float) for s in scores)


def test_trl_conversational_completions():
    f = reward_func("math=1.0,format=0.5", answer_field="solution")
    completions = [
        [{"role": "assistant", "content": "<think>r</think><answer>\\boxed{7}</answer>"}],
        [{"role": "assistant", "content": "\\boxed{7}"}],
    ]
    prompts = [[{"role": "user", "content": "3+4?"}]] * 2
    assert f(prompts=prompts, completions=completions, solution=["7", "7"]) == pytest.approx([1.5, 1.0])


def test_trl_overlong_uses_completion_ids():
    f = reward_func("math;overlong=10:4")
    scores = f(
        prompts=["p"] * 2,
        completions=[r"\boxed{1}"] * 2,
        answer=["1", "1"],
        completion_ids=[[0] * 5, [0] * 8],
    )
    assert scores == pytest.approx([1.0, 0.5])


def test_verl_compute_score(monkeypatch):
    assert compute_score("math", r"so \boxed{\frac{1}{2}}", "0.5") == 1.0
    assert compute_score("math", "no answer", "0.5") == 0.0
    text = "<think>r</think><answer>\\boxed{1}</answer>"
    assert compute_score("x", text, "1", {"rlvr_spec": "math,format=0.5"}) == 1.5
    monkeypatch.setenv("RLVR_REWARD_SPEC", "format")
    assert compute_score("x", text, "2") == 1.0
