"""Each GRPO formula against values worked out by hand."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from rlvr.trainer.algorithms import (  # noqa: E402
    aggregate,
    clipped_objective,
    group_advantages,
    importance_ratio,
    informative_groups,
    k3_kl,
    token_entropy,
    token_log_probs,
)


def test_group_advantages_divide_by_the_groups_unbiased_std():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    # group 1: mean 0.5, unbiased std sqrt(1/3) = 0.57735
    advantages = group_advantages(rewards, "group", eps=0.0)
    assert advantages[0].tolist() == pytest.approx([0.866025, -0.866025, -0.866025, 0.866025], abs=1e-5)
    assert group_advantages(rewards, "group")[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # eps keeps it finite


def test_dr_grpo_only_centres_and_batch_scale_uses_one_std():
    rewards = torch.tensor([[1.0, 0.0], [3.0, 1.0]])
    assert group_advantages(rewards, "none").tolist() == [[0.5, -0.5], [1.0, -1.0]]
    # batch std of [1, 0, 3, 1]: mean 1.25, var (0.0625+1.5625+3.0625+0.0625)/3 = 1.58333
    batch = group_advantages(rewards, "batch", eps=0.0)
    assert batch.flatten().tolist() == pytest.approx(
        [0.5 / 1.258306, -0.5 / 1.258306, 1 / 1.258306, -1 / 1.258306]
    )


def test_informative_groups_drop_the_all_equal_ones():
    rewards = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    assert informative_groups(rewards).tolist() == [False, True, False]


def test_token_log_probs_and_entropy_of_a_known_distribution():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))
    ids = torch.tensor([[1, 2]])
    assert token_log_probs(logits, ids)[0].tolist() == pytest.approx([math.log(0.25), math.log(0.8)])
    entropy = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    assert token_entropy(logits)[0, 0].item() == pytest.approx(entropy)
    # temperature 2 flattens: p ∝ sqrt(p)
    flat = torch.tensor([0.5, 0.25, 0.25]).sqrt()
    assert token_log_probs(logits, ids, temperature=2.0)[0, 0].item() == pytest.approx(
        math.log(flat[1] / flat.sum())
    )


def test_k3_kl_is_zero_at_equality_and_matches_the_formula():
    policy = torch.tensor([math.log(0.5), math.log(0.2)])
    reference = torch.tensor([math.log(0.5), math.log(0.4)])
    kl = k3_kl(policy, reference)
    assert kl[0].item() == pytest.approx(0.0)
    assert kl[1].item() == pytest.approx(2.0 - math.log(2.0) - 1)


def test_token_and_sequence_ratios():
    old = torch.zeros(1, 3)
    new = torch.tensor([[0.1, -0.1, 0.3]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    assert importance_ratio(new, old, mask, "token")[0].tolist() == pytest.approx(
        [math.exp(0.1), math.exp(-0.1), math.exp(0.3)]
    )
    sequence = importance_ratio(new, old, mask, "sequence")
    # mean of the unmasked log-ratios is 0: every token's ratio is 1, but gradients still flow per token
    assert sequence[0].tolist() == pytest.approx([1.0, 1.0, 1.0])
    sequence[0, 0].backward()
    assert new.grad[0].tolist() == pytest.approx([1.0, 0.0, 0.0])


def test_clipped_objective_clips_low_and_high_separately():
    ratio = torch.tensor([[0.7, 1.0, 1.3, 1.3, 0.7]])
    advantages = torch.tensor([[-1.0, 1.0, 1.0, -1.0, 1.0]])
    loss, low, high = clipped_objective(ratio, advantages, eps_low=0.2, eps_high=0.28)
    # -min(r A, clip(r) A): A<0, r=0.7 -> clip 0.8 -> -min(-0.7,-0.8)=0.8; A>0, r=1.3 -> clip 1.28
    assert loss[0].tolist() == pytest.approx([0.8, -1.0, -1.28, 1.3, -0.7])
    assert low.tolist() == [[True, False, False, False, False]]
    assert high.tolist() == [[False, False, True, False, False]]


def test_aggregations_and_micro_batches_add_up_to_the_batch_loss():
    per_token = torch.tensor([[1.0, 2.0, 3.0, 0.0], [4.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    totals = {"num_sequences": 2, "num_tokens": 4, "max_tokens": 4}
    assert aggregate(per_token, mask, "grpo", **totals).item() == pytest.approx((2.0 + 4.0) / 2)
    assert aggregate(per_token, mask, "dr_grpo", **totals).item() == pytest.approx(10.0 / 8)
    assert aggregate(per_token, mask, "dapo", **totals).item() == pytest.approx(10.0 / 4)
    for mode in ("grpo", "dr_grpo", "dapo"):
        whole = aggregate(per_token, mask, mode, **totals)
        parts = sum(aggregate(per_token[i : i + 1], mask[i : i + 1], mode, **totals) for i in range(2))
        assert parts.item() == pytest.approx(whole.item())
    with pytest.raises(ValueError, match="aggregation"):
        aggregate(per_token, mask, "mean", **totals)
