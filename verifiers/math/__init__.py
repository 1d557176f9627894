"""`get_verifier("math")`: is the completion's final answer equal to the reference?"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import Field

from rlvr.types import VerifyResult

from ..base import Verifier
from .extract import (
    bare_answer,
    cut_chat_tokens,
    extract_answer,
    find_answer,
    last_boxed,
    strip_math_delimiters,
    trailing_boxes,
)
from .grader import Options, Verdict, answers_equal, fast_verdict
from .normalize import normalize, unwrap_text
from .numbers import parse_number
from .structure import Seq, parse_structure


class MathVerifier(Verifier):
    """Math answer equivalence: score 1.0 when the extracted answer equals the gold answer."""

    name: ClassVar[str] = "math"

    rel_tol: float = Field(1e-6, ge=0, description="Relative tolerance, used only when a side is a decimal.")
    float_rounding: int | None = Field(
        None,
        ge=0,
        le=30,
        description="Also accept a decimal that rounds to the same value at this many decimal places "
        "(math-verify's float_rounding / precision). None: exact, with rel_tol for decimals.",
    )
    strict: bool = Field(
        True, description="Variable names must match: f(y) does not answer f(x) (math-verify's strict)."
    )
    set_relations: bool = Field(
        False,
        description="A relation also answers a set-membership gold: -2 <= x <= 7 for x \\in [-2,7] "
        "(math-verify's allow_set_relation_comp, off by default as there). The other direction always counts.",
    )
    last_number_fallback: bool = Field(
        False, description="Take the last number when there is no boxed answer or answer phrase."
    )
    max_answer_chars: int = Field(1000, gt=0, description="Longer extracted answers are not parsed.")
    require_evaluated: bool = Field(
        False,
        description="When the gold is a plain number, the answer must be one too (`-6`, `\\frac{1}{2}`, "
        "`x = 0.5`), not an expression still to evaluate (`2 - 8` for -6, `2^{10}` for 1024). Restating an "
        "arithmetic question is then not an answer: a policy trained on computation tasks learns exactly "
        "that when it is rewarded. Off by default, as in math-verify, which compares values.",
    )

    @property
    def options(self) -> Options:
        return _options(self.rel_tol, self.float_rounding, self.strict, self.set_relations)

    def extract(self, completion: str) -> str | None:
        return _extract(completion, None, self.last_number_fallback)[0]

    def quick_check(self, completion: str, answer: Any) -> VerifyResult | None:
        """Decides without sympy when there is no answer or both sides are plain numbers."""
        return self._decide(completion, answer, quick=True)

    def check(self, completion: str, answer: Any) -> VerifyResult:
        try:
            result = self._decide(completion, answer, quick=False)
        except RecursionError:
            return VerifyResult(score=0.0, correct=False, reason="parse_error")
        except Exception as exc:  # never let a grader bug escape as a crash: a clear verdict instead
            return VerifyResult.failure("error", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return result if result is not None else VerifyResult.failure("error", error="no verdict")

    def _decide(self, completion: str, answer: Any, quick: bool) -> VerifyResult | None:
        """One pass: extract, then the fast verdict, then (unless `quick`) the full comparison."""
        gold = gold_text(answer)
        extracted, boxes = _extract(completion, gold, self.last_number_fallback)
        if extracted is None:
            return VerifyResult(score=0.0, correct=False, reason="no_answer")
        if len(extracted) > self.max_answer_chars:
            return VerifyResult(score=0.0, correct=False, extracted=extracted[:200], reason="too_long")
        if gold is None:
            return VerifyResult(score=0.0, correct=None, extracted=extracted, reason="no_reference")
        if self.require_evaluated and is_plain_number(gold):
            if not all(is_plain_number(a) for a in (extracted, *boxes)):
                return VerifyResult(score=0.0, correct=False, extracted=extracted, reason="not_evaluated")
        if boxes:  # several different-looking boxes against one value: right only if each equals it
            verdict = self._all_equal(boxes, gold, quick)
            return _result(verdict, extracted) if verdict is not None else None
        verdict = fast_verdict(extracted, gold, self.options)
        if verdict is None and not quick:
            verdict = answers_equal(extracted, gold, self.options)
        return _result(verdict, extracted) if verdict is not None else None

    def _all_equal(self, boxes: tuple[str, ...], gold: str, quick: bool) -> Verdict | None:
        """Equal when every box equals the gold (`15\\frac{39}{40}` or `\\frac{639}{40}`: one value
        written twice); not equal when one differs (a hedge between candidates); None when that
        needs the full comparison and `quick` forbids it."""
        verdicts = [fast_verdict(box, gold, self.options) for box in boxes]
        if any(v is not None and not v.equal for v in verdicts):
            return Verdict(False, "mismatch")
        if None in verdicts:
            if quick:
                return None
            verdicts = [
                answers_equal(b, gold, self.options) if v is None else v for b, v in zip(boxes, verdicts)
            ]
        failed = [v for v in verdicts if not v.equal]
        return failed[0] if failed else Verdict(True)


_ASSIGNED = re.compile(r"^[A-Za-z]\w*\s*=\s*")


@lru_cache(maxsize=16384)
def is_plain_number(answer: str) -> bool:
    """A number as a final answer is written (`-6`, `1,000`, `0.5`, `\\frac{1}{2}`, `x = 3`), not an
    expression that still has to be evaluated (`2 - 8`, `3 \\times 4`, `2^{10}`)."""
    text = _ASSIGNED.sub("", unwrap_text(normalize(answer)))
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return parse_number(text) is not None


@lru_cache(maxsize=64)
def _options(rel_tol: float, float_rounding: int | None, strict: bool, set_relations: bool) -> Options:
    return Options(rel_tol, float_rounding, strict, set_relations)


@lru_cache(maxsize=256)  # small: the worker's check runs right after its quick_check on the same item
def _extract(completion: str, gold: str | None, last_number: bool) -> tuple[str | None, tuple[str, ...]]:
    """The answer, and the boxes it hedges between.

    The run of boxes that ends the answer is read together: `\\boxed{1}, \\boxed{2}` answers
    `{1, 2}`.  Against a gold that is one value (not a list or set) such a run of different-looking
    boxes is returned as well: it is right only if every box equals the gold."""
    answer, run = find_answer(completion, last_number=last_number)
    if answer is None:
        return None, ()
    extracted = strip_math_delimiters(answer)
    if len(run) < 2:
        return extracted, ()
    distinct = list({normalize(strip_math_delimiters(b)): strip_math_delimiters(b) for b in run}.values())
    collection = gold is not None and _is_collection(gold)
    if len(distinct) > 1 or collection:
        hedged = tuple(distinct) if len(distinct) > 1 and gold is not None and not collection else ()
        return ", ".join(distinct), hedged
    return extracted, ()


def _is_collection(gold: str) -> bool:
    node = parse_structure(normalize(gold))
    return isinstance(node, Seq) and len(node.items) > 1 and node.kind != "tuple"


def gold_text(answer: Any) -> str | None:
    """Reference answers arrive as strings, numbers, `\\boxed{}` solutions (several boxes are read
    together), worked solutions (their final answer) or lists of accepted forms."""
    if answer is None:
        return None
    if isinstance(answer, bool):
        return str(answer)
    if isinstance(answer, int | float):
        return repr(answer) if isinstance(answer, float) else str(answer)
    if isinstance(answer, list | tuple):
        return ", ".join(gold_text(a) or "" for a in answer)
    return _gold_from_text(str(answer).strip())


@lru_cache(maxsize=16384)
def _gold_from_text(text: str) -> str | None:
    """`gold_text` of a string, cached: the same gold comes with every sample of a problem."""
    if "\\boxed" in text or "\\fbox" in text:
        boxes = list(dict.fromkeys(trailing_boxes(cut_chat_tokens(text))))
        if len(boxes) > 1:
            return ", ".join(strip_math_delimiters(b) for b in boxes)
        boxed = last_boxed(text)
        if boxed is not None:
            return strip_math_delimiters(boxed) or None
    if "\n" in text or len(text) > 200:  # a worked solution: its stated final answer
        found = extract_answer(text)
        if found is not None:
            return strip_math_delimiters(found) or None
    bare = bare_answer(text) if text.startswith(("$", "\\(", "\\[")) else None
    return strip_math_delimiters(bare if bare is not None else text) or None


def _result(verdict: Verdict, extracted: str) -> VerifyResult:
    reason = None if verdict.equal else verdict.reason or "mismatch"
    if reason is not None and reason.startswith("error"):
        return VerifyResult.failure("error", extracted=extracted, error=reason[len("error: ") :])
    return VerifyResult(
        score=1.0 if verdict.equal else 0.0, correct=verdict.equal, extracted=extracted, reason=reason
    )
