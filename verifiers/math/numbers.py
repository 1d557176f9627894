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

_INT = r"\d+|\d{1,3}(?:,\d{3})+"
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


def numbers_equal(a: Number, b: Number, rel_tol: float) -> bool:
    """Exact comparison, with `rel_tol` only when a side is a decimal approximation."""
    if a.value == b.value:
        return True
    if not (a.decimal or b.decimal):
        return False
    scale = max(abs(a.value), abs(b.value))
    return abs(a.value - b.value) <= Fraction(repr(rel_tol)) * scale


def is_percent(raw: str) -> bool:
    return bool(re.search(r"\\?%|\\text\{\s*percent\s*\}|\bpercent\b", raw))


def numbers_match(pred: Number, gold: Number, pred_percent: bool, gold_percent: bool, rel_tol: float) -> bool:
    """`numbers_equal`, and when exactly one side is a percentage, also its value / 100:
    `25\\%` answers `\\frac14`, and `0.25` answers `25\\%`."""
    if numbers_equal(pred, gold, rel_tol):
        return True
    if pred_percent == gold_percent:
        return False
    pct, other = (pred, gold) if pred_percent else (gold, pred)
    return numbers_equal(Number(pct.value / 100, pct.decimal), other, rel_tol)
