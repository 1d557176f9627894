"""The TRL recipe (examples/trl_grpo_arith.py) runs as written: TRL's own GRPOTrainer calls rlvr's
reward function for two optimizer steps with the tiny model, and logs what it returned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import require

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_trl_grpo_recipe_trains_with_rlvr_rewards(tiny_model, tmp_path):
    require("trl")
    out = tmp_path / "trl-run"
    command = [
        sys.executable,
        str(ROOT / "examples" / "trl_grpo_arith.py"),
        "--model",
        tiny_model,
        "--steps",
        "2",
        "--prompts-per-step",
        "2",
        "--samples-per-prompt",
        "4",
        "--max-new-tokens",
        "8",
        "--output-dir",
        str(out),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads((out / "trainer_state.json").read_text())
    steps = [entry for entry in state["log_history"] if "reward" in entry]
    assert [entry["step"] for entry in steps] == [1, 2]
    for entry in steps:
        rewards = [
            value for key, value in entry.items() if key.startswith("rewards/") and key.endswith("/mean")
        ]
        assert len(rewards) == 1  # the one rlvr reward function, by its name
        # format (partial, at most 1) + math (0 or 1): random tokens earn at most the format share
        assert 0.0 <= rewards[0] <= 2.0
        assert entry["reward"] == pytest.approx(rewards[0])
