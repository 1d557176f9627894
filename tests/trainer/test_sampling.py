"""The samples come from the distribution that is trained, softmax(logits / T), on every rollout
path, whatever the model's generation_config asks for; completions end at every end id; and
the log-probs the trainer does not train through are deterministic and padding-free.

The statistical bound: N tokens are sampled at one position and their counts are compared with
N·softmax(logits / T) by Pearson's chi-square over bins of expected count ≥ 5 (the rest merged).
Under the right distribution the statistic stays below its 1 − 1e-6 quantile (Wilson–Hilferty);
a false alarm has probability 1e-6. Each test also checks that the distribution the model's
generation_config would give lies far beyond that bound, so the check can fail."""

from __future__ import annotations

import math

import pytest
from trainer_helpers import HOSTILE_GENERATION

torch = pytest.importorskip("torch")

SAMPLES = 4000
TEMPERATURE = 0.7
PROMPT = "hello there"
Z_1E6 = 4.753  # standard normal quantile of 1 - 1e-6


def chi_square_bound(dof: int, z: float = Z_1E6) -> float:
    """The chi-square quantile by Wilson–Hilferty (accurate to well under 1% for dof ≥ 10)."""
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def chi_square(counts: torch.Tensor, probs: torch.Tensor) -> tuple[float, int]:
    """Pearson's statistic of `counts` against `probs`, bins with expected count < 5 merged."""
    expected = probs * counts.sum()
    big = expected >= 5
    observed = torch.cat([counts[big], counts[~big].sum().unsqueeze(0)])
    expected = torch.cat([expected[big], expected[~big].sum().unsqueeze(0)])
    keep = expected > 0
    statistic = float((((observed - expected) ** 2)[keep] / expected[keep]).sum())
    return statistic, int(keep.sum()) - 1


def trained_distribution(model_path: str) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """The prompt, softmax(logits / T) of its next token, and what generation_config would sample."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    prompt = tokenizer(PROMPT).input_ids
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt])).logits[0, -1].double()
    trained = torch.softmax(logits / TEMPERATURE, dim=-1)
    return prompt, trained, configured_distribution(logits, prompt)


def configured_distribution(logits: torch.Tensor, prompt: list[int]) -> torch.Tensor:
    """The distribution the hostile generation_config would give at temperature T: repetition
    penalty on the prompt's tokens, then top-k and min-p (as transformers applies them)."""
    logits = logits.clone()
    seen = torch.tensor(sorted(set(prompt)))
    penalty = HOSTILE_GENERATION["repetition_penalty"]
    logits[seen] = torch.where(logits[seen] > 0, logits[seen] / penalty, logits[seen] * penalty)
    logits = logits / TEMPERATURE
    kth = logits.topk(HOSTILE_GENERATION["top_k"]).values[-1]
    logits[logits < kth] = -math.inf
    probs = torch.softmax(logits, dim=-1)
    probs[probs < HOSTILE_GENERATION["min_p"] * probs.max()] = 0
    return probs / probs.sum()


def check_first_tokens(rollout, model_path: str) -> None:
    """Sample N first tokens through `rollout` and compare them with softmax(logits / T)."""
    prompt, trained, configured = trained_distribution(model_path)
    groups = rollout.generate([prompt], SAMPLES, 1, TEMPERATURE, 1.0, seed=11)
    tokens = [s.completion_ids[0] for s in groups[0]]
    assert len(tokens) == SAMPLES
    counts = torch.bincount(torch.tensor(tokens), minlength=len(trained)).double()
    statistic, dof = chi_square(counts, trained)
    bound = chi_square_bound(dof)
    # the check has power: the generation_config's distribution is far outside the bound
    shifted = SAMPLES * float(((configured - trained) ** 2 / trained).sum())
    assert shifted > 20 * bound, (shifted, bound)
    assert statistic < bound, (statistic, bound, dof)


