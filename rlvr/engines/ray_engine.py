"""`ray`: data-parallel replicas of any engine, one Ray actor each.

Requests are cut into chunks dealt round-robin to the replicas; each finished chunk is handed
out as soon as it arrives, so the runner saves and scores while the replicas keep working.
Per-request seeds are fixed before the split, so with engines that honour them (vLLM on GPU,
HF, OpenAI) the samples do not depend on how many replicas there are.

Ray connects to `address` (a running cluster, or `RAY_ADDRESS`) or starts a local one; vLLM
replicas with `tensor_parallel_size > 1` need `num_gpus_per_replica` set to match.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rlvr.errors import ConfigError

from .base import Completion, Engine, Request, SamplingConfig, seeds_for, validate_requests


class _Replica:
    """One engine inside a Ray actor."""

    def __init__(self, engine: str, model: str, options: dict[str, Any]) -> None:
        from rlvr.engines import get_engine

        self.engine = get_engine(engine, model, **options)

    def info(self) -> dict[str, Any]:
        return self.engine.info()

    def generate(
        self, requests: list[Request], sampling: SamplingConfig, seeds: list[int | None]
    ) -> list[list[Completion]]:
        if any(s is None for s in seeds):
            return self.engine.generate(requests, sampling)
        return self.engine.generate(requests, sampling, seeds=seeds)

    def close(self) -> None:
        self.engine.close()


class RayEngine(Engine):
    name = "ray"

    def __init__(
        self,
        model: str,
        engine: str = "vllm",
        replicas: int = 2,
        engine_options: dict[str, Any] | None = None,
        chunk_size: int = 64,
        address: str | None = None,
        num_cpus_per_replica: float = 1,
        num_gpus_per_replica: float | None = None,
    ) -> None:
        if replicas < 1:
            raise ConfigError("replicas", f"must be at least 1, got {replicas}")
        if chunk_size < 1:
            raise ConfigError("chunk_size", f"must be at least 1, got {chunk_size}")
        if engine == "ray":
            raise ConfigError("engine", "a ray replica cannot itself be the ray engine")
        try:
            import ray
        except ImportError:
            raise ConfigError("engine", "data-parallel replicas need `pip install ray`") from None
        from rlvr.engines import list_engines

        if engine not in list_engines():
            raise ConfigError(
                "engine", f"unknown replica engine {engine!r}; known: {', '.join(list_engines())}"
            )
        if num_gpus_per_replica is None:
            tp = int((engine_options or {}).get("tensor_parallel_size", 1))
            num_gpus_per_replica = float(tp) if engine == "vllm" and _has_gpus() else 0.0
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.chunk_size = chunk_size
        self.options = {
            "model": model,
            "engine": engine,
            "replicas": replicas,
            "chunk_size": chunk_size,
            "engine_options": dict(engine_options or {}),
            "num_cpus_per_replica": num_cpus_per_replica,
            "num_gpus_per_replica": num_gpus_per_replica,
        }
        actor = ray.remote(_Replica).options(num_cpus=num_cpus_per_replica, num_gpus=num_gpus_per_replica)
        self.replicas = [actor.remote(engine, model, dict(engine_options or {})) for _ in range(replicas)]
        # surface a replica that cannot start (bad model path, missing package) here, not later
        self.replica_info = ray.get([r.info.remote() for r in self.replicas])

    def stream(
        self, requests: Sequence[Request], sampling: SamplingConfig, seeds: Sequence[int] | None = None
    ) -> Iterator[tuple[int, list[Completion]]]:
        import ray

        validate_requests(requests)
        request_seeds = seeds_for(sampling, len(requests), seeds)
        chunks = [
            list(range(i, min(i + self.chunk_size, len(requests))))
            for i in range(0, len(requests), self.chunk_size)
        ]
        pending = {}
        for j, chunk in enumerate(chunks):
            replica = self.replicas[j % len(self.replicas)]
            ref = replica.generate.remote(
                [requests[i] for i in chunk], sampling, [request_seeds[i] for i in chunk]
            )
            pending[ref] = chunk
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    chunk = pending.pop(ref)
                    yield from zip(chunk, ray.get(ref))
        finally:
            for ref in pending:  # the caller stopped early
                ray.cancel(ref)

    def info(self) -> dict[str, Any]:
        import ray

        return {"engine": self.name, **self.options, "ray": ray.__version__, "replica": self.replica_info[0]}

    def close(self) -> None:
        import ray

        replicas, self.replicas = getattr(self, "replicas", []), []
        for replica in replicas:
            try:
                ray.get(replica.close.remote(), timeout=60)
            except Exception:  # a dead replica has nothing left to close
                pass
            ray.kill(replica)


def _has_gpus() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False
