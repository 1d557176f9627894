"""Helpers of the trainer tests: a tiny model whose generation_config tries to change sampling."""

from __future__ import annotations

from pathlib import Path

# What the model's generation_config.json asks for; every rollout path must ignore all of it
# except the end ids, which it must honour.
HOSTILE_GENERATION = {"repetition_penalty": 2.0, "top_k": 5, "min_p": 0.2, "temperature": 0.3, "top_p": 0.5}
SHARPNESS = 3.0  # logits of the random model scaled up: the likeliest next token gets ~30%


def make_sampling_model(directory: Path) -> str:
    """The tiny random Llama with sharp next-token distributions and a generation config that sets
    a repetition penalty, top-k, min-p, temperature, top-p and two end ids: EOS and the printable
    character the model writes most (so that completions do end at the second one)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.models import tiny_llama

    path = Path(tiny_llama(directory, seed=3))
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    with torch.no_grad():
        model.model.norm.weight.mul_(SHARPNESS)
    generation = model.generation_config
    for key, value in HOSTILE_GENERATION.items():
        setattr(generation, key, value)
    generation.do_sample = True
    generation.eos_token_id = [tokenizer.eos_token_id, likeliest_char(model, tokenizer)]
    model.save_pretrained(path)
    return str(path)


def likeliest_char(model, tokenizer) -> int:
    import torch

    with torch.no_grad():
        ids = torch.tensor([tokenizer("say something").input_ids])
        probs = torch.softmax(model(input_ids=ids).logits[0], dim=-1).mean(0)
    printable = [i for token, i in tokenizer.get_vocab().items() if len(token) == 1 and token.isprintable()]
    return max(printable, key=lambda i: float(probs[i]))


class HasLetter:
    """Reward 1 when the completion contains an 'x' (a random tiny model writes one in ~7% of 8-token
    completions), else 0: many groups are all-zero, so dynamic sampling refills."""

    def verify_batch(self, completions, answers=None, workers=None, *, lengths=None):
        from rlvr.types import VerifyResult

        return [
            VerifyResult(score=float("x" in t), details={"scores": {"letter": float("x" in t)}})
            for t in completions
        ]
