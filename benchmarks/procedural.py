"""A built-in, procedurally generated suite with exact answers, so everything runs offline.

`arith` mixes integer arithmetic, fractions and linear equations; a seed fixes the problems.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .problems import BENCHMARKS, BenchmarkSpec, Problem, content_hash


def _fraction_text(value: Fraction) -> str:
    return (
        str(value.numerator)
        if value.denominator == 1
        else f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    )


def _one(rng: random.Random, index: int) -> Problem:
    kind = rng.choice(["add", "mul", "mixed", "fraction", "linear"])
    if kind == "add":
        a, b = rng.randint(10, 999), rng.randint(10, 999)
        question, answer = f"What is {a} + {b}?", str(a + b)
    elif kind == "mul":
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        question, answer = f"What is {a} \\times {b}?", str(a * b)
    elif kind == "mixed":
        a, b, c = rng.randint(2, 50), rng.randint(2, 50), rng.randint(2, 20)
        question, answer = f"What is {a} + {b} \\times {c} - {a}?", str(b * c)
    elif kind == "fraction":
        p, q = Fraction(rng.randint(1, 9), rng.randint(2, 9)), Fraction(rng.randint(1, 9), rng.randint(2, 9))
        question = f"What is $\\frac{{{p.numerator}}}{{{p.denominator}}} + \\frac{{{q.numerator}}}{{{q.denominator}}}$? Give the answer as a reduced fraction."
        answer = _fraction_text(p + q)
    else:
        x, a, b = rng.randint(-20, 20), rng.randint(2, 12), rng.randint(-50, 50)
        question, answer = f"Solve for $x$: ${a}x + {b} = {a * x + b}$.", str(x)
    return Problem(id=f"arith-{index}", question=question, answer=answer, metadata={"kind": kind})


def generate(count: int = 100, seed: int = 0) -> list[Problem]:
    rng = random.Random(seed)
    return [_one(rng, i) for i in range(count)]


BENCHMARKS.register(
    "arith", lambda: BenchmarkSpec(name="arith", local_files=(), question_col="question", answer_col="answer")
)
GENERATED = {"arith": generate}


def load_generated(name: str, limit: int | None, seed: int) -> tuple[list[Problem], str]:
    problems = GENERATED[name](limit or 100, seed)
    return problems, content_hash(problems)
