"""Prompt templates: the DeepSeek-R1 recommendation and a plain one for base models."""

from __future__ import annotations

from rlvr.errors import UnknownNameError

R1_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
MC_INSTRUCTION = "Please reason step by step, and put the letter of your final answer within \\boxed{}."


def render(question: str, template: str = "r1", multiple_choice: bool = False) -> list[dict] | str:
    """`r1`: one user message, no system prompt (R1's advice); `plain`: a completion prompt."""
    instruction = MC_INSTRUCTION if multiple_choice else R1_INSTRUCTION
    if template == "r1":
        return [{"role": "user", "content": f"{question}\n{instruction}"}]
    if template == "plain":
        return f"Question: {question}\n{instruction}\nAnswer:"
    raise UnknownNameError("template", template, ["r1", "plain"])


# R1's advice for its distilled models: force the reasoning to start with "<think>\n"
THINK_PREFIX = "<think>\n"
