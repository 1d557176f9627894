"""Split a normalized answer into its structure before any value is compared.

Deciding the structure ourselves (instead of asking a LaTeX parser) is what
keeps `(1,2)` a point and `[1,2)` an interval, `1, 2` an unordered list of
solutions, `x=5` an assignment, and `2 < x \\le 5` the interval `(2, 5]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .normalize import unwrap_text


@dataclass(frozen=True)
class Leaf:
    text: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Choice:
    letter: str


@dataclass(frozen=True)
class Seq:
    """kind: `tuple` (ordered), `set` (unordered), `list` (unordered solutions)."""

    kind: str
    items: tuple


@dataclass(frozen=True)
class Interval:
    left_closed: bool
    lo: str
    hi: str
    right_closed: bool


@dataclass(frozen=True)
class Union:
    parts: tuple  # of Interval; a single interval is a Union of one


@dataclass(frozen=True)
class Matrix:
    rows: tuple  # tuple of tuples of nodes


@dataclass(frozen=True)
class Equation:
    lhs: str
    rhs: object  # node


Node = Leaf | Text | Choice | Seq | Interval | Union | Matrix | Equation

_CHOICE = re.compile(r"^\(?\s*([A-J])\s*\)?(?:\s.*|:.*)?$", re.DOTALL)
_CHOICE_ONLY = re.compile(r"^\(?\s*([A-J])\s*\)?$")
_TEXT_WHOLE = re.compile(r"^\\(?:text|textbf|mbox|textrm|mathrm)\s*\{([^{}]*)\}$")
_MATRIX = re.compile(r"^\\begin\{pmatrix\}(.*)\\end\{pmatrix\}$", re.DOTALL)
_OR = re.compile(
    r"\\text\{\s*or\s*\}|\\(?:quad|qquad)?\s*\bor\b|\\lor|\\vee|\s+or\s+|\\text\{\s*and\s*\}|\s+and\s+"
)
_INEQ = re.compile(r"(\\leq|\\geq|<|>|\\le\b|\\ge\b)")
_IN = re.compile(r"\\in(?![a-zA-Z])")
_OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "\\langle": "\\rangle"}
_SIMPLE_LHS = re.compile(
    r"^(?:[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\s*\([a-zA-Z]\)|[a-zA-Z]\s*\(\s*[-\d.]+\s*\))$"
)


def split_top(s: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside any bracket pair (), [], {}, \\{\\}."""
    parts, depth, start, i = [], 0, 0, 0
    n = len(s)
    while i < n:
        c = s[i]
        if depth == 0 and s.startswith(sep, i):
            parts.append(s[start:i])
            start = i + len(sep)
            i = start
            continue
        if c == "\\" and i + 1 < n:
            if s.startswith("\\left", i) or s.startswith("\\right", i):
                i += 1
                continue
            if s[i + 1] in "{}":
                depth += 1 if s[i + 1] == "{" else -1
                i += 2
                continue
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    parts.append(s[start:])
    return [p.strip() for p in parts]


def _enclosed(s: str) -> tuple[str, str, str] | None:
    """`(a,b]` -> ('(', 'a,b', ']') when the outer brackets enclose the whole string."""
    for opener in ("\\{", "\\langle", "(", "[", "{"):
        if s.startswith(opener):
            break
    else:
        return None
    for closer in ("\\}", "\\rangle", ")", "]", "}"):
        if s.endswith(closer):
            break
    else:
        return None
    inner = s[len(opener) : len(s) - len(closer)]
    if opener in ("\\{", "\\langle", "{") and closer != _OPENERS[opener]:
        return None
    if not _balanced(inner):
        return None
    return opener, inner.strip(), closer


def _balanced(s: str) -> bool:
    depth = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            if s[i + 1] in "{}":
                depth += 1 if s[i + 1] == "{" else -1
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if depth < 0:
            return False
        i += 1
    return depth == 0


