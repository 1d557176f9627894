"""Equivalence of a predicted answer and a gold answer.

Order of tests for two leaves: same text -> both plain numbers (exact
`Fraction`s, tolerance only for decimals) -> sympy values.  sympy values
without symbols are compared exactly when possible and otherwise at 60
significant digits with a relative threshold of 1e-40 (so `1/2004!` and
`1/2006!` differ, unlike an absolute `chop`).  Expressions with symbols are
equal when their difference simplifies to zero, or, when sympy cannot decide,
when they agree at several random rational points to 40 digits.

Nothing here raises for a well-formed pair of strings; `answers_equal` turns
any unexpected exception into a `parse_error` / `error` verdict with a reason,
and no `assert` is used for control flow (so `python -O` changes nothing).
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from functools import lru_cache

import sympy

from .expr import TooLarge, parse_expr
from .normalize import loose, normalize
from .numbers import clock_time, decimal_comma, is_percent, numbers_equal, numbers_match, parse_number
from .structure import (
    Chain,
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
    is_label,
    is_simple_lhs,
    normalize_name,
    parse_structure,
)

_EXACT_DIGITS = 60
_EXACT_REL = sympy.Float("1e-40", _EXACT_DIGITS)


@dataclass(frozen=True)
class Verdict:
    equal: bool
    reason: str | None = None  # why not equal: mismatch, parse_error, too_large, error


@dataclass(frozen=True)
class Options:
    """How two answers are compared (the verifier's options, hashable for the caches).

    rel_tol: relative tolerance when a side is a decimal.  float_rounding: a decimal also
    matches when both sides round to the same number of decimal places (math-verify's
    `float_rounding`).  strict: variable names must match (`f(x)` is not `f(y)`).
    set_relations: a relation answers a set-membership gold (`-2 \\le x \\le 7` for
    `x \\in [-2, 7]`; math-verify's `allow_set_relation_comp`)."""

    rel_tol: float = 1e-6
    float_rounding: int | None = None
    strict: bool = True
    set_relations: bool = False


DEFAULT = Options()


def _options(opts: Options | float) -> Options:
    return opts if isinstance(opts, Options) else Options(rel_tol=float(opts))


@lru_cache(maxsize=65536)
def fast_verdict(pred: str, gold: str, opts: Options | float = DEFAULT) -> Verdict | None:
    """Decide without sympy when the normalized texts agree or both sides are plain numbers
    (a percentage also answers its fraction when only one side has the sign), or clock times;
    else None."""
    opts = _options(opts)
    p, g = normalize(pred), normalize(gold)
    if p == g:
        return Verdict(True)
    pt, gt = clock_time(p), clock_time(g)
    if pt is not None and gt is not None:  # 1:00 is a time, not the ratio 1/0
        return Verdict(pt == gt, None if pt == gt else "mismatch")
    pn, gn = parse_number(p), parse_number(g)
    if pn is None and gn is not None:
        pn = decimal_comma(p)
    elif gn is None and pn is not None:
        gn = decimal_comma(g)
    if pn is None or gn is None:
        return None
    ok = numbers_match(pn, gn, is_percent(pred), is_percent(gold), opts.rel_tol, opts.float_rounding)
    return Verdict(ok, None if ok else "mismatch")


@lru_cache(maxsize=65536)
def answers_equal(pred: str, gold: str, opts: Options | float = DEFAULT) -> Verdict:
    """Compare two raw answer strings (already extracted).  Never raises: an unexpected
    error is a verdict with the reason `error`."""
    opts = _options(opts)
    try:
        return _answers_equal(pred, gold, opts)
    except TooLarge:
        return Verdict(False, "too_large")
    except RecursionError:
        return Verdict(False, "parse_error")
    except Exception as exc:  # a grader bug must not crash a training run: say what happened
        return Verdict(False, f"error: {type(exc).__name__}: {str(exc)[:200]}")


def _answers_equal(pred: str, gold: str, opts: Options) -> Verdict:
    fast = fast_verdict(pred, gold, opts)
    if fast is not None:
        return fast
    p, g = normalize(pred), normalize(gold)
    gold_node = parse_structure(g)
    if isinstance(gold_node, Choice):
        letter = choice_of(p)
        return Verdict(letter == gold_node.letter, None if letter == gold_node.letter else "mismatch")
    ok = _nodes_equal(parse_structure(p), gold_node, opts)
    return Verdict(ok, None if ok else "mismatch")


def _nodes_equal(p: Node, g: Node, opts: Options) -> bool:
    if isinstance(p, Chain) or isinstance(g, Chain):
        pc, gc = _resolve_chain(p, opts), _resolve_chain(g, opts)
        return pc is not None and gc is not None and _nodes_equal(pc, gc, opts)
    if isinstance(g, Equation) and g.member and not opts.set_relations and _is_relation(p):
        return False  # math-verify's allow_set_relation_comp=False: `x \in S` wants a set
    # assignments and labelled values: x=5 vs 5, (p,q)=(3,2) vs (3,2), AB=4 vs 4
    if isinstance(p, Equation) and not isinstance(g, Equation):
        return _value_of_equation(p, g, opts)
    if isinstance(g, Equation) and not isinstance(p, Equation):
        return _value_of_equation(g, p, opts)
    if isinstance(p, Equation) and isinstance(g, Equation):
        if normalize(p.lhs).replace(" ", "") == normalize(g.lhs).replace(" ", "") and _nodes_equal(
            p.rhs, g.rhs, opts
        ):
            return True  # `y=5` does not answer "x=5": two assignments must name the same variable
        return _equations_equal(p, g, opts)
    if isinstance(g, Text) or isinstance(p, Text):
        if loose(_text_of(p)) == loose(_text_of(g)):
            return True
        if isinstance(g, Text) and isinstance(p, Text):
            return False
        if isinstance(g, Text):
            return False
        return _nodes_equal(Leaf(p.text), g, opts) if isinstance(p, Text) and _looks_math(p.text) else False
    if isinstance(g, Union | Interval) or isinstance(p, Union | Interval):
        return _intervals_equal(p, g, opts)
    if isinstance(g, Matrix) or isinstance(p, Matrix):
        return _matrices_equal(p, g, opts)
    if isinstance(g, Seq) or isinstance(p, Seq):
        return _seqs_equal(p, g, opts)
    if isinstance(p, Choice) or isinstance(g, Choice):
        return isinstance(p, Choice) and isinstance(g, Choice) and p.letter == g.letter
    if isinstance(p, Leaf) and isinstance(g, Leaf):
        return leaves_equal(p.text, g.text, opts)
    return False  # two kinds of answer with no common ground


def _is_relation(node: Node) -> bool:
    if isinstance(node, Interval):
        return node.relation
    return isinstance(node, Union) and any(part.relation for part in node.parts)


def _value_of_equation(eq: Equation, other: Node, opts: Options) -> bool:
    """An equation against a bare value: `x = 5`, `AB = 4`, `(p,q) = (3,2)` state the value on
    the right; `5 \\times 6 = 30` states 30 when the equality holds; `a + 3z = 0` states none."""
    if is_label(eq.lhs):
        return _nodes_equal(eq.rhs, other, opts)
    if not any(c.isalpha() for c in unwrap_commands(eq.lhs)) and isinstance(eq.rhs, Leaf):
        return leaves_equal(eq.lhs, eq.rhs.text, opts) and _nodes_equal(eq.rhs, other, opts)
    return False


def unwrap_commands(text: str) -> str:
    """The text without LaTeX command names (`\\frac{1}{2}` has no letters that are variables)."""
    return re.sub(r"\\[a-zA-Z]+", "", text)


def _resolve_chain(node: Node, opts: Options) -> Node | None:
    """A chain states its last exact value (or its last approximation when it has no exact one),
    provided its exact constant parts agree: `x = 5+5+1 = 7 = 11` states nothing true."""
    if not isinstance(node, Chain):
        return node
    constants = [part for part in node.exact if not any(c.isalpha() for c in unwrap_commands(part))]
    exact = Options(rel_tol=opts.rel_tol)
    if any(not leaves_equal(a, constants[-1], exact) for a in constants[:-1]):
        return None
    value = node.exact[-1] if node.exact else node.approx[-1]
    rhs = parse_structure(value)
    return Equation(node.label, rhs) if node.label is not None else rhs


def _text_of(node: Node) -> str:
    if isinstance(node, Leaf | Text):
        return node.text
    if isinstance(node, Choice):
        return node.letter
    return repr(node)


def _looks_math(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _seqs_equal(p: Node, g: Node, opts: Options) -> bool:
    if not (isinstance(p, Seq) and isinstance(g, Seq)):
        # a one-element answer against a one-element list: {5} vs 5
        if isinstance(g, Seq) and len(g.items) == 1 and g.kind != "tuple":
            return _nodes_equal(p, g.items[0], opts)
        if isinstance(p, Seq) and len(p.items) == 1 and p.kind != "tuple":
            return _nodes_equal(p.items[0], g, opts)
        return False
    kinds = {p.kind, g.kind}
    if kinds == {"tuple", "set"}:
        return False  # a point is not a set of values
    if p.kind == "named" and g.kind == "named":
        return _named_equal(p, g, opts)
    if "named" in kinds and _indexed_names(p if p.kind == "named" else g):
        kinds = {"list"}  # x_1 = .., x_2 = ..: solutions in any order
    if "tuple" in kinds or "named" in kinds:
        # a point, or a bare list / named values against a point: in order, `1, 3` is not (3, 1)
        return len(p.items) == len(g.items) and all(
            _nodes_equal(_unassign(a), _unassign(b), opts) for a, b in zip(p.items, g.items)
        )
    return _same_members(_distinct(p.items), _distinct(g.items), opts)


def _same_members(ps: list, gs: list, opts: Options) -> bool:
    """Unordered lists of solutions: a one-to-one match (after dropping repeated items)."""
    if len(ps) != len(gs):
        return False
    unused = list(gs)
    for a in ps:
        for k, b in enumerate(unused):
            if _nodes_equal(_unassign(a), _unassign(b), opts):
                unused.pop(k)
                break
        else:
            return False
    return True


def _distinct(items: tuple) -> list:
    """`(3,17,3,7)` written twice in a list of solutions is one solution."""
    seen, out = set(), []
    for item in items:
        key = re.sub(r"\s+", "", repr(item))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _named_equal(p: Seq, g: Seq, opts: Options) -> bool:
    """`k = 45, n = 2` vs `n = 2, k = 45`: the same names with equal values."""
    pv = {normalize_name(e.lhs): e.rhs for e in p.items}
    gv = {normalize_name(e.lhs): e.rhs for e in g.items}
    return pv.keys() == gv.keys() and all(_nodes_equal(pv[k], gv[k], opts) for k in gv)


def _indexed_names(seq: Seq) -> bool:
    """x_1, x_2 (one letter, numbered): roots, whose order is not part of the answer."""
    bases = {re.sub(r"_.*", "", normalize_name(e.lhs)) for e in seq.items}
    return len(bases) == 1 and all("_" in e.lhs for e in seq.items)


def _unassign(node: Node) -> Node:
    return node.rhs if isinstance(node, Equation) and is_label(node.lhs) else node


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


def _intervals_equal(p: Node, g: Node, opts: Options) -> bool:
    pi, gi = _as_intervals(p), _as_intervals(g)
    if pi is None or gi is None or len(pi) != len(gi):
        return False
    unused = list(gi)
    for a in pi:
        for k, b in enumerate(unused):
            if (
                a.left_closed == b.left_closed
                and a.right_closed == b.right_closed
                and leaves_equal(a.lo, b.lo, opts)
                and leaves_equal(a.hi, b.hi, opts)
            ):
                unused.pop(k)
                break
        else:
            return False
    return True


def _matrices_equal(p: Node, g: Node, opts: Options) -> bool:
    def cells(node: Node) -> tuple[tuple, ...] | None:
        if isinstance(node, Matrix):
            return node.rows
        if isinstance(node, Leaf) and "\\begin{pmatrix}" in node.text:
            return _evaluated_matrix(node.text)  # an unevaluated sum or product of matrices
        return None

    pc, gc = cells(p), cells(g)
    if pc is not None and gc is not None:
        if len(pc) != len(gc) or any(len(a) != len(b) for a, b in zip(pc, gc)):
            return False
        return all(_nodes_equal(a, b, opts) for ra, rb in zip(pc, gc) for a, b in zip(ra, rb))
    # a column or row vector against a tuple: (1, 2) vs \begin{pmatrix}1\\2\end{pmatrix}
    matrix = pc if pc is not None else gc
    other = g if pc is not None else p
    if not isinstance(other, Seq) or other.kind != "tuple" or matrix is None:
        return False
    flat = [c for row in matrix for c in row]
    if not (len(matrix) == 1 or all(len(row) == 1 for row in matrix)) or len(flat) != len(other.items):
        return False
    return all(_nodes_equal(a, b, opts) for a, b in zip(flat, other.items))


def _evaluated_matrix(latex: str) -> tuple[tuple, ...] | None:
    """`A + B`, `A B` written with pmatrix literals -> the cells of the result."""
    try:
        value = parse_expr(latex)
        if not isinstance(value, sympy.MatrixExpr | sympy.MatrixBase):
            return None
        matrix = sympy.Matrix(value.doit() if hasattr(value, "doit") else value)
    except (ValueError, TypeError, AttributeError, sympy.ShapeError):
        return None
    return tuple(
        tuple(Leaf(sympy.latex(matrix[i, j])) for j in range(matrix.cols)) for i in range(matrix.rows)
    )


def _equations_equal(p: Equation, g: Equation, opts: Options) -> bool:
    """`y = 2x + 3` vs `2x - y + 3 = 0`: the differences are proportional."""
    try:
        dp = _value(p.lhs) - _value(_text_of(p.rhs) if isinstance(p.rhs, Leaf | Text) else "")
        dg = _value(g.lhs) - _value(_text_of(g.rhs) if isinstance(g.rhs, Leaf | Text) else "")
    except (ValueError, TypeError, TooLarge):
        return False
    if dg == 0 or dp == 0:
        return dg == dp
    ratio = sympy.simplify(dp / dg)
    if ratio.is_number:
        return bool(ratio != 0 and ratio.is_finite)
    return not opts.strict and _equal_up_to_renaming(dp, dg, opts)


_BASE_N = re.compile(r"^\{?([0-9A-Za-z]+)\}?_\{?\(?(\d+)\)?\}?$")


def _base_numeral(s: str) -> tuple[str, str] | None:
    """`40_9`, `{101}_{2}` -> (digits, base): numerals in another base compare by their digits."""
    m = _BASE_N.match(s.replace(" ", ""))
    return (m.group(1).upper(), m.group(2)) if m else None


@lru_cache(maxsize=65536)
def leaves_equal(pred: str, gold: str, opts: Options | float = DEFAULT) -> bool:
    opts = _options(opts)
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
        return numbers_equal(pn, gn, opts.rel_tol, opts.float_rounding)
    pt, gt = clock_time(p), clock_time(g)
    if pt is not None and gt is not None:
        return pt == gt
    try:
        pv, gv = _value(p), _value(g)
    except TooLarge:
        raise
    except (ValueError, TypeError, RecursionError, ZeroDivisionError):
        return loose(p) == loose(g)
    if values_equal(pv, gv, opts):
        return True
    return not opts.strict and _equal_up_to_renaming(pv, gv, opts)


def _equal_up_to_renaming(a: sympy.Expr, b: sympy.Expr, opts: Options) -> bool:
    """`strict=False`: `f(y)` answers `f(x)` (the same expression in other variable names)."""
    sa, sb = sorted(a.free_symbols, key=str), sorted(b.free_symbols, key=str)
    if not sa or len(sa) != len(sb) or len(sa) > 3:
        return False
    return any(values_equal(a.xreplace(dict(zip(sa, perm))), b, opts) for perm in itertools.permutations(sb))


def _value(latex: str) -> sympy.Expr:
    if not latex:
        raise ValueError("empty")
    value = parse_expr(latex)
    if not isinstance(value, sympy.Expr):
        raise ValueError(f"not an expression: {type(value).__name__}")
    return value


def values_equal(a: sympy.Expr, b: sympy.Expr, opts: Options | float = DEFAULT) -> bool:
    opts = _options(opts)
    if a == b:
        return True
    has_float = a.has(sympy.Float) or b.has(sympy.Float)
    if a.is_Rational and b.is_Rational:
        return a == b
    symbols = a.free_symbols | b.free_symbols
    if not symbols:
        return _numbers_close(a, b, opts if has_float else None)
    diff = a - b
    try:
        if sympy.expand(diff) == 0 or sympy.simplify(diff) == 0:
            return True
    except (TypeError, ValueError, RecursionError):
        pass
    return _agree_at_random_points(a, b, symbols, opts if has_float else None)


def _numbers_close(a: sympy.Expr, b: sympy.Expr, opts: Options | None) -> bool:
    try:
        va = sympy.N(a, _EXACT_DIGITS)
        vb = sympy.N(b, _EXACT_DIGITS)
    except (TypeError, ValueError, OverflowError):
        return False
    if va.has(sympy.zoo, sympy.nan) or vb.has(sympy.zoo, sympy.nan):
        return False  # 1/0 is no value: two undefined answers are not equal
    if not (va.is_number and vb.is_number):
        return va == vb
    if va.is_infinite or vb.is_infinite:
        return va == vb
    scale = max(abs(va), abs(vb))
    if scale == 0:
        return True
    threshold = sympy.Float(opts.rel_tol, _EXACT_DIGITS) if opts is not None else _EXACT_REL
    if abs(va - vb) <= threshold * scale:
        return True
    if opts is not None and opts.float_rounding is not None and va.is_real and vb.is_real:
        digits = opts.float_rounding
        return bool(round(va, digits) == round(vb, digits))
    return False


def _agree_at_random_points(a: sympy.Expr, b: sympy.Expr, symbols: set, opts: Options | None) -> bool:
    rng = random.Random(12345)
    ordered = sorted(symbols, key=str)
    for _ in range(4):
        point = {s: sympy.Rational(rng.randint(1, 997), rng.randint(1, 97)) for s in ordered}
        try:
            if not _numbers_close(a.subs(point), b.subs(point), opts):
                return False
        except (TypeError, ValueError, ZeroDivisionError):
            return False
    return True
