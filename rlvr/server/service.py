"""The server's work, apart from HTTP: admission, scoring through `verify_batch`, crash retries.

Scoring adds no logic of its own: every item goes through the verifier's `verify_batch`, whose
deadline pool kills and replaces a worker that hangs.  What the service adds is what a shared
server needs on top: a bound on accepted work (back-pressure instead of an unbounded queue),
one more try for items whose worker died under them (a killed worker is not the item's fault),
and counting.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, field_validator

from rlvr.errors import ConfigError
from rlvr.log import get_logger
from rlvr.types import VerifyResult

from .metrics import ServerMetrics

log = get_logger(__name__)


class ServerConfig(BaseModel):
    """Everything `create_app` needs; picklable, so a Ray Serve replica can build its own app."""

    verifiers: list[str] = Field(..., min_length=1, description="Served specs; the first is the default.")
    workers: int | None = Field(
        None, ge=1, description="Verifier worker processes (default: CPUs, at most 8)."
    )
    max_queue: int = Field(1024, ge=1, description="Items accepted and not yet answered; more get 429.")
    token: str | None = Field(None, description="Bearer token the scoring endpoints require.")
    max_body_bytes: int = Field(32 << 20, ge=1024)
    sandbox: str = Field("local", description="Sandbox backend behind /run_code.")
    crash_retries: int = Field(2, ge=0, description="More tries for an item whose worker died under it.")
    request_threads: int = Field(64, ge=1, description="Requests scored at once (the rest wait, accepted).")

    @field_validator("verifiers")
    @classmethod
    def _non_empty_specs(cls, specs: list[str]) -> list[str]:
        if any(not s.strip() for s in specs):
            raise ValueError("a verifier spec is empty")
        return [s.strip() for s in specs]

    @property
    def pool_workers(self) -> int:
        return self.workers or min(8, os.cpu_count() or 1)


class QueueFull(Exception):
    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s


class TooManyItems(Exception):
    pass


@dataclass
class Scored:
    """Results in request order; `failed` lists the items that could not be scored."""

    results: list[VerifyResult | None]
    errors: dict[int, str]

    @property
    def failed(self) -> list[int]:
        return sorted(self.errors)


class Admission:
    """Counts accepted items; refuses a request that would exceed the bound.

    Only the event loop's thread acquires, so check-and-add needs no await in between; release may
    come from any thread."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.depth = 0
        self._lock = threading.Lock()

    def acquire(self, n: int, rate_per_s: float) -> None:
        if n > self.capacity:
            raise TooManyItems(f"{n} items exceed this server's --max-queue {self.capacity}")
        with self._lock:
            if self.depth + n > self.capacity:
                wait = (self.depth + n - self.capacity) / rate_per_s if rate_per_s > 0 else 1.0
                raise QueueFull(max(1, min(60, math.ceil(wait))))
            self.depth += n

    def release(self, n: int) -> None:
        with self._lock:
            self.depth -= n


