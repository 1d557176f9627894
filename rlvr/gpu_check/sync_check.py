"""Does the rollout engine hold the trainer's weights? Compare the engine's log-probs of a fixed
sequence with the policy's own. Used by the trainer's CPU tests and by the GPU check.

`sync_round_trip` repeats the tests' argument on any model: the gap is small now (synced), a
deliberate update of the policy opens it (the engine is stale), and `rollout.sync` closes it again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PROMPT = "hello there"
COMPLETION = " abc def"


def log_prob_gap(
    rollout: Any, model: Any, tokenizer: Any, prompt: str = PROMPT, completion: str = COMPLETION
) -> float:
    """Largest |engine - policy| log-prob over the completion's tokens (teacher-forced)."""
    import torch

    from rlvr.trainer.policy import completion_log_probs, make_batch

    prompt_ids = tokenizer(prompt, add_special_tokens=True).input_ids
    completion_ids = tokenizer(completion, add_special_tokens=False).input_ids
    theirs = rollout.prompt_log_probs(prompt_ids + completion_ids)[len(prompt_ids) - 1 :]
    device = next(model.parameters()).device
    batch = make_batch([prompt_ids], [completion_ids], tokenizer.pad_token_id, device)
    with torch.no_grad():
        ours = completion_log_probs(model, batch)[0][0].float().tolist()
    return max(abs(a - b) for a, b in zip(theirs, ours))


def tolerance(dtype: Any) -> float:
    """fp32 kernels agree to ~1e-5 (the CPU tests' bound is 1e-4); bf16 keeps 8 bits of mantissa, and
    vLLM's kernels and the trainer's accumulate in different orders, so log-probs of the same bf16
    weights differ by up to a few hundredths."""
    return 1e-4 if "float32" in str(dtype) else 0.1


@dataclass(frozen=True)
class SyncCheck:
    gap_synced: float  # now, after the trainer's last sync
    gap_stale: float  # after an update the engine has not seen
    gap_resynced: float  # after `rollout.sync`
    tolerance: float
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_round_trip(rollout: Any, model: Any, tokenizer: Any, lr: float = 0.5) -> SyncCheck:
    """Measure the gap, open it with one SGD step on the policy, close it with a sync. Changes the
    policy's weights: run it when the training is over. `ok` needs both synced gaps within the
    dtype's tolerance and the stale gap clearly larger (else the check could not tell)."""
    import torch

    dtype = next(model.parameters()).dtype
    limit = tolerance(dtype)
    synced = log_prob_gap(rollout, model, tokenizer)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    ids = torch.tensor([tokenizer("xxxxxxxx").input_ids], device=next(model.parameters()).device)
    model(input_ids=ids, labels=ids).loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    stale = log_prob_gap(rollout, model, tokenizer)
    rollout.sync(model)
    resynced = log_prob_gap(rollout, model, tokenizer)
    ok = synced <= limit and resynced <= limit and stale > max(10 * resynced, limit)
    return SyncCheck(synced, stale, resynced, limit, ok)
