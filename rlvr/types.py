"""Pydantic models that cross component boundaries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class VerifyResult(BaseModel):
    """What a verifier says about one completion.

    `reason` is machine-readable: `None` when correct, otherwise one of
    `no_answer`, `mismatch`, `timeout`, `parse_error`, `too_long`,
    `format`, `error`, or a verifier-specific word.
    """

    model_config = ConfigDict(frozen=True)

    score: float = 0.0
    correct: bool | None = None
    extracted: str | None = None
    reason: str | None = None
    elapsed_s: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def timeout(cls, elapsed_s: float) -> VerifyResult:
        return cls(score=0.0, correct=False, reason="timeout", elapsed_s=elapsed_s)

    @classmethod
    def failure(cls, reason: str, elapsed_s: float = 0.0, **details: Any) -> VerifyResult:
        return cls(score=0.0, correct=False, reason=reason, elapsed_s=elapsed_s, details=details)
