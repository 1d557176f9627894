"""Built-in problem generators with exact answers, so everything runs offline.

A benchmark spec names its generator (`BenchmarkSpec.generator`) and its options; `arith` mixes
integer arithmetic, fractions and linear equations, and has easier levels for small models (see
`DIFFICULTIES`).  A seed fixes the problems, and the split is part of the seed: `train` and `test`
problems of a generator never share a question.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from rlvr.errors import ConfigError, UnknownNameError

from .schema import Problem

Generator = Callable[..., list[Problem]]


def _fraction_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _add_sub(rng: random.Random, low: int, high: int) -> tuple[str, str, str]:
    a, b = rng.randint(low, high), rng.randint(low, high)
    if rng.random() < 0.5:
        return "add", f"What is {a} + {b}?", str(a + b)
    return "sub", f"What is {a} - {b}?", str(a - b)


# How hard `arith` is.  The untrained SmolLM2-135M-Instruct, greedy, scores about 20-35% on `easy`
# (docs/trainer.md has the measurements), so a small model can show a rise in accuracy on CPU.
DIFFICULTIES: dict[str, Callable[[random.Random], tuple[str, str, str]]] = {
    "easy": lambda rng: _add_sub(rng, 0, 30),  # a ± b with operands 0..30: 1,922 distinct questions
    "medium": lambda rng: _add_sub(rng, 10, 99),  # a ± b with two-digit operands
    "mixed": lambda rng: _arith_one(rng),  # sums, products, fractions, linear equations
}


def _arith_one(rng: random.Random) -> tuple[str, str, str]:
    kind = rng.choice(["add", "mul", "mixed", "fraction", "linear"])
    if kind == "add":
        a, b = rng.randint(10, 999), rng.randint(10, 999)
        return kind, f"What is {a} + {b}?", str(a + b)
    if kind == "mul":
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        return kind, f"What is {a} \\times {b}?", str(a * b)
    if kind == "mixed":
        a, b, c = rng.randint(2, 50), rng.randint(2, 50), rng.randint(2, 20)
        return kind, f"What is {a} + {b} \\times {c} - {a}?", str(b * c)
    if kind == "fraction":
        p = Fraction(rng.randint(1, 9), rng.randint(2, 9))
        q = Fraction(rng.randint(1, 9), rng.randint(2, 9))
        question = (
            f"What is $\\frac{{{p.numerator}}}{{{p.denominator}}} + \\frac{{{q.numerator}}}{{{q.denominator}}}$?"
            " Give the answer as a reduced fraction."
        )
        return kind, question, _fraction_text(p + q)
    x, a, b = rng.randint(-20, 20), rng.randint(2, 12), rng.randint(-50, 50)
    return kind, f"Solve for $x$: ${a}x + {b} = {a * x + b}$.", str(x)


def arith(
    count: int = 100, seed: int = 0, split: str | None = None, difficulty: str = "mixed"
) -> list[Problem]:
    """`count` problems; with a split, questions of other splits (same seed) are never repeated."""
    if difficulty not in DIFFICULTIES:
        raise ConfigError("difficulty", f"{difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
    if split is None:
        rng = random.Random(seed)
        make_one = DIFFICULTIES[difficulty]
        problems = []
        for index in range(count):
            kind, question, answer = make_one(rng)
            problems.append(
                Problem(id=f"arith-{index}", question=question, answer=answer, metadata={"kind": kind})
            )
        return problems
    return _split_disjoint(arith, count, seed, split, prefix="arith", difficulty=difficulty)


# Which split a generated question belongs to is decided by its text alone (a hash bucket out of
# 100), so no question can ever be in two splits, whatever the seeds and counts.
SPLIT_BUCKETS = {"test": range(0, 20), "validation": range(20, 30), "train": range(30, 100)}


def split_of(question: str) -> str:
    bucket = int(hashlib.sha256(question.encode()).hexdigest()[:8], 16) % 100
    return next(name for name, buckets in SPLIT_BUCKETS.items() if bucket in buckets)


def _split_disjoint(
    make: Generator, count: int, seed: int, split: str, prefix: str, **options: Any
) -> list[Problem]:
    """`count` distinct problems whose questions hash into `split`, drawn from a stream seeded by
    (seed, split)."""
    if split not in SPLIT_BUCKETS:
        raise ConfigError("split", f"{split!r} is not one of {', '.join(SPLIT_BUCKETS)}")
    from rlvr.engines import stable_seed

    chosen: list[Problem] = []
    seen: set[str] = set()
    drawn = 0
    while len(chosen) < count:
        size = max(64, 2 * drawn)
        batch = make(size, stable_seed(seed, split, drawn), None, **options)
        drawn += size
        for problem in batch:
            if problem.question in seen or split_of(problem.question) != split:
                continue
            seen.add(problem.question)
            update = {"id": f"{prefix}-{split}-{len(chosen)}", "split": split}
            chosen.append(problem.model_copy(update=update))
            if len(chosen) == count:
                break
        if drawn > 1000 * count + 10_000:
            raise ConfigError("limit", f"the generator cannot make {count} distinct {split} problems")
    return chosen


GENERATORS: dict[str, Generator] = {"arith": arith}


def generate(name: str, count: int, seed: int = 0, split: str | None = None, **options: Any) -> list[Problem]:
    """The problems of the built-in generator `name`."""
    if name not in GENERATORS:
        raise UnknownNameError("generator", name, list(GENERATORS))
    return GENERATORS[name](count, seed, split, **options)
