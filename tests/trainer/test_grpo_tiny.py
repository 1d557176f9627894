"""The whole loop on a tiny random Llama: it learns a trivial task in a few steps, checkpoints
and resumes, and its config rejects bad values with the field named."""

from __future__ import annotations

import json

import pytest

from rlvr.errors import ConfigError
from rlvr.trainer import GRPOConfig
from rlvr.types import VerifyResult

pytest.importorskip("torch")
pytest.importorskip("transformers")


class CountLetter:
    """Reward: the share of completion characters that are 'x' (a random model writes ~1%)."""

    def verify_batch(self, completions, answers=None, workers=None, *, lengths=None):
        results = []
        for text in completions:
            score = text.count("x") / max(len(text), 1)
            results.append(VerifyResult(score=score, details={"scores": {"letter": score}}))
        return results


def prompts_file_at(directory):
    path = directory / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"say {w}", "answer": "x"}) + "\n" for w in "abcd"))
    return path


@pytest.fixture()
def prompts_file(tmp_path):
    return prompts_file_at(tmp_path)


def tiny_config(tiny_model, prompts_file, tmp_path, **overrides):
    settings = dict(
        model=tiny_model,
        data=str(prompts_file),
        template="plain",
        num_prompts=4,
        prompts_per_step=2,
        samples_per_prompt=8,
        max_new_tokens=8,
        temperature=1.0,
        learning_rate=3e-3,
        steps=12,
        micro_batch_size=8,
        gradient_checkpointing=False,
        output_dir=str(tmp_path / "run"),
        seed=1,
    )
    settings.update(overrides)
    return GRPOConfig(**settings)


def test_a_tiny_model_learns_to_write_the_rewarded_letter(tiny_model, prompts_file, tmp_path):
    from rlvr.trainer import GRPOTrainer

    trainer = GRPOTrainer(tiny_config(tiny_model, prompts_file, tmp_path), reward=CountLetter())
    history = trainer.train()
    trainer.close()
    first = sum(h["reward"] for h in history[:3]) / 3
    last = sum(h["reward"] for h in history[-3:]) / 3
    assert last > first + 0.2, [round(h["reward"], 3) for h in history]
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == list(range(1, 13))
    record = json.loads(lines[-1])
    for key in (
        "reward/letter",
        "zero_std_fraction",
        "clip_low",
        "clip_high",
        "entropy",
        "grad_norm",
        "completion_length",
        "truncated_fraction",
        "step_time_s",
        "rollout_time_s",
        "reward_time_s",
        "train_time_s",
        "sync_time_s",
        "tokens_per_s",
        "completion_length_max",
    ):
        assert key in record
    assert "kl" not in record  # beta 0: no KL is computed


def test_resume_continues_from_the_checkpoint(tiny_model, prompts_file, tmp_path):
    from rlvr.trainer import GRPOTrainer

    trainer = GRPOTrainer(tiny_config(tiny_model, prompts_file, tmp_path, steps=2), reward=CountLetter())
    trainer.train()
    trained = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.close()
    resumed = GRPOTrainer(tiny_config(tiny_model, prompts_file, tmp_path, steps=3), reward=CountLetter())
    from rlvr.trainer.checkpoint import load_latest

    assert load_latest(resumed) and resumed.step == 2
    for key, value in resumed.model.state_dict().items():
        assert (value == trained[key]).all(), key
    resumed.train()
    resumed.close()
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


def test_mu_passes_kl_and_gspo_run_and_log(tiny_model, prompts_file, tmp_path):
    from rlvr.trainer import GRPOTrainer

    config = tiny_config(
        tiny_model,
        prompts_file,
        tmp_path,
        steps=2,
        num_iterations=2,
        beta=0.05,
        ratio_level="sequence",
        loss_aggregation="grpo",
        dynamic_sampling=True,
        advantage_scale="none",
    )
    trainer = GRPOTrainer(config, reward=CountLetter())
    history = trainer.train()
    trainer.close()
    assert len(history) == 2
    assert history[-1]["kl"] > 0  # after the first step the policy has moved away from the reference


def test_bad_config_values_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="samples_per_prompt"):
        GRPOConfig(model="m", samples_per_prompt=1)
    path = tmp_path / "c.yaml"
    path.write_text("model: m\nloss_aggregation: mean\n")
    with pytest.raises(ConfigError, match="loss_aggregation"):
        GRPOConfig.from_file(path)
    path.write_text("model: m\nlearning_rat: 0.1\n")
    with pytest.raises(ConfigError, match="learning_rat"):
        GRPOConfig.from_file(path)


def test_truncated_completions_are_masked_out_of_the_loss(tiny_model, prompts_file, tmp_path):
    from rlvr.trainer import GRPOTrainer

    trainer = GRPOTrainer(
        tiny_config(tiny_model, prompts_file, tmp_path, mask_truncated=True, max_new_tokens=6),
        reward=CountLetter(),
    )
    rollouts = trainer.collect(4, seed=3)
    batch, advantages = trainer.build_batch(rollouts)
    trainer.close()
    truncated = [s.truncated for group in rollouts.samples for s in group]
    assert any(truncated) and advantages.shape == (32,)
    for row, was_truncated in zip(batch.completion_mask, truncated):
        assert (row.sum() == 0) == was_truncated


