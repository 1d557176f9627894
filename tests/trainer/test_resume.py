"""Resume is exact: a run killed with SIGKILL (a real subprocess) and started again with the same
config ends with the same metrics, problems, parameters and optimizer state as an unbroken run
(CPU, HF rollouts, fixed seeds), with dynamic sampling and with LoRA; and a crash while a
checkpoint is written never loses the previous one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("resume_worker.py")
TIMING = (
    "step_time_s",
    "rollout_time_s",
    "reward_time_s",
    "train_time_s",
    "sync_time_s",
    "tokens_per_s",
    "generation_tokens_per_s",
)


def run_config(tiny_model: str, tmp_path: Path, name: str, **overrides) -> Path:
    from test_grpo_tiny import prompts_file_at

    out = tmp_path / name
    out.mkdir()
    settings = dict(
        model=tiny_model,
        data=str(prompts_file_at(tmp_path)),
        template="plain",
        num_prompts=4,
        prompts_per_step=2,
        samples_per_prompt=8,
        max_new_tokens=8,
        learning_rate=3e-3,
        steps=4,
        save_every=2,
        micro_batch_size=8,
        gradient_checkpointing=False,
        dynamic_sampling=True,
        max_refills=3,
        output_dir=str(out / "run"),
        seed=7,
    )
    settings.update(overrides)
    path = out / "config.json"
    path.write_text(json.dumps(settings))
    return path


def start(config: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER.parent), str(WORKER.parents[1])])}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def metric_lines(run: Path) -> int:
    path = run / "metrics.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


def kill_after(config: Path, lines: int, timeout: float = 300) -> None:
    """Start the run and SIGKILL it as soon as `metrics.jsonl` has `lines` lines."""
    run = Path(json.loads(config.read_text())["output_dir"])
    process = start(config)
    deadline = time.monotonic() + timeout
    while metric_lines(run) < lines:
        assert process.poll() is None, f"the run ended before step {lines}: {process.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()


def finish(config: Path, timeout: float = 600) -> None:
    process = start(config)
    _, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]


def final_state(config: Path) -> tuple[list[dict], dict, dict, dict]:
    from safetensors.torch import load_file

    run = Path(json.loads(config.read_text())["output_dir"])
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for record in metrics:
        for key in TIMING:
            record.pop(key, None)
    checkpoint = run / "checkpoint"
    weights_file = next(checkpoint.glob("*model.safetensors"))
    optimizer = torch.load(checkpoint / "trainer_state.pt", weights_only=False)["optimizer"]
    marker = json.loads((checkpoint / "step.json").read_text())
    return metrics, load_file(str(weights_file)), optimizer, marker


@pytest.mark.parametrize(
    ("lora", "kills"),
    # killed before the first checkpoint (save_every 2), then one step past the one of step 2
    [(False, (1, 3)), (True, (3,))],
    ids=["full", "lora"],
)
def test_a_killed_run_resumes_to_the_unbroken_runs_state(tiny_model, tmp_path, lora, kills):
    overrides = {"lora_r": 4, "lora_alpha": 8} if lora else {}
    unbroken = run_config(tiny_model, tmp_path, "unbroken", **overrides)
    broken = run_config(tiny_model, tmp_path, "broken", **overrides)
    finish(unbroken)
    for lines in kills:
        kill_after(broken, lines)
    finish(broken)

    metrics, weights, optimizer, marker = final_state(broken)
    expected_metrics, expected_weights, expected_optimizer, expected_marker = final_state(unbroken)
    assert [m["step"] for m in metrics] == [1, 2, 3, 4]  # no step twice, none missing
    assert metrics == expected_metrics  # the same problems drawn, samples, rewards and losses
    assert sum(m["refills"] for m in metrics) > 0  # dynamic sampling drew extra problems
    assert marker == expected_marker and marker["problems_drawn"] > 4 * 2
    assert weights.keys() == expected_weights.keys()
    for name, value in weights.items():
        assert torch.allclose(value, expected_weights[name], atol=1e-6, rtol=0), name
    assert trained_away_from_the_start(weights, tiny_model, lora)
    for index, state in expected_optimizer["state"].items():
        for key, value in state.items():
            assert torch.allclose(optimizer["state"][index][key], value, atol=1e-6, rtol=0), (index, key)
    assert any(float(v.abs().max()) > 0 for s in expected_optimizer["state"].values() for v in s.values())


def trained_away_from_the_start(weights: dict, tiny_model: str, lora: bool) -> bool:
    if lora:  # lora_B starts at zero
        return any(float(v.abs().max()) > 0 for k, v in weights.items() if "lora_B" in k)
    from safetensors.torch import load_file

    start = load_file(str(Path(tiny_model) / "model.safetensors"))
    return any(not torch.equal(v, start[k]) for k, v in weights.items() if k in start)


def test_a_crash_while_a_checkpoint_is_written_keeps_the_previous_one(tiny_model, tmp_path, monkeypatch):
    from test_grpo_tiny import prompts_file_at, tiny_config
    from trainer_helpers import HasLetter

    from rlvr.trainer import GRPOTrainer
    from rlvr.trainer import checkpoint as ckpt

    config = tiny_config(tiny_model, prompts_file_at(tmp_path), tmp_path, steps=1)
    trainer = GRPOTrainer(config, reward=HasLetter())
    trainer.train()  # a good checkpoint at step 1
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.train_step()
    assert trainer.step == 2

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(ckpt.torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save(trainer)
    monkeypatch.undo()
    run = tmp_path / "run"
    assert (run / "checkpoint.tmp").exists()  # the half-written one
    assert ckpt.latest(run) == run / "checkpoint"
    assert json.loads((run / "checkpoint" / "step.json").read_text())["step"] == 1

    # struck between moving the previous checkpoint aside and renaming the new one into place
    (run / "checkpoint").rename(run / "checkpoint.old")
    assert ckpt.latest(run) == run / "checkpoint.old"
    trainer.close()
    resumed = GRPOTrainer(config.model_copy(update={"steps": 2}), reward=HasLetter())
    assert ckpt.load_latest(resumed) and resumed.step == 1
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, good[key]), key
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1]  # the line of step 2, never checkpointed, is gone
    resumed.train()  # and the next save cleans up
    resumed.close()
    assert sorted(p.name for p in run.iterdir() if p.name.startswith("checkpoint")) == ["checkpoint"]


def test_a_line_cut_short_by_a_kill_is_dropped(tmp_path):
    from rlvr.trainer.checkpoint import _truncate_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3}\n{"step": 4, "rew')
    _truncate_metrics(path, 3)
    assert path.read_text() == '{"step": 1}\n{"step": 2}\n{"step": 3}\n'
