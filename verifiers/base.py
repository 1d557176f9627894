"""The `Verifier` interface and the machinery that gives every verifier hard time limits.

A verifier implements `check(completion, answer) -> VerifyResult`, a pure
function.  Callers use `verify` / `verify_batch`, which run `check` in worker
processes of a `DeadlinePool`, so a stuck item is cut off from outside at
`timeout_s` whatever thread the caller is on.  A verifier may also implement
`quick_check`: a path that is linear in the input (plain regexes, number
parsing) and may therefore run inline in the caller's thread; it returns
`None` when the slow path is needed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from rlvr.errors import ConfigError
from rlvr.pool import shared_pool
from rlvr.types import VerifyResult


class Verifier(BaseModel):
    """Base class: subclasses are pydantic models whose fields are their options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str] = "verifier"
    #: False for verifiers whose whole `check` is bounded and linear (format, language):
    #: they run inline, which keeps them usable at RL-loop rates without a process hop.
    needs_isolation: ClassVar[bool] = True

    timeout_s: float = Field(5.0, gt=0, description="Hard limit per item, enforced from outside the work.")

    # ------------------------------------------------------------ to implement
    def check(self, completion: str, answer: Any) -> VerifyResult:
        raise NotImplementedError

    def quick_check(self, completion: str, answer: Any) -> VerifyResult | None:
        """Optional bounded fast path; `None` means "use `check`"."""
        return None

    # ------------------------------------------------------------------ public
    def verify(self, completion: str, answer: Any = None, length: int | None = None) -> VerifyResult:
        """Verify one completion from any thread, under the hard time limit.

        The bounded fast path runs inline (no process hop); the rest goes to the pool.
        `length` (in tokens) matters only to verifiers that score length, such as a composition
        with an overlong penalty."""
        text = as_text(completion)
        if not self.needs_isolation:
            return self._timed_local(text, answer)
        quick = self._quick(text, answer)
        return quick if quick is not None else self._pooled([(text, answer)], None)[0]

    def verify_batch(
        self,
        completions: Sequence[str],
        answers: Sequence[Any] | None = None,
        workers: int | None = None,
        *,
        lengths: Sequence[int] | None = None,
    ) -> list[VerifyResult]:
        """Verify many completions in a process pool; order preserved.

        `workers` picks the pool size (default: the CPU count, at most 8); `lengths` (tokens per
        completion) is used by verifiers that score length and checked for size by all.
        """
        answers = check_batch(completions, answers, workers, lengths)
        items = [(as_text(c), a) for c, a in zip(completions, answers)]
        if not self.needs_isolation:
            return [self._timed_local(c, a) for c, a in items]
        return self._pooled(items, workers) if items else []

    def __call__(self, completion: str, answer: Any = None) -> VerifyResult:
        return self.verify(completion, answer)

    # ---------------------------------------------------------------- internal
    def _pooled(self, items: list[tuple[str, Any]], workers: int | None) -> list[VerifyResult]:
        outcomes = shared_pool(workers).map(self._pooled_check, items, self.timeout_s)
        return [self._collect(o) for o in outcomes]

    def _quick(self, completion: str, answer: Any) -> VerifyResult | None:
        start = time.perf_counter()
        try:
            result = self.quick_check(completion, answer)
        except Exception as exc:  # a bug in a fast path must not crash the caller
            return VerifyResult.failure("error", time.perf_counter() - start, error=repr(exc))
        if result is None:
            return None
        return result.model_copy(update={"elapsed_s": time.perf_counter() - start})

    def _timed_local(self, completion: str, answer: Any) -> VerifyResult:
        start = time.perf_counter()
        try:
            result = self.check(completion, answer)
        except Exception as exc:
            return VerifyResult.failure("error", time.perf_counter() - start, error=repr(exc))
        return result.model_copy(update={"elapsed_s": time.perf_counter() - start})

    def _timed_check(self, completion: str, answer: Any) -> VerifyResult:
        """Runs in the worker: quick path first, then the full check."""
        start = time.perf_counter()
        result = self.quick_check(completion, answer)
        if result is None:
            result = self.check(completion, answer)
        return result.model_copy(update={"elapsed_s": time.perf_counter() - start})

    def _pooled_check(self, completion: str, answer: Any) -> tuple:
        """`_timed_check` as a plain tuple: 5x cheaper to pickle than the pydantic model."""
        r = self._timed_check(completion, answer)
        return (r.score, r.correct, r.extracted, r.reason, r.elapsed_s, r.details or None)

    @staticmethod
    def _collect(outcome: tuple[str, Any]) -> VerifyResult:
        status, value = outcome
        if status == "ok":
            if isinstance(value, VerifyResult):
                return value
            score, correct, extracted, reason, elapsed, details = value
            return VerifyResult.model_construct(
                score=score,
                correct=correct,
                extracted=extracted,
                reason=reason,
                elapsed_s=elapsed,
                details=details or {},
            )
        if status == "timeout":
            return VerifyResult.timeout(value)
        if status == "crash":
            return VerifyResult.failure("crash", error=str(value))
        exc = value
        if isinstance(exc, MemoryError):
            return VerifyResult.failure("resource_limit", error=str(exc))
        if isinstance(exc, RecursionError):
            return VerifyResult.failure("parse_error", error=str(exc))
        return VerifyResult.failure("error", error=f"{type(exc).__name__}: {exc}")


def check_batch(
    completions: Sequence[Any],
    answers: Sequence[Any] | None,
    workers: int | None,
    lengths: Sequence[int] | None = None,
) -> list[Any]:
    """The answers as a list (None for each completion when absent), after checking the sizes."""
    n = len(completions)
    answers = [None] * n if answers is None else list(answers)
    if len(answers) != n:
        raise ConfigError("answers", f"has {len(answers)} items but completions has {n}")
    if lengths is not None and len(lengths) != n:
        raise ConfigError("lengths", f"has {len(lengths)} items but completions has {n}")
    if workers is not None and workers < 1:
        raise ConfigError("workers", f"must be at least 1, got {workers}")
    return answers


def as_text(completion: Any) -> str:
    """Accept plain strings and chat-style completions (a message dict or a list of them)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    if isinstance(completion, list | tuple):
        return "".join(as_text(m) for m in completion if not isinstance(m, dict) or m.get("role") != "user")
    if completion is None:
        return ""
    return str(completion)
