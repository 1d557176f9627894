"""Generation engines behind one interface: `vllm`, `openai`, `hf`, `ray` (replicas of any
of them), and plugins.

`get_engine(name, model, **options)` builds one; engine modules import their heavy
dependencies only when built.  The public helpers here (prompt rendering and token ids, the
CPU check, the vLLM settings, the `vllm serve` launcher) are what the benchmark runner and the
trainer share.
"""

from __future__ import annotations

from typing import Any

from rlvr.registry import Registry

from .base import Completion, Engine, Request, SamplingConfig, prompt_text, prompt_token_ids, stable_seed
from .platform import default_dtype, on_cpu, vllm_settings

ENGINES: Registry[Engine] = Registry("engine", entry_point_group="rlvr.engines")


@ENGINES.register("vllm")
def _vllm(**options: Any) -> Engine:
    from .vllm_engine import VLLMEngine

    return VLLMEngine(**options)


@ENGINES.register("hf")
def _hf(**options: Any) -> Engine:
    from .hf_engine import HFEngine

    return HFEngine(**options)


@ENGINES.register("openai")
def _openai(**options: Any) -> Engine:
    from .openai_engine import OpenAIEngine

    return OpenAIEngine(**options)


@ENGINES.register("ray")
def _ray(**options: Any) -> Engine:
    from .ray_engine import RayEngine

    return RayEngine(**options)


def __getattr__(name: str) -> Any:
    """The `vllm serve` launcher needs httpx (the `bench` extra): imported on first use."""
    if name in ("ServerError", "VLLMServeProcess"):
        from . import vllm_serve

        return getattr(vllm_serve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_engine(name: str, model: str, **options: Any) -> Engine:
    """Build the engine registered as `name` for `model` with engine-specific `options`."""
    return ENGINES.get(name, model=model, **options)


def list_engines() -> list[str]:
    return ENGINES.names()


__all__ = [
    "ENGINES",
    "Completion",
    "Engine",
    "Request",
    "SamplingConfig",
    "ServerError",
    "VLLMServeProcess",
    "default_dtype",
    "get_engine",
    "list_engines",
    "on_cpu",
    "prompt_text",
    "prompt_token_ids",
    "stable_seed",
    "vllm_settings",
]
