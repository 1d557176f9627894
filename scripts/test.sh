#!/usr/bin/env bash
# Install system packages if missing, set up (with the dev extra), run the linter and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system_deps.sh
scripts/setup.sh dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
