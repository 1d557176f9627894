"""Several verifiers as one reward: weighted sums, gating and DAPO's soft overlong penalty.

Spec strings build a composition from registry names:

    "math=1.0,format=0.2"                 weighted sum
    "math=1.0,format=0.2;gate=format"     math counts only when format passes
    "math;overlong=4096:512"              DAPO soft overlong penalty, lengths in tokens
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rlvr.errors import ConfigError
from rlvr.types import VerifyResult

from .base import Verifier, as_text, check_batch


class Component(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    verifier: Verifier
    weight: float = 1.0


def overlong_penalty(length: int, max_length: int, buffer: int) -> float:
    """DAPO: 0 up to max_length - buffer, then linearly down to -1 at max_length, -1 beyond."""
    start = max_length - buffer
    if length <= start:
        return 0.0
    if length <= max_length:
        return (start - length) / buffer
    return -1.0


def component_answer(name: str, answer: Any) -> Any:
    """A dict answer can carry one value per verifier: {"answer": "42", "language": "en"}."""
    if not isinstance(answer, dict):
        return answer
    if name in answer:
        return answer[name]
    return answer if name == "language" else answer.get("answer")


class ComposedVerifier(Verifier):
    """A weighted sum of verifiers with optional gating and overlong penalty; a `Verifier` like any
    other (same `verify` / `verify_batch`, usable wherever one verifier is).

    Each component keeps its own isolation and time limit (`timeout_s` is the largest of them).
    `details` of each result keeps every component's score, for logging.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: ClassVar[str] = "composed"
    needs_isolation: ClassVar[bool] = False  # the components decide, each for itself

    components: tuple[Component, ...]
    gate: str | None = Field(None, description="Name of a component that must pass for the others to count.")
    overlong_max: int | None = Field(None, gt=0, description="DAPO L_max (in units of length_fn).")
    overlong_buffer: int = Field(0, ge=0, description="DAPO L_cache: the soft band before overlong_max.")
    overlong_weight: float = 1.0
    length_fn: Callable[[str], int] | None = Field(
        None,
        description="Completion length for the overlong penalty; default counts whitespace-separated words.",
    )

    @model_validator(mode="before")
    @classmethod
    def _timeout_from_components(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timeout_s" not in data and data.get("components"):
            components = data["components"]
            data = {**data, "timeout_s": max(_component_timeout(c) for c in components)}
        return data

    @field_validator("components")
    @classmethod
    def _non_empty(cls, v: tuple[Component, ...]) -> tuple[Component, ...]:
        if not v:
            raise ValueError("at least one verifier is needed")
        return v

    def model_post_init(self, __context: Any) -> None:
        names = [c.name for c in self.components]
        if self.gate is not None and self.gate not in names:
            raise ConfigError("gate", f"{self.gate!r} is not one of the components {names}")
        if self.overlong_max is not None and not 0 < self.overlong_buffer <= self.overlong_max:
            raise ConfigError("overlong_buffer", f"must be in (0, overlong_max={self.overlong_max}]")

    def verify(self, completion: str, answer: Any = None, length: int | None = None) -> VerifyResult:
        return self.verify_batch([completion], [answer], lengths=None if length is None else [length])[0]

    def check(self, completion: str, answer: Any) -> VerifyResult:
        """In-process composition of the components' own checks (no pool, no time limit): for
        callers that already run inside a worker."""
        per_component = {
            c.name: [c.verifier.check(completion, component_answer(c.name, answer))] for c in self.components
        }
        lengths = self._lengths([completion], None)
        return self._combine(0, per_component, lengths)

    def verify_batch(
        self,
        completions: Sequence[str],
        answers: Sequence[Any] | None = None,
        workers: int | None = None,
        *,
        lengths: Sequence[int] | None = None,
    ) -> list[VerifyResult]:
        answers = check_batch(completions, answers, workers, lengths)
        per_component = {
            c.name: c.verifier.verify_batch(
                completions, [component_answer(c.name, a) for a in answers], workers
            )
            for c in self.components
        }
        lengths = self._lengths(completions, lengths)
        return [self._combine(i, per_component, lengths) for i in range(len(completions))]

    def _lengths(self, completions: Sequence[Any], lengths: Sequence[int] | None) -> Sequence[int] | None:
        """The lengths the overlong penalty uses: the caller's tokens, else `length_fn` (words)."""
        if self.overlong_max is None or lengths is not None:
            return lengths
        measure = self.length_fn or (lambda text: len(text.split()))
        return [measure(as_text(c)) for c in completions]

    def _combine(self, i: int, per_component: dict[str, list[VerifyResult]], lengths) -> VerifyResult:
        primary = per_component[self.components[0].name][i]
        gate_open = self.gate is None or per_component[self.gate][i].score > 0
        scores = {name: results[i].score for name, results in per_component.items()}
        total = 0.0
        for c in self.components:
            if gate_open or c.name == self.gate:
                total += c.weight * scores[c.name]
        if self.overlong_max is not None:
            penalty = overlong_penalty(lengths[i], self.overlong_max, self.overlong_buffer)
            scores["overlong"] = penalty
            total += self.overlong_weight * penalty
        reason = primary.reason if gate_open else f"gate:{self.gate}"
        return VerifyResult(
            score=total,
            correct=primary.correct if gate_open else False,
            extracted=primary.extracted,
            reason=reason,
            elapsed_s=sum(results[i].elapsed_s for results in per_component.values()),
            details={"scores": scores, "reasons": {k: v[i].reason for k, v in per_component.items()}},
        )


def _component_timeout(component: Any) -> float:
    verifier = component.verifier if isinstance(component, Component) else component["verifier"]
    return verifier.timeout_s


def parse_spec(spec: str, **options: Any) -> ComposedVerifier:
    """Build a `ComposedVerifier` from `"math=1.0,format=0.2;gate=format;overlong=4096:512"`.

    `options` go to the component verifiers that accept them (for example `timeout_s`).
    """
    from . import VERIFIERS  # the registry lives in the package __init__

    parts = [p.strip() for p in spec.split(";") if p.strip()]
    if not parts:
        raise ConfigError("verifier spec", "is empty")
    components = []
    for item in (x.strip() for x in parts[0].split(",")):
        if not item:
            raise ConfigError("verifier spec", f"empty item in {spec!r}")
        name, _, weight_text = item.partition("=")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise ConfigError(
                "verifier spec", f"weight of {name!r} is not a number: {weight_text!r}"
            ) from None
        factory = VERIFIERS.factory(name.strip())
        accepted = factory.model_fields if isinstance(factory, type) and issubclass(factory, Verifier) else {}
        kwargs = {k: v for k, v in options.items() if k in accepted}
        components.append(Component(name=name.strip(), verifier=factory(**kwargs), weight=weight))
    settings: dict[str, Any] = {}
    for extra in parts[1:]:
        key, _, value = extra.partition("=")
        key = key.strip()
        if key == "gate":
            settings["gate"] = value.strip()
        elif key == "overlong":
            try:
                max_len, _, buffer = value.partition(":")
                settings["overlong_max"] = int(max_len)
                settings["overlong_buffer"] = int(buffer) if buffer else max(1, int(max_len) // 8)
            except ValueError:
                raise ConfigError("overlong", f"expected MAX:BUFFER integers, got {value!r}") from None
        else:
            raise ConfigError("verifier spec", f"unknown setting {key!r} (known: gate, overlong)")
    names = [c.name for c in components]
    if settings.get("gate") is not None and settings["gate"] not in names:
        raise ConfigError("gate", f"{settings['gate']!r} is not one of the verifiers {names}")
    if "length_fn" in options:
        settings["length_fn"] = options["length_fn"]
    return ComposedVerifier(components=tuple(components), **settings)
