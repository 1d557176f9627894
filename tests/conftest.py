"""Shared fixtures. The repo's `tests/` folder is on sys.path so workers can import helpers."""

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

SHARED_DATA = TESTS.parents[1] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A random 2-layer Llama with a character tokenizer (loads in seconds; outputs are noise)."""
    from engine_helpers import require

    require("transformers")
    from rlvr.models import tiny_llama

    return str(tiny_llama(tmp_path_factory.mktemp("tiny-llama")))
