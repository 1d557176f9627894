"""Benchmark metrics over n samples per problem: pass@k, avg@n, maj@k, error bars, lengths.

Each function is small and exact so it can be checked against hand-computed values.
Problem-level scores are averaged over problems; the standard error and a seeded
bootstrap confidence interval are over problems too.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Hashable, Sequence

from rlvr.errors import ConfigError


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator of P(at least one of k samples is correct) from n samples, c correct:
    1 - C(n-c, k) / C(n, k), computed as a product so that large n does not overflow."""
    if not 0 <= c <= n:
        raise ConfigError("c", f"must be between 0 and n={n}, got {c}")
    if not 1 <= k <= n:
        raise ConfigError("k", f"must be between 1 and n={n}, got {k}")
    if n - c < k:
        return 1.0
    prob_all_wrong = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_wrong *= 1.0 - k / i
    return 1.0 - prob_all_wrong


def avg_at_n(correct: Sequence[bool]) -> float:
    """Mean correctness over the samples of one problem (pass@1 averaged over all n samples)."""
    if not correct:
        raise ConfigError("samples", "a problem has no samples")
    return sum(map(bool, correct)) / len(correct)


def majority_answer(answers: Sequence[Hashable | None]) -> Hashable | None:
    """The most frequent non-empty answer; ties go to the answer that appeared first."""
    counts: dict[Hashable, int] = {}
    first: dict[Hashable, int] = {}
    for i, a in enumerate(answers):
        if a is None or a == "":
            continue
        counts[a] = counts.get(a, 0) + 1
        first.setdefault(a, i)
    if not counts:
        return None
    return min(counts, key=lambda a: (-counts[a], first[a]))


def maj_at_k(answers: Sequence[Hashable | None], correct: Sequence[bool], k: int) -> float:
    """1.0 when the majority answer of the first k samples is a correct one (cons@k)."""
    if len(answers) != len(correct):
        raise ConfigError("answers", f"has {len(answers)} items but correct has {len(correct)}")
    if not 1 <= k <= len(answers):
        raise ConfigError("k", f"must be between 1 and {len(answers)}, got {k}")
    winner = majority_answer(answers[:k])
    if winner is None:
        return 0.0
    return 1.0 if any(c for a, c in zip(answers[:k], correct[:k]) if a == winner) else 0.0


def check_sample_counts(samples_per_problem: dict[str, int], n: int) -> None:
    """Refuse to score when any problem has fewer (or more) than n samples: a silently
    smaller n changes what the number means."""
    wrong = {pid: count for pid, count in samples_per_problem.items() if count != n}
    if wrong:
        shown = ", ".join(f"{pid}: {count}" for pid, count in list(wrong.items())[:5])
        raise ConfigError("n", f"{len(wrong)} problem(s) do not have exactly {n} samples ({shown})")


def mean_with_error(
    values: Sequence[float], bootstrap: int = 1000, seed: int = 0, level: float = 0.95
) -> dict:
    """Mean, standard error of the mean and a percentile bootstrap interval, over problems."""
    if not values:
        raise ConfigError("values", "nothing to average")
    m = statistics.fmean(values)
    stderr = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    rng = random.Random(seed)
    n = len(values)
    means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(bootstrap))
    lo_index = int((1 - level) / 2 * bootstrap)
    hi_index = min(bootstrap - 1, int((1 + level) / 2 * bootstrap))
    return {"mean": m, "stderr": stderr, "ci_low": means[lo_index], "ci_high": means[hi_index], "n": n}


def length_stats(token_counts: Sequence[int], finish_reasons: Sequence[str]) -> dict:
    """Mean and median completion length, and the share cut at the token limit."""
    if not token_counts:
        raise ConfigError("samples", "no completions")
    truncated = sum(1 for r in finish_reasons if r == "length")
    return {
        "mean_tokens": statistics.fmean(token_counts),
        "median_tokens": statistics.median(token_counts),
        "truncated_share": truncated / len(finish_reasons) if finish_reasons else 0.0,
    }