@lru_cache(maxsize=65536)
def parse_structure(s: str) -> Node:
    """Structure of a normalized answer string."""
    s = s.strip()
    m = _TEXT_WHOLE.match(s)
    if m:
        inner = m.group(1).strip()
        choice = _CHOICE_ONLY.match(inner)
        if choice:
            return Choice(choice.group(1))
        return Text(inner)
    if _CHOICE_ONLY.match(s):
        return Choice(_CHOICE_ONLY.match(s).group(1))
    if s in ("\\emptyset", "\\{\\emptyset\\}", "\\{ \\}"):
        return Seq("set", ())
    m = _MATRIX.match(s)
    if m:
        rows = [r for r in re.split(r"\\\\", m.group(1)) if r.strip()]
        return Matrix(tuple(tuple(parse_structure(c.strip()) for c in r.split("&")) for r in rows))
    cup_parts = split_top(s, "\\cup") if "\\cup" in s else []
    if len(cup_parts) > 1 and all(cup_parts):
        parts = [parse_structure(p) for p in cup_parts]
        intervals: list[Interval] = []
        for p in parts:
            if isinstance(p, Interval):
                intervals.append(p)
            elif isinstance(p, Union):
                intervals.extend(p.parts)
            elif isinstance(p, Seq) and p.kind == "tuple" and len(p.items) == 2:
                intervals.append(Interval(False, _leaf_text(p.items[0]), _leaf_text(p.items[1]), False))
            elif isinstance(p, Seq) and p.kind == "set":
                return Seq("set", tuple(x for q in parts if isinstance(q, Seq) for x in q.items))
            else:
                return Leaf(s)
        return Union(tuple(intervals))
    or_parts = [p for p in _OR.split(s) if p.strip()] if _OR.search(s) else []
    if len(or_parts) > 1:
        nodes = [parse_structure(p) for p in or_parts]
        if all(isinstance(n, Interval | Union) for n in nodes):
            return Union(tuple(i for n in nodes for i in (n.parts if isinstance(n, Union) else (n,))))
        return Seq("list", tuple(nodes))
    inequality = _inequality(s)
    if inequality is not None:
        return inequality
    if "\\pm" in s:
        head, _, tail = s.partition("\\pm")
        if head.strip() in ("", "+"):
            return Seq("list", (Leaf(tail.strip()), Leaf(f"-{tail.strip()}")))
        if "\\pm" not in tail and "=" not in head:
            return Seq("list", (Leaf(f"{head}+{tail}"), Leaf(f"{head}-({tail})")))
    enclosed = _enclosed(s)
    if enclosed is not None:
        opener, inner, closer = enclosed
        items = split_top(inner) if inner else []
        if opener == "\\{":
            return Seq("set", tuple(parse_structure(x) for x in items))
        if opener == "{":
            return (
                parse_structure(inner)
                if len(items) == 1
                else Seq("list", tuple(parse_structure(x) for x in items))
            )
        if len(items) == 2 and (opener, closer) != ("(", ")") and opener in "([" and closer in ")]":
            return Interval(opener == "[", items[0], items[1], closer == "]")
        if len(items) == 2 and opener == "(" and closer == ")" and "\\infty" in inner:
            return Interval(False, items[0], items[1], False)
        if len(items) >= 2 and opener in ("(", "\\langle") and closer in (")", "\\rangle"):
            return Seq("tuple", tuple(parse_structure(x) for x in items))
        if len(items) >= 2 and opener == "[" and closer == "]":
            return Seq("tuple", tuple(parse_structure(x) for x in items))
    items = split_top(s)
    if len(items) > 1 and all(items):
        return Seq("list", tuple(parse_structure(x) for x in items))
    semis = split_top(s, ";")
    if len(semis) > 1 and all(semis):
        return Seq("list", tuple(parse_structure(x) for x in semis))
    member = _IN.split(s)
    if len(member) == 2 and is_simple_lhs(member[0]) and member[1].strip():
        return Equation(member[0].strip(), parse_structure(member[1].strip()))  # x \in [1,2] means x = [1,2]
    if "=" in s and s.count("=") == 1 and "\\leq" not in s and "\\geq" not in s:
        lhs, rhs = (p.strip() for p in s.split("="))
        if lhs and rhs:
            return Equation(lhs, parse_structure(rhs))
    if "\\text" in s or "\\mbox" in s or "\\textbf" in s:
        inner = unwrap_text(s).strip()
        if inner != s:
            if re.fullmatch(r"[A-Za-z][A-Za-z .,'-]*", inner):
                return Text(inner)
            return parse_structure(inner)
    return Leaf(s)


def _leaf_text(node: Node) -> str:
    return node.text if isinstance(node, Leaf | Text) else str(node)


def _inequality(s: str) -> Interval | None:
    """`x < 3` -> (-oo, 3); `1 \\le x < 3` -> [1, 3); `3 > x` -> (-oo, 3)."""
    pieces = _INEQ.split(s)
    if len(pieces) not in (3, 5):
        return None
    terms = [p.strip() for p in pieces[0::2]]
    ops = pieces[1::2]
    if not all(terms):
        return None
    norm_ops = [("<=" if op in ("\\leq", "\\le") else ">=" if op in ("\\geq", "\\ge") else op) for op in ops]
    if len(terms) == 2:
        var_left = _is_variable(terms[0])
        var_right = _is_variable(terms[1])
        if var_left == var_right:
            return None
        op = norm_ops[0]
        if var_right:  # 3 > x  ->  x < 3
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
        bound = terms[1] if var_left else terms[0]
        if op in ("<", "<="):
            return Interval(False, "-\\infty", bound, op == "<=")
        return Interval(op == ">=", bound, "\\infty", False)
    if not _is_variable(terms[1]) or len(set(o[0] for o in norm_ops)) != 1:
        return None
    if norm_ops[0][0] == "<":
        return Interval(norm_ops[0] == "<=", terms[0], terms[2], norm_ops[1] == "<=")
    return Interval(norm_ops[1] == ">=", terms[2], terms[0], norm_ops[0] == ">=")


def _is_variable(term: str) -> bool:
    return bool(re.fullmatch(r"[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+", term)) and term not in (
        "\\infty",
        "\\pi",
    )


def is_simple_lhs(lhs: str) -> bool:
    """`x`, `k`, `a_1`, `\\theta`, `f(x)`, `f(2)`: the left side of an assignment, not an equation."""
    return bool(_SIMPLE_LHS.match(lhs.strip()))


def choice_of(s: str) -> str | None:
    """The option letter a predicted answer names: `C`, `(C)`, `\\text{(C)}`, `(C) 42`."""
    text = unwrap_text(s).strip()
    m = _CHOICE.match(text)
    return m.group(1) if m else None
