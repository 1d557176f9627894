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
    partial: shaping for models that start with no format at all: 1 when the strict check passes,
    else half the share of the tags that appear in order (a prefilled `<think>` does not count).
    The first steps get a signal, and spamming tags in order earns at most 0.5: a policy
    trained with an "all tags in order = 1" rule learned to repeat tags instead of closing
    them once (measured in the SmolLM2 run of docs/trainer.md).
    """

    name: ClassVar[str] = "format"
    needs_isolation: ClassVar[bool] = False  # a few str.find/count calls: linear, cannot hang

    mode: Literal["strict", "soft", "partial"] = "strict"
    think_tag: str = Field("think", pattern=r"^[A-Za-z_][\w-]*$")
    answer_tag: str = Field("answer", pattern=r"^[A-Za-z_][\w-]*$")
    prefilled_think: bool = Field(
        False, description="The prompt already ends with '<think>', so the completion starts inside it."
    )

    def check(self, completion: str, answer: Any = None) -> VerifyResult:
        text = f"<{self.think_tag}>" + completion if self.prefilled_think else completion
        if self.mode != "partial":
            return self._check(text, self.mode)
        strict = self._check(text, "strict")
        if strict.score == 1.0:
            return strict
        tags = [
            f"<{self.think_tag}>",
            f"</{self.think_tag}>",
            f"<{self.answer_tag}>",
            f"</{self.answer_tag}>",
        ]
        share = _share_in_order(text, tags, skip_first=self.prefilled_think)
        return strict.model_copy(update={"score": 0.5 * share})

    def _check(self, text: str, mode: str) -> VerifyResult:
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
        if mode == "soft":
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


def _share_in_order(text: str, tags: list[str], skip_first: bool) -> float:
    found, cursor = 0, 0
    for tag in tags:
        at = text.find(tag, cursor)
        if at == -1:
            break
        found, cursor = found + 1, at + len(tag)
    counted = len(tags) - (1 if skip_first else 0)
    return max(found - (1 if skip_first else 0), 0) / counted


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start) + len(start)
    return text[i : text.find(end, i)]


def _fail(reason: str, **details: Any) -> VerifyResult:
    return VerifyResult(score=0.0, correct=False, reason="format", details={"problem": reason, **details})