class ScoringService:
    """Verifiers built once, a thread per request in flight, the shared deadline pool underneath."""

    def __init__(self, config: ServerConfig) -> None:
        from rlvr.verifiers import get_verifier

        self.config = config
        self.verifiers = {spec: get_verifier(spec) for spec in config.verifiers}
        self.admission = Admission(config.max_queue)
        self.metrics = ServerMetrics(lambda: self.admission.depth, config.max_queue)
        self._threads: ThreadPoolExecutor | None = None
        self._sandbox_threads: ThreadPoolExecutor | None = None
        self._sandbox = None
        self._lock = threading.Lock()
        self._seen_pids: set[int] = set()
        self._started = False  # Ray Serve replicas may skip the lifespan: the first look counts nothing
        self._rate = _Rate()

    # ------------------------------------------------------------------ setup
    def start(self) -> None:
        """Start the worker pool now, so that the first request does not pay for it."""
        from rlvr.pool import shared_pool

        pids = set(shared_pool(self.config.pool_workers).worker_pids)
        with self._lock:
            self._seen_pids |= pids
            self._started = True

    @property
    def threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    self.config.request_threads, thread_name_prefix="rlvr-serve"
                )
            return self._threads

    def verifier(self, spec: str | None):
        key = (spec or self.config.verifiers[0]).strip()
        if key not in self.verifiers:
            served = ", ".join(repr(s) for s in self.verifiers)
            raise ConfigError("verifier", f"{key!r} is not served here; served: {served}")
        return key, self.verifiers[key]

    # --------------------------------------------------------------- scoring
    def score(
        self, spec: str, completions: Sequence[Any], answers: Sequence[Any], lengths: Sequence[int] | None
    ) -> Scored:
        """Score in this (worker) thread; retry items whose worker died; count outcomes."""
        verifier = self.verifiers[spec]
        results: list[VerifyResult | None] = list(self._verify(verifier, completions, answers, lengths))
        errors: dict[int, str] = {}
        for attempt in range(self.config.crash_retries + 1):
            crashed = [i for i, r in enumerate(results) if r is not None and _crashed(r)]
            if not crashed:
                break
            if attempt == self.config.crash_retries:
                for i in crashed:
                    errors[i] = (
                        f"the verifier worker died on this item {attempt + 1} times "
                        f"({_crash_message(results[i])}); not scored"
                    )
                    results[i] = None
                break
            self.metrics.crash_retries.inc(len(crashed))
            log.warning("retrying %d item(s) whose verifier worker died", len(crashed))
            again = self._verify(
                verifier,
                [completions[i] for i in crashed],
                [answers[i] for i in crashed],
                None if lengths is None else [lengths[i] for i in crashed],
            )
            for i, r in zip(crashed, again):
                results[i] = r
        self.observe_workers()
        timeouts = sum(1 for r in results if r is not None and r.reason == "timeout")
        self.metrics.timeouts.inc(timeouts)
        return Scored(results, errors)

    def _verify(self, verifier, completions, answers, lengths) -> list[VerifyResult]:
        lengths = None if lengths is None else list(lengths)
        return verifier.verify_batch(
            list(completions), list(answers), self.config.pool_workers, lengths=lengths
        )

    def observe_workers(self) -> None:
        """Count pool workers that were replaced since the last look (new pids)."""
        from rlvr.pool import shared_pool

        pids = set(shared_pool(self.config.pool_workers).worker_pids)
        with self._lock:
            new = pids - self._seen_pids if self._started else set()
            self._seen_pids |= pids
            self._started = True
        if new:
            self.metrics.worker_restarts.inc(len(new))

    def record_items(self, endpoint: str, scored: Scored) -> None:
        outcomes = {"scored": 0, "timeout": 0, "error": len(scored.errors)}
        for r in scored.results:
            if r is not None:
                outcomes["timeout" if r.reason == "timeout" else "scored"] += 1
        for outcome, n in outcomes.items():
            if n:
                self.metrics.items.labels(endpoint, outcome).inc(n)
        self._rate.add(len(scored.results))

    @property
    def rate_per_s(self) -> float:
        return self._rate.per_second()

    # ---------------------------------------------------------------- sandbox
    @property
    def sandbox(self):
        with self._lock:
            if self._sandbox is None:
                from rlvr.sandbox import get_sandbox

                self._sandbox = get_sandbox(self.config.sandbox)
                stats = getattr(self._sandbox, "stats", None)
                if callable(stats):
                    self.metrics.add_sandbox_stats(stats)
            return self._sandbox

    @property
    def sandbox_threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._sandbox_threads is None:
                size = getattr(self._sandbox, "pool_size", None) or (os.cpu_count() or 1) + 1
                self._sandbox_threads = ThreadPoolExecutor(size, thread_name_prefix="rlvr-serve-sandbox")
            return self._sandbox_threads

    def close(self) -> None:
        for pool in (self._threads, self._sandbox_threads):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=False)


def _crashed(result: VerifyResult) -> bool:
    if result.reason == "crash":
        return True
    reasons = (result.details or {}).get("reasons") or {}
    return isinstance(reasons, dict) and "crash" in reasons.values()


def _crash_message(result: VerifyResult | None) -> str:
    if result is None:
        return "worker died"
    return str((result.details or {}).get("error") or "worker died")


class _Rate:
    """Items per second over the last ~10 s, for a Retry-After that fits the load."""

    def __init__(self, window_s: float = 10.0) -> None:
        import collections
        import time

        self._clock = time.monotonic
        self._window = window_s
        self._events: collections.deque[tuple[float, int]] = collections.deque()
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        now = self._clock()
        with self._lock:
            self._events.append((now, n))
            while self._events and self._events[0][0] < now - self._window:
                self._events.popleft()

    def per_second(self) -> float:
        now = self._clock()
        with self._lock:
            recent = sum(n for t, n in self._events if t >= now - self._window)
        return recent / self._window
