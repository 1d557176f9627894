"""Evaluation during training: the current weights, through the rollout engine already in the
process, scored by the benchmark runner, at step 0, every `eval_every` steps and at the end.

Each evaluation is a normal `rlvr bench` run directory, `OUTPUT_DIR/eval/step_K/` (results.json,
details.parquet, report.md), so `rlvr bench compare` works across steps; its headline numbers go
to metrics.jsonl as one line with `"kind": "eval"`, and from there to TensorBoard / W&B and the
plot. The completions are also scored with the training reward, so a format component shows
apart from the benchmark's accuracy.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from rlvr.errors import ConfigError
from rlvr.log import get_logger

from .policy import eval_mode

log = get_logger(__name__)


def bench_config(config: Any) -> Any:
    from rlvr.benchmarks.runner import BenchConfig
    from rlvr.engines import SamplingConfig

    greedy = config.eval_temperature == 0
    sampling = SamplingConfig(
        samples_per_prompt=config.eval_samples_per_prompt,
        temperature=config.eval_temperature,
        top_p=1.0,
        top_k=-1,
        max_new_tokens=config.eval_max_new_tokens or config.max_new_tokens,
        seed=config.seed,
        stop=tuple(config.stop),
    )
    if greedy and config.eval_samples_per_prompt > 1:
        raise ConfigError("eval_samples_per_prompt", "greedy evaluation (eval_temperature: 0) takes 1 sample")
    return BenchConfig(
        benchmarks=list(config.eval),
        model=config.model,
        engine=config.rollout if config.rollout != "vllm_server" else "openai",
        sampling=sampling,
        template=config.eval_template or config.template,
        limit=config.eval_limit,
        split=config.eval_split,
        seed=config.seed,
    )


def check_no_overlap(train_questions: list[str], suites: list[Any]) -> None:
    """Problems used for evaluation must never be drawn for training."""
    seen = {_normal(q) for q in train_questions}
    for suite in suites:
        shared = [p for p in suite.problems if _normal(p.question) in seen]
        if shared:
            raise ConfigError(
                "eval",
                f"{len(shared)} of the {len(suite.problems)} problems of eval benchmark {suite.name!r} are "
                f"also in the training data (e.g. {shared[0].question[:80]!r}); evaluate on held-out "
                "problems (a test split) or train on other data",
            )


def _normal(question: str) -> str:
    return " ".join(question.split()).lower()


class TrainingEvaluator:
    """Runs the benchmark runner on the trainer's live rollout engine."""

    def __init__(self, trainer: Any) -> None:
        from rlvr.benchmarks.runner import load_suites

        self.trainer = trainer
        self.config = bench_config(trainer.config)
        self.suites = load_suites(self.config)
        check_no_overlap([p.question for p in trainer.problems], self.suites)
        self.root = Path(trainer.config.output_dir) / "eval"

    def longest_request(self, tokenizer: Any) -> int:
        """Tokens of the longest eval prompt and its new-token limit: the rollout engine's context
        must hold the evaluation too."""
        from rlvr.benchmarks.templates import render_prompt
        from rlvr.engines import prompt_token_ids

        c = self.config
        longest = max(
            len(
                prompt_token_ids(
                    tokenizer,
                    render_prompt(
                        p.question, c.template, kind=s.kind, as_written=s.as_written, think=c.think
                    ),
                )
            )
            for s in self.suites
            for p in s.problems
        )
        return longest + c.sampling.max_new_tokens

    def engine(self) -> Any:
        rollout = self.trainer.rollout
        kind = self.trainer.config.rollout
        if kind == "vllm":
            from rlvr.engines.vllm_engine import VLLMEngine

            return VLLMEngine.from_llm(rollout.llm)
        if kind == "vllm_server":
            from rlvr.engines.openai_engine import OpenAIEngine

            return OpenAIEngine(rollout.model_name, base_url=f"{rollout.url}/v1")
        from rlvr.engines.hf_engine import HFEngine

        return HFEngine.from_model(self.trainer.model, self.trainer.tokenizer)

    def run(self, step: int) -> dict[str, Any]:
        """Evaluate the current weights (the rollout engine is synced after every step) and log."""
        from rlvr.benchmarks.runner import run_benchmarks

        out = self.root / f"step_{step}"
        shutil.rmtree(out, ignore_errors=True)  # a run killed here left samples of other weights
        started = time.perf_counter()
        engine = self.engine()
        try:
            with eval_mode(self.trainer.model):
                results = run_benchmarks(self.config, out, engine=engine)
        finally:
            if self.trainer.config.rollout == "vllm_server":
                engine.close()
        record: dict[str, Any] = {"step": step, "kind": "eval"}
        for name, metrics in results["benchmarks"].items():
            record.update(headline(name, metrics))
        record.update(answered_shares(out))
        record.update(self.reward_components(out))
        record["eval_time_s"] = time.perf_counter() - started
        self.trainer.log.write(record)
        log.info(
            "eval at step %d: %s",
            step,
            ", ".join(f"{k} {v:.3f}" for k, v in record.items() if k.endswith("/accuracy")),
        )
        return record

    def reward_components(self, out: Path) -> dict[str, float]:
        """The training reward's components (e.g. format) on the eval completions, per benchmark."""
        answers = {(s.name, p.id): p.answer for s in self.suites for p in s.problems}
        texts: dict[str, list[tuple[str, Any]]] = {}
        for line in (out / "samples.jsonl").read_text().splitlines():
            record = json.loads(line)
            answer = answers[(record["benchmark"], record["problem_id"])]
            for sample in record["samples"]:
                texts.setdefault(record["benchmark"], []).append((sample["text"], answer))
        scores: dict[str, float] = {}
        for name, pairs in texts.items():
            results = self.trainer.reward.verify_batch([t for t, _ in pairs], [a for _, a in pairs])
            scores[f"eval/{name}/reward"] = sum(r.score for r in results) / len(results)
            for component in results[0].details.get("scores", {}) if results else ():
                values = [r.details["scores"][component] for r in results]
                scores[f"eval/{name}/reward/{component}"] = sum(values) / len(values)
        return scores


def answered_shares(out: Path) -> dict[str, float]:
    """Per benchmark, the share of completions in which the verifier found a final answer at all:
    the format side of accuracy, so a rise in accuracy can be told apart from a rise in answering."""
    import pandas as pd

    details = pd.read_parquet(out / "details.parquet", columns=["benchmark", "extracted"])
    found = details["extracted"].notna() & (details["extracted"].astype(str) != "")
    return {
        f"eval/{name}/answered": float(share)
        for name, share in found.groupby(details["benchmark"]).mean().items()
    }


def headline(name: str, metrics: dict[str, Any]) -> dict[str, float]:
    """avg@n (greedy: accuracy) with its 95% interval, pass@n and the truncated share."""
    n = metrics["n"]
    avg = metrics[f"avg@{n}"]
    return {
        f"eval/{name}/accuracy": avg["mean"],
        f"eval/{name}/ci_low": avg["ci_low"],
        f"eval/{name}/ci_high": avg["ci_high"],
        f"eval/{name}/pass@{n}": metrics[f"pass@{n}"]["mean"],
        f"eval/{name}/problems": metrics["problems"],
        f"eval/{name}/truncated": metrics["lengths"]["truncated_share"],
        f"eval/{name}/mean_tokens": metrics["lengths"]["mean_tokens"],
    }
