"""Prompt templates: the DeepSeek-R1 recommendation and a plain one for base models.

The instruction depends on the benchmark's kind (math, multiple choice, code); a
custom benchmark with its own `prompt` template is sent as written.
"""

from __future__ import annotations

from rlvr.errors import UnknownNameError

R1_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
MC_INSTRUCTION = "Please reason step by step, and put the letter of your final answer within \\boxed{}."
STDIN_INSTRUCTION = (
    "Write a Python 3 program that reads the input from standard input and prints the answer to "
    "standard output. Put the complete program in one ```python code block."
)
FUNCTION_INSTRUCTION = (
    "Complete the following Python function. Put the whole function, with the imports it needs, in one "
    "```python code block."
)
INSTRUCTIONS = {
    "math": R1_INSTRUCTION,
    "multiple_choice": MC_INSTRUCTION,
    "code_stdin": STDIN_INSTRUCTION,
    "code_humaneval": FUNCTION_INSTRUCTION,
}
TEMPLATES = ("r1", "plain")
# R1's advice for its distilled models: force the reasoning to start with "<think>\n"
THINK_PREFIX = "<think>\n"


def user_message(question: str, kind: str = "math", as_written: bool = False) -> str:
    if as_written:
        return question
    if kind == "code_humaneval":
        return f"{FUNCTION_INSTRUCTION}\n```python\n{question.rstrip()}\n```"
    return f"{question}\n{INSTRUCTIONS[kind]}"


def render(
    question: str,
    template: str = "r1",
    multiple_choice: bool = False,
    *,
    kind: str | None = None,
    as_written: bool = False,
    think: bool = False,
) -> list[dict] | str:
    """`r1`: one user message, no system prompt (R1's advice), optionally with the assistant's turn
    opened with `<think>\\n`; `plain`: a completion prompt for base models."""
    kind = kind or ("multiple_choice" if multiple_choice else "math")
    text = user_message(question, kind, as_written)
    if template == "r1":
        chat = [{"role": "user", "content": text}]
        return chat + [{"role": "assistant", "content": THINK_PREFIX}] if think else chat
    if template == "plain":
        return f"Question: {text}\nAnswer:" + (f" {THINK_PREFIX}" if think else "")
    raise UnknownNameError("template", template, list(TEMPLATES))
