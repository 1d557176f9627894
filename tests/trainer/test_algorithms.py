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


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_a_group_of_equal_rewards_has_exactly_zero_advantage(scale):
    """The float mean of eight 1.2s is 1.2 - 1.2e-7; divided by (0 + eps) that was a spurious
    advantage of 1e-3 on every sample of a group that teaches nothing."""
    rewards = torch.tensor([[1.2] * 8, [0.2] * 8, [0.0, 1.0, 0.0, 1.2, 0.0, 0.0, 0.0, 1.0]])
    assert float((rewards[0].mean() - rewards[0, 0]).abs()) > 0  # the premise: float error exists
    advantages = group_advantages(rewards, scale)
    assert advantages[:2].abs().max() == 0
    assert advantages[2].abs().min() > 0.1


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
    new = torch.tensor([[0.1, 0.3, 0.9]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    assert importance_ratio(new, old, mask, "token")[0].tolist() == pytest.approx(
        [math.exp(0.1), math.exp(0.3), math.exp(0.9)]
    )
    sequence = importance_ratio(new, old, mask, "sequence")
    # the mean of the unmasked log-ratios is 0.2 (the masked 0.9 does not count): every token
    # carries exp(0.2), and each token's gradient is its own, scaled by the sequence ratio
    assert sequence[0].tolist() == pytest.approx([math.exp(0.2)] * 3)
    sequence[0, 0].backward()
    assert new.grad[0].tolist() == pytest.approx([math.exp(0.2), 0.0, 0.0])


def test_gspo_with_sequence_mean_gives_the_papers_sequence_gradient():
    """GSPO: ∇ s_i = s_i · 1/|o_i| Σ_t ∇ log π_t. The per-token form with sequence-mean aggregation
    (grpo) must give exactly that, and token-mean (dapo) in general does not."""
    old = torch.tensor([[-1.0, -2.0, -0.5], [-0.3, -0.7, 0.0]])
    new = torch.tensor([[-0.9, -2.1, -0.4], [-0.2, -0.75, 0.0]], requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    advantages = torch.tensor([1.0, -0.5])
    ratio = importance_ratio(new, old, mask, "sequence")
    loss, _, _ = clipped_objective(ratio, advantages, 10.0, 10.0)  # wide: nothing clips
    aggregate(loss, mask, "grpo", num_sequences=2, num_tokens=5, max_tokens=3).backward()
    lengths = mask.sum(1)
    s = torch.exp(((new.detach() - old) * mask).sum(1) / lengths)
    expected = -(advantages * s / lengths).unsqueeze(1) * mask / 2  # d/d log π_t of -1/N Σ_i A_i s_i
    assert torch.allclose(new.grad, expected, atol=1e-6)
    assert float(s[0]) == pytest.approx(math.exp(0.1 / 3)) and float(s[1]) != pytest.approx(1.0)


def test_a_second_pass_clips_exactly_the_hand_computed_tokens():
    """μ > 1: on the second pass the policy has moved, the ratios are not 1, and the clipped
    surrogate takes the hand-computed values, with no gradient through clipped tokens."""
    old = torch.zeros(1, 6)
    ratios = [0.5, 0.9, 1.5, 1.1, 0.5, 1.5]
    advantages = torch.tensor([[-2.0, -2.0, 2.0, 2.0, 2.0, -2.0]])
    new = torch.log(torch.tensor([ratios])).requires_grad_(True)
    ratio = importance_ratio(new, old, torch.ones(1, 6), "token")
    loss, low, high = clipped_objective(ratio, advantages, eps_low=0.2, eps_high=0.28)
    # token 0: A<0, r=0.5 < 0.8 -> -min(-1.0, -1.6) = 1.6 (clipped, no gradient)
    # token 1: A<0, r=0.9 inside -> 1.8;   token 2: A>0, r=1.5 > 1.28 -> -2.56 (clipped)
    # token 3: A>0, r=1.1 inside -> -2.2;  token 4: A>0, r=0.5: min(1.0, 1.6) = 1.0 -> -1.0, unclipped
    # token 5: A<0, r=1.5: min(-3.0, -2.56) = -3.0 -> 3.0, unclipped (the pessimistic side)
    assert loss[0].tolist() == pytest.approx([1.6, 1.8, -2.56, -2.2, -1.0, 3.0])
    assert low[0].tolist() == [True, False, False, False, False, False]
    assert high[0].tolist() == [False, False, True, False, False, False]
    loss.sum().backward()
    # d(-r A)/d log r = -r A where unclipped, 0 where clipped
    assert new.grad[0].tolist() == pytest.approx([0.0, 1.8, 0.0, -2.2, -1.0, 3.0])


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
