"""The sampling distribution the trainer trains on, spelled out for every rollout engine.

The loss scores each sampled token with softmax(logits / T). Anything else that reshapes the
distribution at sampling time (top-k, top-p, min-p, repetition / presence / frequency penalties,
a minimum length that forbids EOS) would make the samples come from a policy other than the one
whose log-probs are trained. Engines fill unset parameters from the model's
`generation_config.json` (Qwen ships `repetition_penalty: 1.05`, `top_k: 20`), so every
parameter is set here explicitly, to its neutral value, on every path.

A completion ends at any of the model's end tokens: the tokenizer's EOS and every id of
`generation_config.eos_token_id` (often a list, e.g. `<|im_end|>` and `<|endoftext|>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# transformers `generate` arguments that leave softmax(logits / T) unchanged
HF_NEUTRAL: dict[str, Any] = {
    "do_sample": True,
    "num_beams": 1,
    "top_k": 0,
    "min_p": None,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "bad_words_ids": None,
    "sequence_bias": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "min_length": 0,
    "min_new_tokens": None,
    "exponential_decay_length_penalty": None,
    "guidance_scale": None,
    "renormalize_logits": False,
}

# vLLM `SamplingParams` (and OpenAI-style request) fields that leave softmax(logits / T) unchanged
VLLM_NEUTRAL: dict[str, Any] = {
    "top_k": 0,
    "min_p": 0.0,
    "repetition_penalty": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "min_tokens": 0,
    "ignore_eos": False,
}


def end_token_ids(tokenizer: Any, generation_config: Any = None) -> list[int]:
    """Every id that ends a completion: the tokenizer's EOS plus `generation_config.eos_token_id`
    (an int or a list), in a stable order."""
    ids: list[int] = []
    declared = getattr(generation_config, "eos_token_id", None) if generation_config is not None else None
    for value in (tokenizer.eos_token_id, declared):
        for token in value if isinstance(value, list | tuple) else [value]:
            if token is not None and int(token) not in ids:
                ids.append(int(token))
    return ids


def model_generation_config(model: str | Path) -> Any:
    """The model directory's `generation_config.json`, or None when it has none."""
    from transformers import GenerationConfig

    try:
        return GenerationConfig.from_pretrained(str(model))
    except (OSError, ValueError):
        return None


def hf_sampling_kwargs(temperature: float, top_p: float, end_ids: list[int]) -> dict[str, Any]:
    """`generate` kwargs for plain sampling at temperature T, overriding the model's own defaults."""
    return {**HF_NEUTRAL, "temperature": temperature, "top_p": top_p, "eos_token_id": list(end_ids)}


def vllm_sampling_fields(temperature: float, top_p: float, end_ids: list[int]) -> dict[str, Any]:
    """`SamplingParams` / request fields for plain sampling at temperature T: nothing is left for
    vLLM to fill from the model's generation config."""
    return {**VLLM_NEUTRAL, "temperature": temperature, "top_p": top_p, "stop_token_ids": list(end_ids)}
