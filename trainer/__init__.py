"""rlvr.trainer: a compact GRPO trainer whose rewards are rlvr verifiers.

    from rlvr.trainer import GRPOConfig, GRPOTrainer
    GRPOTrainer(GRPOConfig(model="HuggingFaceTB/SmolLM2-135M-Instruct")).train()

Torch and transformers are imported only when the trainer is used.
"""

from __future__ import annotations

from typing import Any

from .config import GRPOConfig


def __getattr__(name: str) -> Any:
    if name == "GRPOTrainer":
        from .grpo import GRPOTrainer

        return GRPOTrainer
    raise AttributeError(name)


__all__ = ["GRPOConfig", "GRPOTrainer"]
