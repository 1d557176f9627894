"""Equivalence of a predicted answer and a gold answer.

Order of tests for two leaves: same text -> both plain numbers (exact
`Fraction`s, tolerance only for decimals) -> sympy values.  sympy values
without symbols are compared exactly when possible and otherwise at 60
significant digits with a relative threshold of 1e-40 (so `1/2004!` and
`1/2006!` differ, unlike an absolute `chop`).  Expressions with symbols are
equal when their difference simplifies to zero, or, when sympy cannot decide,
when they agree at several random rational points to 40 digits.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

import sympy

from .expr import TooLarge, parse_expr
from .normalize import loose, normalize
from .numbers import is_percent, numbers_equal, numbers_match, parse_number
from .structure import (
    Choice,
    Equation,
    Interval,
    Leaf,
    Matrix,
    Node,
    Seq,
    Text,
    Union,
    choice_of,
    is_simple_lhs,
    parse_structure,
)

_EXACT_DIGITS = 60
_EXACT_REL = sympy.Float("1e-40", _EXACT_DIGITS)


@dataclass(frozen=True)
class Verdict:
    equal: bool
    reason: str | None = None  # why not equal: mismatch, parse_error, too_large


@lru_cache(maxsize=65536)
def fast_verdict(pred: str, gold: str, rel_tol: float = 1e-6) -> Verdict | None:
    """Decide without sympy when the normalized texts agree or both sides are plain numbers
    (a percentage also answers its fraction when only one side has the sign); else None."""
    p, g = normalize(pred), normalize(gold)
    if p == g:
        return Verdict(True)
    pn, gn = parse_number(p), parse_number(g)
    if pn is None or gn is None:
        return None
    ok = numbers_match(pn, gn, is_percent(pred), is_percent(gold), rel_tol)
    return Verdict(ok, None if ok else "mismatch")


@lru_cache(maxsize=65536)
def answers_equal(pred: str, gold: str, rel_tol: float = 1e-6) -> Verdict:
    """Compare two raw answer strings (already extracted)."""
    fast = fast_verdict(pred, gold, rel_tol)
    if fast is not None:
        return fast
    p, g = normalize(pred), normalize(gold)
    gold_node = parse_structure(g)
    if isinstance(gold_node, Choice):
        letter = choice_of(p)
        return Verdict(letter == gold_node.letter, None if letter == gold_node.letter else "mismatch")
    try:
        ok = _nodes_equal(parse_structure(p), gold_node, rel_tol)
    except TooLarge:
        return Verdict(False, "too_large")
    return Verdict(ok, None if ok else "mismatch")


def _nodes_equal(p: Node, g: Node, tol: float) -> bool:
    # assignments: x=5 vs 5, and the other way round
    if isinstance(p, Equation) and not isinstance(g, Equation) and is_simple_lhs(p.lhs):
        return _nodes_equal(p.rhs, g, tol)
    if isinstance(g, Equation) and not isinstance(p, Equation) and is_simple_lhs(g.lhs):
        return _nodes_equal(p, g.rhs, tol)
    if isinstance(p, Equation) and isinstance(g, Equation):
        if normalize(p.lhs).replace(" ", "") == normalize(g.lhs).replace(" ", "") and _nodes_equal(
            p.rhs, g.rhs, tol
        ):
            return True  # `y=5` does not answer "x=5": two assignments must name the same variable
        return _equations_equal(p, g)
    if isinstance(g, Text) or isinstance(p, Text):
        if loose(_text_of(p)) == loose(_text_of(g)):
            return True
        if isinstance(g, Text) and isinstance(p, Text):
            return False
        if isinstance(g, Text):
            return False
        return _nodes_equal(Leaf(p.text), g, tol) if isinstance(p, Text) and _looks_math(p.text) else False
    if isinstance(g, Union | Interval) or isinstance(p, Union | Interval):
        return _intervals_equal(p, g, tol)
    if isinstance(g, Matrix) or isinstance(p, Matrix):
        return _matrices_equal(p, g, tol)
    if isinstance(g, Seq) or isinstance(p, Seq):
        return _seqs_equal(p, g, tol)
    if isinstance(p, Choice) or isinstance(g, Choice):
        return isinstance(p, Choice) and isinstance(g, Choice) and p.letter == g.letter
    assert isinstance(p, Leaf) and isinstance(g, Leaf)
    return leaves_equal(p.text, g.text, tol)


def _text_of(node: Node) -> str:
    if isinstance(node, Leaf | Text):
        return node.text
    if isinstance(node, Choice):
        return node.letter
    return repr(node)


def _looks_math(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _seqs_equal(p: Node, g: Node, tol: float) -> bool:
    if not (isinstance(p, Seq) and isinstance(g, Seq)):
        # a one-element answer against a one-element list: {5} vs 5
        if isinstance(g, Seq) and len(g.items) == 1 and g.kind != "tuple":
            return _nodes_equal(p, g.items[0], tol)
        if isinstance(p, Seq) and len(p.items) == 1 and p.kind != "tuple":
            return _nodes_equal(p.items[0], g, tol)
        return False
    if len(p.items) != len(g.items):
        return False
    ordered = p.kind == "tuple" and g.kind == "tuple"
    if p.kind == "tuple" and g.kind == "set" or p.kind == "set" and g.kind == "tuple":
        return False  # a point is not a set of values
    if ordered:
        return all(_nodes_equal(a, b, tol) for a, b in zip(p.items, g.items))
    unused = list(g.items)
    for a in p.items:
        for k, b in enumerate(unused):
            if _nodes_equal(_unassign(a), _unassign(b), tol):
                unused.pop(k)
                break
        else:
            return False
    return True


def _unassign(node: Node) -> Node:
    return node.rhs if isinstance(node, Equation) and is_simple_lhs(node.lhs) else node


def _as_intervals(node: Node) -> list[Interval] | None:
    if isinstance(node, Interval):
        return [node]
    if isinstance(node, Union):
        return list(node.parts)
    if isinstance(node, Seq) and node.kind == "tuple" and len(node.items) == 2:
        a, b = node.items
        if isinstance(a, Leaf) and isinstance(b, Leaf):
            return [Interval(False, a.text, b.text, False)]
    if isinstance(node, Equation) and is_simple_lhs(node.lhs):
        return _as_intervals(node.rhs)
    return None


def _intervals_equal(p: Node, g: Node, tol: float) -> bool:
    pi, gi = _as_intervals(p), _as_intervals(g)
    if pi is None or gi is None or len(pi) != len(gi):
        return False
    unused = list(gi)
    for a in pi:
        for k, b in enumerate(unused):
            if (
                a.left_closed == b.left_closed
                and a.right_closed == b.right_closed
                and leaves_equal(a.lo, b.lo, tol)
                and leaves_equal(a.hi, b.hi, tol)
            ):
                unused.pop(k)
                break
        else:
            return False
    return True


def _matrices_equal(p: Node, g: Node, tol: float) -> bool:
    def cells(node: Node) -> tuple[tuple, ...] | None:
        if isinstance(node, Matrix):
            return node.rows
        return None

    pc, gc = cells(p), cells(g)
    if pc is not None and gc is not None:
        if len(pc) != len(gc) or any(len(a) != len(b) for a, b in zip(pc, gc)):
            return False
        return all(_nodes_equal(a, b, tol) for ra, rb in zip(pc, gc) for a, b in zip(ra, rb))
    # a column or row vector against a tuple: (1, 2) vs \begin{pmatrix}1\\2\end{pmatrix}
    matrix = pc if pc is not None else gc
    other = g if pc is not None else p
    if not isinstance(other, Seq) or other.kind != "tuple" or matrix is None:
        return False
    flat = [c for row in matrix for c in row]
    if not (len(matrix) == 1 or all(len(row) == 1 for row in matrix)) or len(flat) != len(other.items):
        return False
    return all(_nodes_equal(a, b, tol) for a, b in zip(flat, other.items))


def _equations_equal(p: Equation, g: Equation) -> bool:
    """`y = 2x + 3` vs `2x - y + 3 = 0`: the differences are proportional."""
    try:
        dp = _value(p.lhs) - _value(_text_of(p.rhs) if isinstance(p.rhs, Leaf | Text) else "")
        dg = _value(g.lhs) - _value(_text_of(g.rhs) if isinstance(g.rhs, Leaf | Text) else "")
    except (ValueError, TypeError, TooLarge):
        return False
    if dg == 0 or dp == 0:
        return dg == dp
    ratio = sympy.simplify(dp / dg)
    return bool(ratio.is_number and ratio != 0 and ratio.is_finite)


_BASE_N = re.compile(r"^\{?([0-9A-Za-z]+)\}?_\{?\(?(\d+)\)?\}?$")


def _base_numeral(s: str) -> tuple[str, str] | None:
    """`40_9`, `{101}_{2}` -> (digits, base): numerals in another base compare by their digits."""
    m = _BASE_N.match(s.replace(" ", ""))
    return (m.group(1).upper(), m.group(2)) if m else None


@lru_cache(maxsize=65536)
def leaves_equal(pred: str, gold: str, tol: float) -> bool:
    p, g = normalize(pred), normalize(gold)
    if p == g:
        return True
    pb, gb = _base_numeral(p), _base_numeral(g)
    if gb is not None:  # a bare `1011` for `1011_2` is the same numeral with the base left implicit
        return pb == gb if pb is not None else p.upper() == gb[0]
    if pb is not None:
        return False
    pn, gn = parse_number(p), parse_number(g)
    if pn is not None and gn is not None:
        return numbers_equal(pn, gn, tol)
    try:
        pv, gv = _value(p), _value(g)
    except TooLarge:
        raise
    except (ValueError, TypeError, RecursionError, ZeroDivisionError):
        return loose(p) == loose(g)
    return values_equal(pv, gv, tol)


def _value(latex: str) -> sympy.Expr:
    if not latex:
        raise ValueError("empty")
    value = parse_expr(latex)
    if not isinstance(value, sympy.Expr):
        raise ValueError(f"not an expression: {type(value).__name__}")
    return value


def values_equal(a: sympy.Expr, b: sympy.Expr, tol: float) -> bool:
    if a == b:
        return True
    has_float = a.has(sympy.Float) or b.has(sympy.Float)
    if a.is_Rational and b.is_Rational:
        return a == b
    symbols = a.free_symbols | b.free_symbols
    if not symbols:
        return _numbers_close(a, b, tol if has_float else None)
    diff = a - b
    try:
        if sympy.expand(diff) == 0 or sympy.simplify(diff) == 0:
            return True
    except (TypeError, ValueError, RecursionError):
        pass
    return _agree_at_random_points(a, b, symbols, tol if has_float else None)


def _numbers_close(a: sympy.Expr, b: sympy.Expr, tol: float | None) -> bool:
    try:
        va = sympy.N(a, _EXACT_DIGITS)
        vb = sympy.N(b, _EXACT_DIGITS)
    except (TypeError, ValueError, OverflowError):
        return False
    if not (va.is_number and vb.is_number) or va.has(sympy.zoo, sympy.nan) or vb.has(sympy.zoo, sympy.nan):
        return va == vb
    if va.is_infinite or vb.is_infinite:
        return va == vb
    scale = max(abs(va), abs(vb))
    if scale == 0:
        return True
    threshold = sympy.Float(tol, _EXACT_DIGITS) if tol is not None else _EXACT_REL
    return bool(abs(va - vb) <= threshold * scale)


def _agree_at_random_points(a: sympy.Expr, b: sympy.Expr, symbols: set, tol: float | None) -> bool:
    rng = random.Random(12345)
    ordered = sorted(symbols, key=str)
    for _ in range(4):
        point = {s: sympy.Rational(rng.randint(1, 997), rng.randint(1, 97)) for s in ordered}
        try:
            if not _numbers_close(a.subs(point), b.subs(point), tol):
                return False
        except (TypeError, ValueError, ZeroDivisionError):
            return False
    return True
