"""Evaluation during training: at step 0, every eval_every steps and at the end, through the
trainer's own rollout engine, as normal bench run directories and metrics lines; eval problems
that are also training problems are refused."""

from __future__ import annotations

import json

import pytest
from test_grpo_tiny import CountLetter, prompts_file_at, tiny_config

from rlvr.errors import ConfigError

pytest.importorskip("torch")


def test_hf_rollout_evaluates_at_0_every_n_and_the_end(tiny_model, tmp_path):
    from rlvr.trainer import GRPOTrainer
    from rlvr.trainer.plot import plot_run

    config = tiny_config(
        tiny_model,
        prompts_file_at(tmp_path),
        tmp_path,
        steps=3,
        eval=["arith"],
        eval_every=2,
        eval_limit=6,
        eval_max_new_tokens=6,
    )
    trainer = GRPOTrainer(config, reward=CountLetter())
    try:
        trainer.train()
        assert trainer.model.training  # evaluation left the policy in its mode
    finally:
        trainer.close()
    run = tmp_path / "run"
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r.get("kind") == "eval"]
    assert [r["step"] for r in evals] == [0, 2, 3]
    assert [r["step"] for r in records if r.get("kind") != "eval"] == [1, 2, 3]
    for record in evals:
        assert record["eval/arith/problems"] == 6
        assert (
            0 <= record["eval/arith/ci_low"] <= record["eval/arith/accuracy"] <= record["eval/arith/ci_high"]
        )
        assert "eval/arith/reward/letter" in record  # the training reward on the eval completions
        assert 0 <= record["eval/arith/answered"] <= 1  # the share with a final answer found
        results = json.loads((run / "eval" / f"step_{record['step']}" / "results.json").read_text())
        assert results["benchmarks"]["arith"]["problems"] == 6
        assert (run / "eval" / f"step_{record['step']}" / "details.parquet").exists()
    samples = (run / "eval" / "step_0" / "samples.jsonl").read_text().splitlines()
    assert all(len(json.loads(s)["samples"]) == 1 for s in samples)
    assert (run / "final" / "config.json").exists() and (run / "final" / "model.safetensors").exists()
    assert any(p.name == "eval.png" for p in plot_run(run))


def test_eval_problems_in_the_training_data_are_refused(tiny_model, tmp_path):
    from rlvr.benchmarks.runner import load_suites
    from rlvr.trainer import GRPOTrainer
    from rlvr.trainer.evaluation import bench_config

    data = tmp_path / "train.jsonl"
    config = tiny_config(tiny_model, data, tmp_path, num_prompts=1, eval=["arith"], eval_limit=3)
    leaked = load_suites(bench_config(config))[0].problems[1]  # the eval's second problem
    data.write_text(json.dumps({"prompt": leaked.question, "answer": leaked.answer}) + "\n")
    with pytest.raises(ConfigError, match="eval.*also in the training data"):
        GRPOTrainer(config, reward=CountLetter())


def test_eval_split_takes_a_generators_held_out_questions():
    """Training on `arith_easy`'s train split and evaluating on its test split: the two never share a
    question, and the eval config says which split it took."""
    from rlvr.benchmarks import load_problems
    from rlvr.benchmarks.runner import load_suites
    from rlvr.trainer import GRPOConfig
    from rlvr.trainer.evaluation import bench_config, check_no_overlap

    config = GRPOConfig(model="m", data="arith_easy", eval=["arith_easy"], eval_split="test", eval_limit=200)
    suite = load_suites(bench_config(config))[0]
    assert len(suite.problems) == 200 and {p.split for p in suite.problems} == {"test"}
    train = load_problems("arith_easy", limit=1000, split="train")
    check_no_overlap([p.question for p in train], [suite])  # raises on any shared question
    unsplit = load_suites(bench_config(config.model_copy(update={"eval_split": None})))[0]
    with pytest.raises(ConfigError, match="also in the training data"):
        check_no_overlap([p.question for p in train], [unsplit])


@pytest.mark.parametrize("name", ["grpo_arith_smollm2.yaml", "grpo_accuracy_smollm2.yaml"])
def test_the_shipped_learning_runs_are_valid_and_evaluate_on_held_out_problems(name):
    """The example configs validate, their reward builds, and every eval problem is unseen in training."""
    from pathlib import Path

    from rlvr.benchmarks import load_problems
    from rlvr.benchmarks.runner import load_suites
    from rlvr.trainer import GRPOConfig
    from rlvr.trainer.evaluation import bench_config, check_no_overlap
    from rlvr.verifiers import get_verifier

    config = GRPOConfig.from_file(Path(__file__).resolve().parents[2] / "examples" / name)
    get_verifier(config.reward, **config.reward_options)
    train = load_problems(config.data, limit=config.num_prompts, split=config.split, seed=config.seed)
    assert len(train) == config.num_prompts
    if config.eval:
        suites = load_suites(bench_config(config))
        assert sum(len(s.problems) for s in suites) >= 200
        check_no_overlap([p.question for p in train], suites)
