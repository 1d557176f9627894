"""Training problems (question + reference answer) and the prompt templates that frame them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr.errors import ConfigError, InputFileError

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


@dataclass(frozen=True)
class TrainProblem:
    question: str
    answer: Any


def render_prompt(question: str, template: str) -> str | list[dict]:
    """The request for one question: a string (r1_zero, plain) or a chat (chat).

    r1_zero and chat both leave the completion inside an open `<think>`, so the format
    reward is checked with `prefilled_think`."""
    if template == "r1_zero":
        return R1_ZERO_TEMPLATE.format(question=question)
    if template == "chat":
        return [
            {"role": "user", "content": f"{question}\n{CHAT_INSTRUCTION}"},
            {"role": "assistant", "content": "<think>"},
        ]
    if template == "plain":
        return question
    raise ConfigError("template", f"{template!r} is not one of r1_zero, chat, plain")


def prefills_think(template: str) -> bool:
    return template in ("r1_zero", "chat")


def load_problems(
    data: str, limit: int, prompt_field: str, answer_field: str, split: str = "train", seed: int = 0
) -> list[TrainProblem]:
    """`builtin:NAME` (a generated suite), a local JSONL/CSV/Parquet file, or a hub dataset id."""
    if data.startswith("builtin:"):
        from rlvr.benchmarks.procedural import GENERATED

        name = data.removeprefix("builtin:")
        if name not in GENERATED:
            raise ConfigError("data", f"no built-in suite {name!r}; known: {sorted(GENERATED)}")
        return [TrainProblem(p.question, p.answer) for p in GENERATED[name](limit, seed)]
    rows = _local_rows(Path(data)) if Path(data).exists() else _hub_rows(data, split)
    if not rows:
        raise InputFileError(f"{data}: no rows")
    for field in (prompt_field, answer_field):
        if field not in rows[0]:
            raise ConfigError(
                "prompt_field" if field == prompt_field else "answer_field",
                f"column {field!r} is not in {data} (columns: {sorted(rows[0])})",
            )
    return [TrainProblem(str(r[prompt_field]), r[answer_field]) for r in rows[:limit]]


def _local_rows(path: Path) -> list[dict]:
    from rlvr.io import read_table

    return read_table(path).to_dict(orient="records")


def _hub_rows(data: str, split: str) -> list[dict]:
    if "/" not in data:
        raise InputFileError(f"{data}: no such file, and not a hub dataset id (owner/name)")
    try:
        import datasets
    except ImportError:
        raise ConfigError("data", "a hub dataset needs `pip install datasets`") from None
    try:
        return list(datasets.load_dataset(data, split=split))
    except Exception as exc:
        raise InputFileError(f"{data}: cannot load from the hub ({type(exc).__name__})") from None
