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
