"""The GRPO family's formulas, one short function each, so every variant can be checked by hand.

Shapes: `rewards` are `(groups, G)`; per-token tensors are `(sequences, tokens)` with a 0/1
`mask` over completion tokens.  Loss functions return a *sum contribution*: adding the values
of all micro-batches of one batch gives that batch's loss, whatever the aggregation, because
the normalizers (`num_sequences`, `num_tokens`) are those of the whole batch.
"""

from __future__ import annotations

from typing import Literal

import torch

AdvantageScale = Literal["group", "batch", "none"]
Aggregation = Literal["grpo", "dr_grpo", "dapo"]
RatioLevel = Literal["token", "sequence"]


def group_advantages(
    rewards: torch.Tensor, scale: AdvantageScale = "group", eps: float = 1e-4
) -> torch.Tensor:
    """(r - group mean) / (std + eps).  `group`: the group's std (GRPO); `batch`: the std of all
    rewards in the batch; `none`: no division (Dr. GRPO, which removes the std's difficulty bias).
    The std is the unbiased one, as in TRL."""
    centered = rewards - rewards.mean(dim=1, keepdim=True)
    # a group whose rewards are all equal has advantage exactly 0: the float mean of eight 0.2s is not
    # exactly 0.2, and (r - mean) / (0 + eps) would otherwise give every sample a spurious ±1e-4
    centered = torch.where(informative_groups(rewards).unsqueeze(1), centered, torch.zeros_like(centered))
    if scale == "none":
        return centered
    if scale == "group":
        std = rewards.std(dim=1, keepdim=True) if rewards.shape[1] > 1 else torch.zeros_like(rewards[:, :1])
    elif scale == "batch":
        std = rewards.std() if rewards.numel() > 1 else torch.zeros(())
    else:
        raise ValueError(f"advantage scale {scale!r} is not one of group, batch, none")
    return centered / (std + eps)


def informative_groups(rewards: torch.Tensor) -> torch.Tensor:
    """DAPO dynamic sampling: a group whose rewards are all equal has zero advantage everywhere and
    teaches nothing; True for the groups worth keeping."""
    return (rewards.max(dim=1).values - rewards.min(dim=1).values) > 0


def token_log_probs(logits: torch.Tensor, token_ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """log p(token) for each position, computed row by row so the full `(B, T, V)` log-softmax
    never exists at once (the vocabulary of small models is 49k-150k wide)."""
    rows = []
    for row_logits, row_ids in zip(logits, token_ids):
        row_logits = row_logits.float() / temperature
        picked = row_logits.gather(-1, row_ids.unsqueeze(-1)).squeeze(-1)
        rows.append(picked - torch.logsumexp(row_logits, dim=-1))
    return torch.stack(rows)


def token_entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Entropy of the policy at each position (for logging only)."""
    rows = []
    for row_logits in logits:
        log_p = torch.log_softmax(row_logits.float() / temperature, dim=-1)
        rows.append(-(log_p.exp() * log_p).sum(-1))
    return torch.stack(rows)


def k3_kl(log_probs: torch.Tensor, ref_log_probs: torch.Tensor) -> torch.Tensor:
    """Per-token KL(policy || reference) with Schulman's k3 estimator: exp(d) - d - 1, d = ref - policy.
    Unbiased and always >= 0."""
    delta = ref_log_probs - log_probs
    return torch.exp(delta) - delta - 1


def importance_ratio(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, mask: torch.Tensor, level: RatioLevel = "token"
) -> torch.Tensor:
    """π/π_old per token (GRPO), or GSPO's sequence ratio exp(mean_t log π/π_old) put on every
    token of the sequence with the token's own gradient: sg[s_i] * π_t / sg[π_t]."""
    log_ratio = log_probs - old_log_probs
    if level == "token":
        return torch.exp(log_ratio)
    if level != "sequence":
        raise ValueError(f"ratio level {level!r} is not one of token, sequence")
    lengths = mask.sum(dim=1).clamp(min=1)
    sequence_log_ratio = (log_ratio * mask).sum(dim=1) / lengths
    return torch.exp(sequence_log_ratio.detach().unsqueeze(1) + log_probs - log_probs.detach())


def clipped_objective(
    ratio: torch.Tensor, advantages: torch.Tensor, eps_low: float, eps_high: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PPO's pessimistic clipped surrogate, as a per-token loss (to minimise), with clip-higher:
    the ratio may fall to 1 - eps_low and rise to 1 + eps_high.  Also returns where the clip
    was active below and above, for the clip-fraction metrics."""
    advantages = advantages.unsqueeze(1) if advantages.dim() == 1 else advantages
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high) * advantages
    loss = -torch.minimum(unclipped, clipped)
    clipped_low = (ratio < 1 - eps_low) & (advantages < 0)
    clipped_high = (ratio > 1 + eps_high) & (advantages > 0)
    return loss, clipped_low, clipped_high


def aggregate(
    per_token: torch.Tensor,
    mask: torch.Tensor,
    mode: Aggregation,
    num_sequences: int,
    num_tokens: int,
    max_tokens: int,
) -> torch.Tensor:
    """Reduce per-token losses to this micro-batch's share of the batch loss.

    grpo     1/N Σ_i 1/|o_i| Σ_t l_it        (mean per sequence, then over sequences)
    dr_grpo  1/(N·L_max) Σ_i Σ_t l_it        (a constant: no length bias)
    dapo     1/(Σ_i |o_i|) Σ_i Σ_t l_it      (token mean over the whole batch)
    """
    masked = per_token * mask
    if mode == "grpo":
        lengths = mask.sum(dim=1).clamp(min=1)
        return (masked.sum(dim=1) / lengths).sum() / num_sequences
    if mode == "dr_grpo":
        return masked.sum() / (num_sequences * max_tokens)
    if mode == "dapo":
        return masked.sum() / max(num_tokens, 1)
    raise ValueError(f"loss aggregation {mode!r} is not one of grpo, dr_grpo, dapo")
