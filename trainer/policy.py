"""The policy model: loading (dtype, LoRA, activation checkpointing) and log-probs of completions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from .algorithms import token_entropy, token_log_probs


def resolve_dtype(name: str) -> torch.dtype:
    """`auto`: bf16 on GPU; fp32 on CPU, where bf16 matmuls are emulated and slower on most CPUs."""
    if name == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]


def load_policy(
    model_name: str,
    dtype: str = "auto",
    gradient_checkpointing: bool = True,
    lora_r: int = 0,
    lora_alpha: int = 32,
    lora_target_modules: list[str] | str = "all-linear",
) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.models import require_local_model

    tokenizer = AutoTokenizer.from_pretrained(require_local_model(model_name))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_name, dtype=resolve_dtype(dtype))
    if torch.cuda.is_available():
        model = model.to("cuda")
    model.config.use_cache = False
    if gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if lora_r > 0:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model,
            LoraConfig(
                r=lora_r, lora_alpha=lora_alpha, target_modules=lora_target_modules, task_type="CAUSAL_LM"
            ),
        )
    return model, tokenizer


@contextmanager
def eval_mode(model: Any) -> Iterator[Any]:
    """Dropout off for log-probs that are not trained through (π_old, π_ref, logged values): with
    dropout on, the same tokens would get different log-probs on every call. The gradient pass
    runs in the policy's own mode; that mode is restored on exit."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@dataclass
class Batch:
    """Prompts left-padded to one width P and completions right-padded to one width C, so every
    completion starts at column P and only the last C+1 logits are needed."""

    input_ids: torch.Tensor  # (B, P + C)
    attention_mask: torch.Tensor  # (B, P + C)
    completion_ids: torch.Tensor  # (B, C)
    completion_mask: torch.Tensor  # (B, C): 1 on real completion tokens

    def rows(self, start: int, stop: int) -> Batch:
        return Batch(
            *(
                t[start:stop]
                for t in (self.input_ids, self.attention_mask, self.completion_ids, self.completion_mask)
            )
        )

    def select(self, index: torch.Tensor) -> Batch:
        """The rows at `index` (a long tensor), in that order."""
        return Batch(
            *(
                t[index]
                for t in (self.input_ids, self.attention_mask, self.completion_ids, self.completion_mask)
            )
        )

    def __len__(self) -> int:
        return self.input_ids.shape[0]


def make_batch(
    prompts: list[list[int]], completions: list[list[int]], pad_id: int, device: Any = "cpu"
) -> Batch:
    width_p = max(len(p) for p in prompts)
    width_c = max(1, max(len(c) for c in completions))
    rows, masks, comp, comp_mask = [], [], [], []
    for prompt, completion in zip(prompts, completions):
        left = width_p - len(prompt)
        right = width_c - len(completion)
        rows.append([pad_id] * left + prompt + completion + [pad_id] * right)
        masks.append([0] * left + [1] * (len(prompt) + len(completion)) + [0] * right)
        comp.append(completion + [pad_id] * right)
        comp_mask.append([1] * len(completion) + [0] * right)

    def tensor(x: list) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.long, device=device)

    return Batch(tensor(rows), tensor(masks), tensor(comp), tensor(comp_mask).float())


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids from the attention mask, as generation computes them: left padding does not
    shift them."""
    return (attention_mask.cumsum(-1) - 1).clamp(min=0)


def _scored(
    logits: torch.Tensor, completion_ids: torch.Tensor, temperature: float, with_entropy: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probs of the completion tokens under `logits` (row t predicts token t), and the entropy."""
    log_probs = token_log_probs(logits, completion_ids, temperature)
    if not with_entropy:
        return log_probs, None
    with torch.no_grad():
        return log_probs, token_entropy(logits.detach(), temperature)


def completion_log_probs(
    model: Any, batch: Batch, temperature: float = 1.0, with_entropy: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """log π(token) for each completion token, at the sampling temperature."""
    width_c = batch.completion_ids.shape[1]
    logits = model(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        position_ids=positions(batch.attention_mask),
        logits_to_keep=width_c + 1,
        use_cache=False,
    ).logits[:, :-1]
    return _scored(logits, batch.completion_ids, temperature, with_entropy)


def grouped_completion_log_probs(
    model: Any, batch: Batch, group_size: int, temperature: float = 1.0, with_entropy: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The same log-probs as `completion_log_probs`, exactly, with each prompt run once per group:
    the G completions of a prompt attend to one shared key/value cache, repeated G times (gradients
    from all G flow back into it). Rows must come in whole groups. On the R1-Zero template the
    prompt is about 60% of each sequence, so this removes over half the training compute.

    Needs activation checkpointing off: transformers drops the cache in checkpointed layers."""
    width_c = batch.completion_ids.shape[1]
    width_p = batch.input_ids.shape[1] - width_c
    prompt_ids = batch.input_ids[::group_size, :width_p]
    prompt_mask = batch.attention_mask[::group_size, :width_p]
    prompt = model(
        input_ids=prompt_ids,
        attention_mask=prompt_mask,
        use_cache=True,
        logits_to_keep=1,
        position_ids=positions(prompt_mask),
    )
    cache = prompt.past_key_values
    cache.batch_repeat_interleave(group_size)
    rest = model(
        input_ids=batch.completion_ids,
        attention_mask=batch.attention_mask,
        position_ids=positions(batch.attention_mask)[:, width_p:],
        past_key_values=cache,
        use_cache=True,
        logits_to_keep=width_c,
    )
    # the prompt's last position predicts completion token 0; completion position t predicts t + 1
    logits = torch.cat(
        [prompt.logits[:, -1:].repeat_interleave(group_size, dim=0), rest.logits[:, :-1]], dim=1
    )
    return _scored(logits, batch.completion_ids, temperature, with_entropy)
