"""Prometheus metrics of one server instance, in their own registry (several apps may share a process)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily

disable_created_metrics()  # the *_created series only double the output

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180)


class ServerMetrics:
    def __init__(self, queue_depth: Callable[[], int], max_queue: int) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "rlvr_requests",
            "HTTP requests answered, by path and status code.",
            ["path", "status"],
            registry=r,
        )
        self.items = Counter(
            "rlvr_items", "Items answered, by endpoint and outcome (scored, timeout, error).",
            ["endpoint", "outcome"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "rlvr_request_seconds",
            "Request latency in seconds.",
            ["path"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rejected = Counter(
            "rlvr_rejected", "Requests refused before any work, by reason.", ["reason"], registry=r
        )
        self.timeouts = Counter(
            "rlvr_item_timeouts", "Items that hit their verifier's time limit.", registry=r
        )
        self.worker_restarts = Counter(
            "rlvr_worker_restarts",
            "Verifier worker processes replaced (killed on a hang, or died).",
            registry=r,
        )
        self.crash_retries = Counter(
            "rlvr_crash_retries", "Items scored again because their worker died under them.", registry=r
        )
        self.client_gone = Counter(
            "rlvr_client_disconnects", "Requests whose client left before the answer was sent.", registry=r
        )
        depth = Gauge("rlvr_queue_depth", "Items accepted and not yet answered.", registry=r)
        depth.set_function(lambda: float(queue_depth()))
        Gauge("rlvr_queue_capacity", "The most items accepted at once (--max-queue).", registry=r).set(
            max_queue
        )

    def add_sandbox_stats(self, stats: Callable[[], dict[str, Any]]) -> None:
        """Expose a sandbox's `stats()` counters (e.g. recoveries) as `rlvr_sandbox_<name>`."""
        self.registry.register(_SandboxCollector(stats))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _SandboxCollector:
    def __init__(self, stats: Callable[[], dict[str, Any]]) -> None:
        self.stats = stats

    def collect(self):
        try:
            values = self.stats() or {}
        except Exception:  # a sandbox that cannot report must not break /metrics
            return
        if hasattr(values, "model_dump"):  # Sandbox.stats() returns a pydantic SandboxStats
            values = values.model_dump()
        for name, value in values.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield CounterMetricFamily(f"rlvr_sandbox_{name}", f"Sandbox stats(): {name}.", value=value)