def test_lora_trains_only_adapters_and_checkpoints_them(tiny_model, prompts_file, tmp_path):
    pytest.importorskip("peft")
    from rlvr.trainer import GRPOTrainer
    from rlvr.trainer.checkpoint import load_latest
    from rlvr.trainer.rollout import trainable_state

    config = tiny_config(tiny_model, prompts_file, tmp_path, steps=2, lora_r=4, lora_alpha=8)
    trainer = GRPOTrainer(config, reward=CountLetter())
    base_before = {k: v.clone() for k, v in trainable_state(trainer.model).items()}
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    trainer.train()
    merged = trainable_state(trainer.model)
    trainer.close()
    assert merged.keys() == base_before.keys()  # checkpoint names, as vLLM's load_weights expects
    assert not any("lora_" in k or "base_layer" in k for k in merged)
    assert any(not (merged[k] == base_before[k]).all() for k in merged)  # the adapters are merged in
    assert (tmp_path / "run" / "checkpoint" / "adapter_model.safetensors").exists()
    resumed = GRPOTrainer(
        tiny_config(tiny_model, prompts_file, tmp_path, steps=3, lora_r=4, lora_alpha=8), reward=CountLetter()
    )
    assert load_latest(resumed) and resumed.step == 2
    for key, value in trainable_state(resumed.model).items():
        assert torch_allclose(value, merged[key]), key
    resumed.close()


def torch_allclose(a, b) -> bool:
    import torch

    return bool(torch.allclose(a, b, atol=1e-6))


def test_hf_rollouts_end_at_the_first_stop_string(tiny_model):
    from rlvr.trainer.policy import load_policy
    from rlvr.trainer.rollout import HFRollout

    model, tokenizer = load_policy(tiny_model, "float32", gradient_checkpointing=False)
    stops = list("abcdefghijklmnopqrstuvwxyz")
    groups = HFRollout(model, tokenizer).generate(
        [tokenizer("go").input_ids], 16, 12, 1.0, 1.0, seed=0, stop=stops
    )
    stopped = [s for s in groups[0] if any(c in s.text for c in stops)]
    assert stopped, [s.text for s in groups[0]]
    for sample in stopped:
        assert sample.text[-1] in stops and not any(c in sample.text[:-1] for c in stops), sample.text
        assert not sample.truncated
        assert tokenizer.decode(sample.completion_ids, skip_special_tokens=True) == sample.text


def test_shared_prompt_forward_gives_the_same_log_probs_and_gradients(tiny_model):
    import torch

    from rlvr.trainer.policy import (
        completion_log_probs,
        grouped_completion_log_probs,
        load_policy,
        make_batch,
    )

    model, tokenizer = load_policy(tiny_model, "float32", gradient_checkpointing=False)
    prompts = [
        tokenizer("say a").input_ids,
        tokenizer("a much longer prompt").input_ids,
    ]  # left padding differs
    completions = [tokenizer(t, add_special_tokens=False).input_ids for t in ("xy", "xyz z", "q", "qqqq")]
    batch = make_batch([prompts[0]] * 2 + [prompts[1]] * 2, completions, tokenizer.pad_token_id)

    def run(fn, *extra):
        model.zero_grad()
        log_probs = fn(model, batch, *extra)[0]
        (log_probs * batch.completion_mask).sum().backward()
        return log_probs.detach(), [p.grad.clone() for p in model.parameters()]

    plain, plain_grads = run(completion_log_probs)
    shared, shared_grads = run(grouped_completion_log_probs, 2)
    mask = batch.completion_mask.bool()
    assert torch.allclose(plain[mask], shared[mask], atol=1e-5)
    for a, b in zip(plain_grads, shared_grads):
        assert torch.allclose(a, b, atol=1e-5)


def test_reward_metrics_cover_every_sampled_group_before_and_after_the_filter(tiny_model, tmp_path):
    """With dynamic sampling, `reward*` and `zero_std_fraction` are over every group sampled in the
    step (refills included) and `trained/reward*` over the groups kept; checked against the
    rewards the trainer's own `collect` returned."""
    import torch
    from trainer_helpers import HasLetter

    from rlvr.trainer import GRPOTrainer

    config = tiny_config(
        tiny_model, prompts_file_at(tmp_path), tmp_path, dynamic_sampling=True, max_refills=3, beta=0.1
    )
    trainer = GRPOTrainer(config, reward=HasLetter())
    seen = []
    collect = trainer.collect

    def recording(count, seed):
        rollouts = collect(count, seed)
        seen.append(rollouts.rewards)
        return rollouts

    trainer.collect = recording
    try:
        for _ in range(6):  # until a step needed a refill
            seen.clear()
            metrics = trainer.train_step()
            if metrics["refills"] > 0:
                break
    finally:
        trainer.close()
    assert metrics["refills"] == len(seen) - 1 > 0
    every = torch.cat(seen)
    assert metrics["groups_sampled"] == len(every) == 2 * len(seen)
    assert metrics["reward"] == pytest.approx(float(every.mean()))
    assert metrics["reward/letter"] == pytest.approx(float(every.mean()))
    assert metrics["reward_std"] == pytest.approx(float(every.std()))
    zero_std = float((every.max(1).values == every.min(1).values).float().mean())
    assert metrics["zero_std_fraction"] == pytest.approx(zero_std) and zero_std > 0
    informative = every[every.max(1).values > every.min(1).values][:2]
    if len(informative):
        assert metrics["groups_trained"] == len(informative)
        assert metrics["trained/reward"] == pytest.approx(float(informative.mean()))
    for key in ("kl", "entropy", "grad_norm", "clip_low", "clip_high", "completion_length_max"):
        assert key in metrics
    for key in ("rollout_time_s", "reward_time_s", "train_time_s", "sync_time_s"):
        assert 0 <= metrics[key] <= metrics["step_time_s"]
    assert metrics["rollout_time_s"] + metrics["train_time_s"] <= metrics["step_time_s"]
