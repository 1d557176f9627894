"""Prompt templates, one set for benchmarks, the trainer and the Python API.

| name      | what the model gets                                                                  |
|-----------|--------------------------------------------------------------------------------------|
| `r1`      | a chat: the question plus DeepSeek-R1's evaluation instruction (no system prompt)     |
| `chat`    | a chat: the question plus the `<think>`/`<answer>` instruction, the answer opened      |
|           | with `<think>\\n` (format rewards check it with `prefilled_think`)                     |
| `r1_zero` | DeepSeek-R1-Zero's training conversation as plain text, ending inside `<think>`       |
| `plain`   | `Question: …\\nAnswer:` for base models                                                |
| `raw`     | the question exactly as written                                                       |

The instruction of `r1` and `plain` depends on the benchmark's kind (math, multiple choice,
code); a custom benchmark with its own `prompt` template is sent as written.  `think=True`
opens the answer with `<think>\\n` (R1's advice for its distilled models).
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
SWE_INSTRUCTION = (
    "Resolve the issue by editing the code above. Answer with a single patch in unified diff format "
    "(as `git diff` writes it, paths prefixed a/ and b/) that applies with `git apply` at the "
    "repository root, inside <patch> </patch> tags."
)
INSTRUCTIONS = {
    "math": R1_INSTRUCTION,
    "multiple_choice": MC_INSTRUCTION,
    "code_stdin": STDIN_INSTRUCTION,
    "code_humaneval": FUNCTION_INSTRUCTION,
    "swe": SWE_INSTRUCTION,
}
# DeepSeek-R1-Zero's training template (DeepSeek-R1 report, table 1), ending inside <think>
R1_ZERO_TEMPLATE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> "
    "</answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
    "</answer>. User: {question} Assistant: <think>"
)
CHAT_INSTRUCTION = (
    "Think step by step inside <think> </think> tags, then give only the final answer inside "
    "<answer> </answer> tags."
)
# R1's advice for its distilled models: force the reasoning to start with "<think>\n"
THINK_PREFIX = "<think>\n"
TEMPLATES = ("r1", "chat", "r1_zero", "plain", "raw")


def user_message(question: str, kind: str = "math", as_written: bool = False) -> str:
    if as_written:
        return question
    if kind == "code_humaneval":
        return f"{FUNCTION_INSTRUCTION}\n```python\n{question.rstrip()}\n```"
    return f"{question}\n{INSTRUCTIONS[kind]}"


def render_prompt(
    question: str,
    template: str = "r1",
    *,
    kind: str = "math",
    as_written: bool = False,
    think: bool = False,
) -> list[dict] | str:
    """The request for one question: a chat (a list of messages; a trailing assistant message is
    continued) or a plain string."""
    if template == "r1":
        chat = [{"role": "user", "content": user_message(question, kind, as_written)}]
        return chat + [{"role": "assistant", "content": THINK_PREFIX}] if think else chat
    if template == "chat":
        return [
            {"role": "user", "content": f"{question}\n{CHAT_INSTRUCTION}"},
            {"role": "assistant", "content": THINK_PREFIX},
        ]
    if template == "r1_zero":
        return R1_ZERO_TEMPLATE.format(question=question)
    if template == "plain":
        return f"Question: {user_message(question, kind, as_written)}\nAnswer:" + (
            f" {THINK_PREFIX}" if think else ""
        )
    if template == "raw":
        return question + (THINK_PREFIX if think else "")
    raise UnknownNameError("template", template, list(TEMPLATES))


def prefills_think(template: str, think: bool = False) -> bool:
    """Whether the completion starts inside an open `<think>` (what format rewards must know)."""
    return think or template in ("chat", "r1_zero")
