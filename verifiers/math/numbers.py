"""Exact parsing of plain numbers, without sympy: the fast path for most answers.

Integers (leading zeros, thousands separators), decimals, scientific notation,
fractions (`\\frac{a}{b}`, `\\frac12`, `a/b`) and mixed numbers (`2\\frac{1}{2}`)
become `fractions.Fraction`, so `0.5`, `1/2` and `\\frac{2}{4}` compare exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

_INT = r"\d+|[1-9]\d{0,2}(?:,\d{3})+"
_DEC = rf"(?:{_INT})(?:\.\d*)?|\.\d+"
_SIGN = r"[+-]?"
_PLAIN = re.compile(rf"({_SIGN})({_DEC})")
_SCI = re.compile(
    rf"({_SIGN})({_DEC})\s*(?:(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*\{{?\s*([+-]?\d{{1,4}})\s*\}}?|[eE]([+-]?\d{{1,4}}))"
)
_POW10 = re.compile(r"([+-]?)10\s*\^\s*\{?\s*([+-]?\d{1,4})\s*\}?")
_FRAC = re.compile(
    rf"({_SIGN})(?:(\d+)\s*)?\\frac\s*(?:\{{\s*({_SIGN})\s*(\d+)\s*\}}|(\d))\s*(?:\{{\s*({_SIGN})\s*(\d+)\s*\}}|(\d))"
)
_SLASH = re.compile(rf"({_SIGN})(\d+)\s*/\s*(\d+)")
_BRACED = re.compile(r"\{\s*([^{}]*)\}")


@dataclass(frozen=True)
class Number:
    """An exact value plus whether it was written as a decimal (an approximation may be meant)."""

    value: Fraction
    decimal: bool


def _decimal(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


@lru_cache(maxsize=65536)
def parse_number(s: str) -> Number | None:
    """The value of a normalized answer that is a plain number, else `None`."""
    s = s.strip()
    while s.startswith("{") and s.endswith("}") and _BRACED.fullmatch(s):
        s = s[1:-1].strip()
    if not s or len(s) > 200:
        return None
    m = _PLAIN.fullmatch(s)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        body = m.group(2)
        return Number(sign * _decimal(body), "." in body)
    m = _SCI.fullmatch(s)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        exp = int(m.group(3) or m.group(4))
        return Number(sign * _decimal(m.group(2)) * Fraction(10) ** exp, "." in m.group(2))
    m = _POW10.fullmatch(s)
    if m:
        return Number((-1 if m.group(1) == "-" else 1) * Fraction(10) ** int(m.group(2)), False)
    m = _FRAC.fullmatch(s)
    if m:
        sign, whole, nsign, num, num1, dsign, den, den1 = m.groups()
        numerator = int(num if num is not None else num1) * (-1 if nsign == "-" else 1)
        denominator = int(den if den is not None else den1) * (-1 if dsign == "-" else 1)
        if denominator == 0:
            return None
        value = Fraction(numerator, denominator)
        if whole is not None:  # mixed number: 2\frac{1}{2} = 5/2
            if value < 0:
                return None
            value += int(whole)
        return Number(-value if sign == "-" else value, False)
    m = _SLASH.fullmatch(s)
    if m and int(m.group(3)) != 0:
        value = Fraction(int(m.group(2)), int(m.group(3)))
        return Number(-value if m.group(1) == "-" else value, False)
    return None


_DECIMAL_COMMA = re.compile(r"([+-]?)(\d+),(\d+)")


def decimal_comma(s: str) -> Number | None:
    """`1,22` or `1000,99` -> 1.22, 1000.99: a comma that cannot be a thousands separator.

    Only asked when the other side is a single number, so `1,2` stays a list elsewhere."""
    m = _DECIMAL_COMMA.fullmatch(s.strip())
    if not m or _PLAIN.fullmatch(s.strip()):
        return None
    sign, whole, frac = m.groups()
    return Number((-1 if sign == "-" else 1) * Fraction(f"{whole}.{frac}"), True)


def numbers_equal(a: Number, b: Number, rel_tol: float, rounding: int | None = None) -> bool:
    """Exact comparison, with `rel_tol` only when a side is a decimal approximation; with
    `rounding`, a decimal also matches when both values round to the same `rounding` places."""
    if a.value == b.value:
        return True
    if not (a.decimal or b.decimal):
        return False
    if rounding is not None and round(a.value, rounding) == round(b.value, rounding):
        return True
    scale = max(abs(a.value), abs(b.value))
    return abs(a.value - b.value) <= Fraction(repr(rel_tol)) * scale


def is_percent(raw: str) -> bool:
    return bool(re.search(r"\\?%|\\text\{\s*percent\s*\}|\bpercent(?:age)?\b|\bpct\b", raw))


def numbers_match(
    pred: Number,
    gold: Number,
    pred_percent: bool,
    gold_percent: bool,
    rel_tol: float,
    rounding: int | None = None,
) -> bool:
    """`numbers_equal`, and when exactly one side is a percentage, also its value / 100:
    `25\\%` answers `\\frac14`, and `0.25` answers `25\\%`."""
    if numbers_equal(pred, gold, rel_tol, rounding):
        return True
    if pred_percent == gold_percent:
        return False
    pct, other = (pred, gold) if pred_percent else (gold, pred)
    return numbers_equal(Number(pct.value / 100, pct.decimal), other, rel_tol, rounding)


_CLOCK = re.compile(r"(\d{1,2}):([0-5]\d)(?::[0-5]\d)?\s*(a\.?m\.?|p\.?m\.?)?", re.IGNORECASE)


@lru_cache(maxsize=65536)
def clock_time(s: str) -> tuple[int, int] | None:
    """`12:00`, `1:30 pm` -> (hours, minutes) on a 24-hour clock: a time, not the ratio 12/0.

    Only `h:mm` with two-digit minutes below 60 is a time; `3:2` stays a ratio."""
    m = _CLOCK.fullmatch(s.strip())
    if not m:
        return None
    hours, minutes, half = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower()
    if hours > 24 or (half and not 1 <= hours <= 12):
        return None
    if half.startswith("p") and hours != 12:
        hours += 12
    elif half.startswith("a") and hours == 12:
        hours = 0
    return hours, minutes
