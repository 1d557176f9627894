#!/usr/bin/env bash
# Prove the GPU path in one unattended run (about 8 minutes on one H100/H200-class GPU): set up
# with the CUDA vllm, fetch SmolLM2-135M-Instruct, then, each step time-boxed, `rlvr bench run`
# on vLLM with its overhead over bare vLLM, the verifier pool and the local sandbox on all CPU
# cores, and 5 bf16 GRPO steps with the colocated and the served vLLM rollout (step times, an
# engine-vs-policy log-prob check after a weight sync, peak GPU memory). A failing step is
# recorded with its error and the end of its log, and the next one runs.
#   scripts/gpu_check.sh [OUT] [--skip-setup] [--only bench,train_vllm] [--timeout bench=120] ...
# OUT (default $OUT, else runs/gpu_check) gets gpu_check.json, gpu_check.md, nvidia_smi.csv and
# logs.tar.gz, nothing else; big outputs go to runs/gpu_check_work (or --work DIR).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check: no NVIDIA GPU on this machine (nvidia-smi missing or failing); nothing to check."
  exit 0
fi
out="${OUT:-runs/gpu_check}"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then out="$1"; shift; fi
exec "${PYTHON:-python3}" -m rlvr.gpu_check "$out" "$@"
