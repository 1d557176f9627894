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


def rename_deprecated(data: Any, renames: dict[str, str], owner: str) -> Any:
    """Accept a field under its old spelling for one release: move it to the new name and warn
    once, naming both.  Used by the pydantic models whose field names were unified (docs/names.md)."""
    if not isinstance(data, dict):
        return data
    moved = dict(data)
    for old, new in renames.items():
        if old not in moved:
            continue
        if new in moved:
            from rlvr.errors import ConfigError

            raise ConfigError(f"{owner}.{old}", f"is the old name of {new!r}; give only {new!r}")
        moved[new] = moved.pop(old)
        warn_renamed(owner, old, new)
    return moved


_WARNED: set[tuple[str, str]] = set()


def warn_renamed(owner: str, old: str, new: str) -> None:
    """A DeprecationWarning (Python's filters decide how often it shows) and, once per process, a
    log line, which is what a CLI user sees."""
    import warnings

    from rlvr.log import get_logger

    message = f"{owner}: {old!r} is deprecated and will be removed in the next release; use {new!r}"
    warnings.warn(message, DeprecationWarning, stacklevel=4)
    if (owner, old) not in _WARNED:
        _WARNED.add((owner, old))
        get_logger("rlvr.config").warning(message)
