"""Verifiers: objective checks that turn a completion into a reward.

from rlvr.verifiers import get_verifier
v = get_verifier("math")
v.verify(r"... so the answer is \\boxed{\\frac{1}{2}}", "0.5").score  # 1.0
"""

from __future__ import annotations

from collections.abc import Callable

from rlvr.registry import Registry
from rlvr.types import VerifyResult

from .base import Verifier
from .code import CodeVerifier
from .compose import ComposedVerifier, parse_spec
from .format import FormatVerifier
from .language import LanguageVerifier
from .math import MathVerifier
from .swe import SWESimilarityVerifier, SWEVerifier

VERIFIERS: Registry[Verifier] = Registry("verifier", entry_point_group="rlvr.verifiers")
for _cls in (
    MathVerifier,
    FormatVerifier,
    LanguageVerifier,
    CodeVerifier,
    SWEVerifier,
    SWESimilarityVerifier,
):
    VERIFIERS.register(_cls.name, _cls)


def get_verifier(name: str, **options: object) -> Verifier:
    """Build a registered verifier; `name` may also be a composition spec like `"math=1.0,format=0.2"`."""
    if any(ch in name for ch in "=,") or name.startswith("gate("):
        return parse_spec(name, **options)
    return VERIFIERS.get(name, **options)


def register_verifier(name: str, factory: Callable[..., Verifier] | None = None, *, overwrite: bool = False):
    """Register a verifier class or factory under `name` (usable as a decorator)."""
    return VERIFIERS.register(name, factory, overwrite=overwrite)


def list_verifiers() -> list[str]:
    return VERIFIERS.names()


__all__ = [
    "CodeVerifier",
    "ComposedVerifier",
    "FormatVerifier",
    "LanguageVerifier",
    "MathVerifier",
    "Verifier",
    "VerifyResult",
    "get_verifier",
    "list_verifiers",
    "register_verifier",
]
