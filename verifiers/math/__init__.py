"""`get_verifier("math")`: is the completion's final answer equal to the reference?"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from rlvr.types import VerifyResult

from ..base import Verifier
from .extract import extract_answer, last_boxed, strip_math_delimiters
from .grader import Verdict, answers_equal, fast_verdict


class MathVerifier(Verifier):
    """Math answer equivalence: score 1.0 when the extracted answer equals the gold answer."""

    name: ClassVar[str] = "math"

    rel_tol: float = Field(1e-6, ge=0, description="Relative tolerance, used only when a side is a decimal.")
    last_number_fallback: bool = Field(
        False, description="Take the last number when there is no boxed answer or answer phrase."
    )
    max_answer_chars: int = Field(1000, gt=0, description="Longer extracted answers are not parsed.")

    def extract(self, completion: str) -> str | None:
        answer = extract_answer(completion, last_number=self.last_number_fallback)
        return strip_math_delimiters(answer) if answer is not None else None

    def quick_check(self, completion: str, answer: Any) -> VerifyResult | None:
        """Decides without sympy when there is no answer or both sides are plain numbers."""
        extracted = self.extract(completion)
        if extracted is None:
            return VerifyResult(score=0.0, correct=False, reason="no_answer")
        if len(extracted) > self.max_answer_chars:
            return VerifyResult(score=0.0, correct=False, extracted=extracted[:200], reason="too_long")
        gold = gold_text(answer)
        if gold is None:
            return VerifyResult(score=0.0, correct=None, extracted=extracted, reason="no_reference")
        verdict = fast_verdict(extracted, gold, self.rel_tol)
        return _result(verdict, extracted) if verdict is not None else None

    def check(self, completion: str, answer: Any) -> VerifyResult:
        quick = self.quick_check(completion, answer)
        if quick is not None:
            return quick
        extracted = self.extract(completion)
        assert extracted is not None
        gold = gold_text(answer)
        assert gold is not None
        try:
            verdict = answers_equal(extracted, gold, self.rel_tol)
        except RecursionError:
            verdict = Verdict(False, "parse_error")
        return _result(verdict, extracted)


def gold_text(answer: Any) -> str | None:
    """Reference answers arrive as strings, numbers, `\\boxed{}` solutions or lists of accepted forms."""
    if answer is None:
        return None
    if isinstance(answer, bool):
        return str(answer)
    if isinstance(answer, int | float):
        return repr(answer) if isinstance(answer, float) else str(answer)
    if isinstance(answer, list | tuple):
        return ", ".join(gold_text(a) or "" for a in answer)
    text = str(answer).strip()
    boxed = last_boxed(text) if ("\\boxed" in text or "\\fbox" in text) else None
    return strip_math_delimiters(boxed if boxed is not None else text) or None


def _result(verdict: Verdict, extracted: str) -> VerifyResult:
    return VerifyResult(
        score=1.0 if verdict.equal else 0.0,
        correct=verdict.equal,
        extracted=extracted,
        reason=None if verdict.equal else verdict.reason or "mismatch",
    )
