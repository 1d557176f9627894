"""rlvr rewards as a TRL reward function.

    from rlvr.integrations.trl import reward_func
    trainer = GRPOTrainer(..., reward_funcs=[reward_func("math=1.0,format=0.2")])

TRL calls it with `prompts`, `completions` (strings, or lists of chat messages
for conversational data) and every dataset column as a keyword argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def reward_func(
    spec: str = "math",
    answer_field: str = "answer",
    workers: int | None = None,
    answer_column: str | None = None,
    **options: Any,
) -> Callable[..., list[float]]:
    """A callable with TRL's reward-function signature, returning one float per completion.

    `answer_field` names the dataset column with the reference answer (`answer_column` is its
    old, deprecated name). Token lengths from TRL's `completion_ids` go to the verifier, which
    uses them for an overlong penalty."""
    from rlvr.types import warn_renamed
    from rlvr.verifiers import get_verifier

    if answer_column is not None:
        warn_renamed("reward_func", "answer_column", "answer_field")
        answer_field = answer_column
    verifier = get_verifier(spec, **options)

    def rlvr_reward(
        prompts: list | None = None, completions: list | None = None, **columns: Any
    ) -> list[float]:
        completions, answers, lengths = _batch(completions, columns, answer_field)
        results = verifier.verify_batch(completions, answers, workers, lengths=lengths)
        return [float(r.score) for r in results]

    rlvr_reward.__name__ = _reward_name("rlvr", spec)
    return rlvr_reward


def _batch(
    completions: list | None, columns: dict[str, Any], answer_field: str
) -> tuple[list, list | None, list[int] | None]:
    """What TRL hands a reward function, as rlvr takes it: the completions, the answers from the
    dataset column `answer_field` (None without one) and the token lengths from `completion_ids`."""
    answers = columns.get(answer_field)
    ids = columns.get("completion_ids")
    lengths = [len(x) for x in ids] if ids is not None else None
    return completions or [], None if answers is None else list(answers), lengths


def _reward_name(prefix: str, spec: str) -> str:
    """TRL logs each reward function by its name: the spec, with its separators made `_`."""
    return f"{prefix}_{spec.replace('=', '_').replace(',', '_').replace(';', '_').replace(':', '_')}"


def remote_reward_func(
    url: str,
    spec: str | None = None,
    answer_field: str = "answer",
    token: str | None = None,
    **client_options: Any,
) -> Callable[..., list[float]]:
    """Like `reward_func`, but scored by a reward server (`rlvr serve`) instead of in this process.

    `spec` picks one of the server's verifier specs (default: its first).  Completion token counts
    (`completion_ids`) travel along, for a spec with an overlong penalty."""
    from rlvr.client import RewardClient

    client = RewardClient(url, token, verifier=spec, **client_options)

    def rlvr_remote_reward(
        prompts: list | None = None, completions: list | None = None, **columns: Any
    ) -> list[float]:
        completions, answers, lengths = _batch(completions, columns, answer_field)
        return client.rewards(completions, answers, lengths=lengths)

    rlvr_remote_reward.__name__ = _reward_name("rlvr_remote", spec or "default")
    return rlvr_remote_reward