def check_end_ids(rollout, model_path: str) -> None:
    """Every end id of generation_config (a list here: EOS and a frequent character) ends a
    completion: no end id inside, and a completion ending in one is not truncated."""
    from transformers import AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    end_ids = GenerationConfig.from_pretrained(model_path).eos_token_id
    assert isinstance(end_ids, list) and tokenizer.eos_token_id in end_ids and len(end_ids) == 2
    groups = rollout.generate([tokenizer(PROMPT).input_ids], 64, 12, 1.0, 1.0, seed=5)
    samples = groups[0]
    ended_by_second = 0
    for sample in samples:
        ids = sample.completion_ids
        assert not any(t in end_ids for t in ids[:-1]), ids
        if ids and ids[-1] in end_ids:
            assert not sample.truncated
            ended_by_second += ids[-1] == end_ids[1]
        else:
            assert sample.truncated and len(ids) == 12
    assert ended_by_second > 0, [s.completion_ids for s in samples]


@pytest.fixture(scope="module")
def hf_rollout(sampling_model):
    from rlvr.trainer.policy import load_policy
    from rlvr.trainer.rollout import HFRollout

    model, tokenizer = load_policy(sampling_model, "float32", gradient_checkpointing=False)
    return HFRollout(model, tokenizer, batch_prompts=1)


def test_hf_generate_samples_softmax_over_temperature_despite_the_generation_config(
    hf_rollout, sampling_model
):
    check_first_tokens(hf_rollout, sampling_model)


def test_hf_generate_ends_at_every_end_id(hf_rollout, sampling_model):
    check_end_ids(hf_rollout, sampling_model)


def test_nucleus_sampling_is_refused_with_the_reason():
    from rlvr.trainer import GRPOConfig

    with pytest.raises(ValueError, match="(?s)top_p.*truncated distribution"):
        GRPOConfig(model="m", top_p=0.9)


def dropout_model(tiny_model: str, tmp_path) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    model.config.attention_dropout = 0.5
    model.save_pretrained(tmp_path / "dropout")
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(tmp_path / "dropout")
    return str(tmp_path / "dropout")


@pytest.mark.parametrize("share_prompt", [True, False])
def test_old_and_reference_log_probs_are_deterministic_under_dropout(tiny_model, tmp_path, share_prompt):
    from test_grpo_tiny import CountLetter, prompts_file_at, tiny_config

    from rlvr.trainer import GRPOTrainer
    from rlvr.trainer.policy import completion_log_probs

    config = tiny_config(
        dropout_model(tiny_model, tmp_path),
        prompts_file_at(tmp_path),
        tmp_path,
        beta=0.1,
        share_prompt=share_prompt,
        micro_batch_size=8,
    )
    trainer = GRPOTrainer(config, reward=CountLetter())
    try:
        assert trainer.model.training and trainer.model.config.attention_dropout == 0.5
        batch, _ = trainer.build_batch(trainer.collect(2, seed=1))
        first = trainer.log_probs_without_grad(trainer.model, batch)
        second = trainer.log_probs_without_grad(trainer.model, batch)
        assert torch.equal(first, second)
        assert torch.equal(trainer.reference_log_probs(batch), trainer.reference_log_probs(batch))
        assert trainer.model.training  # the gradient pass keeps the policy's own mode
        with torch.no_grad():  # the same call in training mode is not deterministic: dropout is live
            noisy = [completion_log_probs(trainer.model, batch)[0] for _ in range(2)]
        assert not torch.equal(noisy[0], noisy[1])
    finally:
        trainer.close()


@pytest.mark.parametrize("grouped", [False, True])
def test_left_padding_does_not_change_log_probs(tiny_model, grouped):
    from rlvr.trainer.policy import (
        completion_log_probs,
        grouped_completion_log_probs,
        load_policy,
        make_batch,
    )

    model, tokenizer = load_policy(tiny_model, "float32", gradient_checkpointing=False)
    model.eval()
    short = tokenizer("hi").input_ids
    long = tokenizer("a much longer prompt than the other one").input_ids
    completions = [tokenizer(t, add_special_tokens=False).input_ids for t in ("abc", "zz")]

    def log_probs(prompts: list[list[int]], comps: list[list[int]]) -> torch.Tensor:
        batch = make_batch(prompts, comps, tokenizer.pad_token_id)
        with torch.no_grad():
            if grouped:
                return grouped_completion_log_probs(model, batch, 2)[0]
            return completion_log_probs(model, batch)[0]

    alone = log_probs([short, short], completions)
    padded = log_probs([short, short, long, long], completions * 2)[:2]  # short is left-padded here
    assert padded.shape == alone.shape
    assert torch.allclose(padded, alone, atol=1e-5, rtol=0), (padded - alone).abs().max()
    assert (alone[0, :3] != 0).all()
