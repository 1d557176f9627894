"""Fixtures of the trainer tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sampling_model(tmp_path_factory) -> str:
    """The tiny random Llama with sharp next-token distributions, and a generation_config that sets
    a repetition penalty, top-k, min-p, temperature, top-p and two end ids (see trainer_helpers)."""
    from engine_helpers import require

    require("transformers")
    from trainer_helpers import make_sampling_model

    return make_sampling_model(tmp_path_factory.mktemp("sampling-llama"))
