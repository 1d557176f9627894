"""Answer groups for maj@k: two extracted answers vote together when the math grader calls
them equal (`\\frac{1}{2}` and `0.5`), not only when their text matches.

`group_answers` runs in the deadline pool: a hostile answer pair cannot stall a run;
on a timeout the runner falls back to normalized text.
"""

from __future__ import annotations

from collections.abc import Sequence


def group_answers(answers: Sequence[str | None]) -> list[str | None]:
    """Each answer replaced by the first earlier answer equal to it (the group's representative)."""
    from rlvr.verifiers.math.grader import answers_equal

    representatives: list[str] = []
    keys: list[str | None] = []
    for answer in answers:
        if answer is None or not answer.strip():
            keys.append(None)
            continue
        for rep in representatives:
            if rep == answer or _equal(answers_equal, answer, rep):
                keys.append(rep)
                break
        else:
            representatives.append(answer)
            keys.append(answer)
    return keys


def _equal(answers_equal, a: str, b: str) -> bool:
    try:
        return answers_equal(a, b).equal and answers_equal(b, a).equal
    except Exception:  # garbage on either side: not the same vote
        return False


def text_keys(answers: Sequence[str | None]) -> list[str | None]:
    """The fallback: normalized text."""
    from rlvr.verifiers.math.normalize import normalize

    keys: list[str | None] = []
    for answer in answers:
        try:
            keys.append(normalize(answer) if answer and answer.strip() else None)
        except Exception:
            keys.append(answer)
    return keys
