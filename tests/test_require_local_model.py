"""A local-looking model path that does not exist fails with one line naming the command that
prepares it, in the library, the engines, the trainer, `rlvr bench` and perf/train_step.py,
instead of transformers' "Repo id must be in the form ..." traceback (issue 14)."""

import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.errors import ConfigError
from rlvr.models import require_local_model

ROOT = Path(__file__).resolve().parents[1]
MISSING = "models/SmolLM2-135M-Instruct-missing"


def test_missing_local_paths_name_the_command(tmp_path):
    with pytest.raises(ConfigError, match=r"python -m rlvr\.models smollm2 models/SmolLM2"):
        require_local_model(MISSING)
    with pytest.raises(ConfigError, match=r"python -m rlvr\.models tiny ./tiny-llama"):
        require_local_model("./tiny-llama")
    with pytest.raises(ConfigError, match="does not exist; give an existing model folder"):
        require_local_model(str(tmp_path / "other"))


def test_existing_paths_and_hub_ids_pass_unchanged(tmp_path):
    assert require_local_model(str(tmp_path)) == str(tmp_path)
    assert require_local_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_the_hf_engine_and_the_trainer_check_before_loading():
    from rlvr.engines.hf_engine import HFEngine
    from rlvr.trainer.policy import load_policy

    with pytest.raises(ConfigError, match="python -m rlvr.models smollm2"):
        HFEngine(MISSING)
    with pytest.raises(ConfigError, match="python -m rlvr.models smollm2"):
        load_policy(MISSING)


def test_rlvr_bench_says_it_in_one_line(tmp_path):
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("rlvr")),
            "bench",
            "run",
            "arith",
            "--model",
            MISSING,
            "--engine",
            "hf",
            "--out",
            str(tmp_path / "run"),
            "--limit",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "python -m rlvr.models smollm2" in lines[0], proc.stderr


def test_perf_train_step_says_it_in_one_line():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "perf" / "train_step.py"), "--model", MISSING],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"--model: {MISSING!r} does not exist; prepare it with `python -m rlvr.models smollm2 {MISSING}` (or scripts/demo.sh)"
    ]
