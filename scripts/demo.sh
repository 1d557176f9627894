#!/usr/bin/env bash
# Set up and run the main job on the built-in example: score shipped completions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/rlvr score examples/completions.jsonl --verifier math --verifier format=0.2 -o runs/demo/scored.jsonl "$@"
