"""What an evaluation during training costs, against `rlvr bench run` of the same suite on the same engine.

One process builds the trainer of a config (vLLM colocated rollout), then runs both, `--rounds` times,
in alternating order (the second of a pair finds vLLM's prefix cache warm):

  eval   the trainer's own evaluation (`TrainingEvaluator.run`: the benchmark runner on the rollout
         engine, plus the training reward's components on the eval completions, plus the metrics line)
  bench  `run_benchmarks` of the same BenchConfig on the same vLLM engine: what `rlvr bench run`
         does once its engine has started

Both generate the same prompts with the same greedy sampling, so the ratio eval/bench is the cost
of evaluating inside the trainer (target <= 1.0 within noise).

    .venv/bin/python perf/train_eval.py examples/grpo_accuracy_smollm2.yaml --rounds 4
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="a trainer config with `eval` set and `rollout: vllm`")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    from rlvr.benchmarks.runner import run_benchmarks
    from rlvr.engines.vllm_engine import VLLMEngine
    from rlvr.trainer import GRPOConfig, GRPOTrainer

    work = Path(tempfile.mkdtemp(prefix="rlvr-train-eval-"))
    config = GRPOConfig.from_file(args.config, output_dir=str(work / "run"), resume=False)
    if not config.eval or config.rollout != "vllm":
        raise SystemExit("the config needs `eval` and `rollout: vllm`")
    trainer = GRPOTrainer(config)
    evaluator = trainer.evaluator
    times: dict[str, list[float]] = {"eval": [], "bench": []}
    try:
        for round_ in range(args.rounds):
            # alternate the order: whichever runs second finds vLLM's prefix cache warm
            for kind in ("eval", "bench") if round_ % 2 == 0 else ("bench", "eval"):
                started = time.perf_counter()
                if kind == "eval":
                    evaluator.run(0)
                else:
                    engine = VLLMEngine.from_llm(trainer.rollout.llm)
                    run_benchmarks(evaluator.config, work / f"bench_{round_}", engine=engine)
                times[kind].append(time.perf_counter() - started)
            print(
                f"round {round_}: eval {times['eval'][-1]:.1f} s, bench {times['bench'][-1]:.1f} s",
                flush=True,
            )
    finally:
        trainer.close()
    problems = sum(len(s.problems) for s in evaluator.suites)
    eval_s, bench_s = statistics.median(times["eval"]), statistics.median(times["bench"])
    print(f"{problems} problems ({', '.join(config.eval)}), median of {args.rounds} rounds")
    print(f"eval during training  {eval_s:7.1f} s")
    print(f"rlvr bench run        {bench_s:7.1f} s   (same engine, started)")
    print(f"ratio eval/bench      {eval_s / bench_s:7.3f}   (target <= 1.0)")


if __name__ == "__main__":
    main()
