"""Batch scoring on a Ray cluster: Ray as an executor, not a new component.

Rows go out in contiguous batches, one Ray task per batch (one CPU each); inside a task the
verifier's own `verify_batch` runs them on that node's deadline pool, so time limits, crash
handling and results are exactly those of local scoring.  Results come back in input order.

    from rlvr.ray_scoring import verify_batch_ray
    results = verify_batch_ray(get_verifier("math"), completions, answers, address="auto")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rlvr.log import get_logger
from rlvr.types import VerifyResult

log = get_logger(__name__)

MAX_BATCH = 1024


def init_ray(address: str | None = None, **options: Any):
    """Connect to the cluster at `address` ("auto": the running one), or start a local instance when
    `address` is None and none is running; already connected: nothing to do."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, **options)
    return ray


def verify_batch_ray(
    verifier: Any,
    completions: Sequence[Any],
    answers: Sequence[Any] | None = None,
    *,
    address: str | None = None,
    batch_size: int | None = None,
    lengths: Sequence[int] | None = None,
) -> list[VerifyResult]:
    """`verifier.verify_batch(completions, answers)`, spread over the cluster's CPUs; order preserved."""
    n = len(completions)
    answers = list(answers) if answers is not None else [None] * n
    if len(answers) != n:
        from rlvr.errors import ConfigError

        raise ConfigError("answers", f"has {len(answers)} items but completions has {n}")
    if n == 0:
        return []
    ray = init_ray(address)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    size = batch_size or min(MAX_BATCH, max(8, math.ceil(n / (cpus * 4))))  # 4 batches a CPU: balance
    task = _remote_task(ray)
    verifier_ref = ray.put(verifier)
    refs = []
    for start in range(0, n, size):
        stop = min(start + size, n)
        part_lengths = None if lengths is None else list(lengths[start:stop])
        refs.append(
            task.remote(verifier_ref, list(completions[start:stop]), answers[start:stop], part_lengths)
        )
    log.debug("scoring %d rows in %d Ray tasks over %d CPUs", n, len(refs), cpus)
    results: list[VerifyResult] = []
    for batch in ray.get(refs):
        results.extend(batch)
    return results


_TASK: Any = None


def _remote_task(ray):
    global _TASK
    if _TASK is None:
        _TASK = ray.remote(num_cpus=1, max_retries=2)(_score_batch)
    return _TASK


def _score_batch(verifier: Any, completions: list[Any], answers: list[Any], lengths: list[int] | None):
    """Runs in a Ray worker: the verifier's own batch scoring on a one-process deadline pool."""
    return verifier.verify_batch(completions, answers, 1, lengths=lengths)
