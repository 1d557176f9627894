"""rlvr rewards for verl's `custom_reward_function`.

In a verl config:

    custom_reward_function:
      path: <site-packages>/rlvr/integrations/verl.py
      name: compute_score

The spec is read from `extra_info["rlvr_spec"]`, else from the environment
variable `RLVR_REWARD_SPEC`, else per data source (math datasets -> "math").
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=32)
def _verifier(spec: str):
    from rlvr.verifiers import get_verifier

    return get_verifier(spec)


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None
) -> float:
    """verl's reward signature: one completion, one reference, a float back."""
    spec = (extra_info or {}).get("rlvr_spec") or os.environ.get("RLVR_REWARD_SPEC") or "math"
    return float(_verifier(spec).verify(solution_str, ground_truth).score)


@lru_cache(maxsize=8)
def _client(url: str, token: str | None, spec: str | None):
    from rlvr.client import RewardClient

    return RewardClient(url, token, verifier=spec)


def compute_score_remote(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None
) -> float:
    """`compute_score`, scored by a reward server (`rlvr serve`) instead of in the trainer's process.

    The server is `extra_info["rlvr_url"]`, else `RLVR_SERVER_URL`; the token `RLVR_SERVER_TOKEN`;
    the spec `extra_info["rlvr_spec"]`, else `RLVR_REWARD_SPEC`, else the server's default."""
    info = extra_info or {}
    url = info.get("rlvr_url") or os.environ.get("RLVR_SERVER_URL")
    if not url:
        from rlvr.errors import ConfigError

        raise ConfigError("RLVR_SERVER_URL", "set it (or extra_info['rlvr_url']) to the reward server's URL")
    spec = info.get("rlvr_spec") or os.environ.get("RLVR_REWARD_SPEC") or None
    client = _client(url, os.environ.get("RLVR_SERVER_TOKEN") or None, spec)
    return client.rewards([solution_str], [ground_truth])[0]
