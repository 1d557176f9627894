"""Median GRPO step time: rlvr's trainer against TRL's `GRPOTrainer`, measured in one run.

Both get the same model, the same prompts (the R1-Zero template on the built-in arithmetic suite,
as plain strings), G completions per prompt, the same new-token limit, fp32, the same reward
(rlvr's `format=0.5,math=1.0` with the <think> prefill), no KL and one optimizer step per batch.
TRL runs with its default activation checkpointing. rlvr runs twice: `rlvr-hf` with checkpointing
on, and `rlvr-hf-shared` with it off, so that each prompt's forward is shared by its G completions
(exact; transformers drops the KV cache inside checkpointed layers). Neither skips zero-reward groups
(rlvr's `skip_flat_groups`, which leaves them out of the backward pass, is off here). Each trainer
runs in its own process; the first step (warm-up) is left out of the median.

    .venv/bin/python perf/train_step.py --steps 6            # rlvr (HF generate), TRL
    .venv/bin/python perf/train_step.py --steps 6 --vllm     # + rlvr with vLLM rollouts, colocated and served
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REWARD = "format=0.5,math=1.0"


def prompts(count: int) -> list[dict]:
    from rlvr.benchmarks import load_problems, render_prompt

    problems = load_problems("arith", limit=count, seed=0, split="train")
    return [{"prompt": render_prompt(p.question, "r1_zero"), "answer": p.answer} for p in problems]


def run_rlvr(args: argparse.Namespace, rollout: str, checkpointing: bool) -> list[float]:
    from rlvr.trainer import GRPOConfig, GRPOTrainer

    data = Path(args.work) / "prompts.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in prompts(args.prompts * args.steps)))
    config = GRPOConfig(
        model=args.model,
        data=str(data),
        question_field="prompt",
        template="raw",
        num_prompts=args.prompts * args.steps,
        prompts_per_step=args.prompts,
        samples_per_prompt=args.generations,
        max_new_tokens=args.max_tokens,
        temperature=1.0,
        learning_rate=1e-6,
        steps=args.steps,
        micro_batch_size=args.prompts * args.generations,
        gradient_checkpointing=checkpointing,
        dtype="float32",
        rollout=rollout,
        beta=0.0,
        loss_aggregation="dapo",
        skip_flat_groups=False,  # the same work as TRL, which backpropagates every group
        output_dir=str(Path(args.work) / f"rlvr-{rollout}"),
        resume=False,
        log_entropy=False,
    )
    from rlvr.verifiers import parse_spec

    trainer = GRPOTrainer(config, reward=parse_spec(REWARD, prefilled_think=True))
    try:
        history = trainer.train()
        print("sync_time_s", [round(h["sync_time_s"], 3) for h in history], flush=True)
        return [h["step_time_s"] for h in history]
    finally:
        trainer.close()


def run_trl(args: argparse.Namespace) -> list[float]:
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rlvr.verifiers import parse_spec

    reward = parse_spec(REWARD, prefilled_think=True)

    def rlvr_reward(completions: list[str], answer: list[str], **_: object) -> list[float]:
        return [r.score for r in reward.verify_batch(completions, answer)]

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []
            self.start = 0.0

        def on_step_begin(self, *_: object, **__: object) -> None:
            self.start = time.perf_counter()

        def on_step_end(self, *_: object, **__: object) -> None:
            self.times.append(time.perf_counter() - self.start)

    timer = StepTimer()
    batch = args.prompts * args.generations
    config = GRPOConfig(
        output_dir=str(Path(args.work) / "trl"),
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=1,
        num_generations=args.generations,
        max_completion_length=args.max_tokens,
        temperature=1.0,
        learning_rate=1e-6,
        max_steps=args.steps,
        beta=0.0,
        loss_type="dapo",
        gradient_checkpointing=True,
        bf16=False,
        use_cpu=True,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_vllm=False,
        num_iterations=1,
        seed=0,
        shuffle_dataset=False,
    )
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=rlvr_reward,
        args=config,
        train_dataset=Dataset.from_list(prompts(args.prompts * args.steps)),
        callbacks=[timer],
    )
    trainer.train()
    return timer.times


def child(args: argparse.Namespace) -> None:
    if args.child == "trl":
        times = run_trl(args)
    else:  # rlvr-ROLLOUT[-shared]: "shared" = checkpointing off, each prompt's forward shared by its group
        parts = args.child.split("-")
        times = run_rlvr(args, parts[1], checkpointing=parts[-1] != "shared")
    Path(args.result).write_text(json.dumps(times))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct"))
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--vllm", action="store_true", help="also time rlvr with vLLM rollouts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    from rlvr.errors import ConfigError
    from rlvr.models import require_local_model

    try:  # one line naming the command that prepares the model, not a transformers traceback
        require_local_model(args.model, field="--model")
    except ConfigError as exc:
        sys.exit(str(exc))
    work = Path(tempfile.mkdtemp(prefix="rlvr-train-step-"))
    medians = {}
    extra = ["rlvr-vllm-shared", "rlvr-vllm_server-shared"] if args.vllm else []
    for name in ["rlvr-hf", "rlvr-hf-shared", "trl"] + extra:
        result = work / f"{name}.json"
        cmd = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--result",
            str(result),
            "--work",
            str(work),
            "--model",
            args.model,
            "--steps",
            str(args.steps),
            "--prompts",
            str(args.prompts),
            "--generations",
            str(args.generations),
            "--max-tokens",
            str(args.max_tokens),
        ]
        with (work / f"{name}.log").open("w") as log:
            code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
        if code != 0:
            sys.exit(f"{name} failed ({code}); see {work / (name + '.log')}")
        times = json.loads(result.read_text())
        medians[name] = statistics.median(times[1:] if len(times) > 1 else times)
        print(
            f"  {name:10s} steps {', '.join(f'{t:.1f}' for t in times)} s; median after warm-up {medians[name]:.2f} s"
        )
    print(
        f"{args.prompts} prompts x {args.generations} generations, <= {args.max_tokens} new tokens, fp32; work dir {work}"
    )
    for name in medians:
        print(f"  {name:10s} {medians[name]:6.2f} s/step   ratio to TRL {medians[name] / medians['trl']:.3f}")
    for name in ("rlvr-hf", "rlvr-hf-shared"):
        print(f"{name} / TRL = {medians[name] / medians['trl']:.3f} (target <= 0.7)")


if __name__ == "__main__":
    main()
