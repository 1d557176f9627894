"""`get_verifier("format")`: the R1 template, reasoning in <think>, answer in <answer>."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from rlvr.types import VerifyResult

from .base import Verifier


class FormatVerifier(Verifier):
    """Score 1 when the completion follows `<think>…</think><answer>…</answer>`, else 0 with the reason.

    strict: each tag exactly once, in this order, nothing but whitespace outside them.
    soft: the four tags appear in order (text may surround them).
    """

    name: ClassVar[str] = "format"
    needs_isolation: ClassVar[bool] = False  # a few str.find/count calls: linear, cannot hang

    mode: Literal["strict", "soft"] = "strict"
    think_tag: str = Field("think", pattern=r"^[A-Za-z_][\w-]*$")
    answer_tag: str = Field("answer", pattern=r"^[A-Za-z_][\w-]*$")
    prefilled_think: bool = Field(
        False, description="The prompt already ends with '<think>', so the completion starts inside it."
    )

    def check(self, completion: str, answer: Any = None) -> VerifyResult:
        text = f"<{self.think_tag}>" + completion if self.prefilled_think else completion
        tags = [
            f"<{self.think_tag}>",
            f"</{self.think_tag}>",
            f"<{self.answer_tag}>",
            f"</{self.answer_tag}>",
        ]
        positions = [text.find(t) for t in tags]
        if any(p == -1 for p in positions):
            missing = [t for t, p in zip(tags, positions) if p == -1]
            return _fail("missing_tag", missing=missing)
        if positions != sorted(positions):
            return _fail("wrong_order")
        if self.mode == "soft":
            return VerifyResult(score=1.0, correct=True, extracted=_between(text, tags[2], tags[3]))
        counts = [text.count(t) for t in tags]
        if counts != [1, 1, 1, 1]:
            return _fail("repeated_tag", counts=dict(zip(tags, counts)))
        outside = [
            text[: positions[0]],
            text[positions[1] + len(tags[1]) : positions[2]],
            text[positions[3] + len(tags[3]) :],
        ]
        if any(part.strip() for part in outside):
            return _fail("text_outside_tags")
        inside_answer = _between(text, tags[2], tags[3])
        if not inside_answer.strip():
            return _fail("empty_answer")
        return VerifyResult(score=1.0, correct=True, extracted=inside_answer.strip())


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start) + len(start)
    return text[i : text.find(end, i)]


def _fail(reason: str, **details: Any) -> VerifyResult:
    return VerifyResult(score=0.0, correct=False, reason="format", details={"problem": reason, **details})
