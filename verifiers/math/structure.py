"""Split a normalized answer into its structure before any value is compared.

Deciding the structure ourselves (instead of asking a LaTeX parser) is what
keeps `(1,2)` a point and `[1,2)` an interval, `1, 2` an unordered list of
solutions, `x=5` an assignment, and `2 < x \\le 5` the interval `(2, 5]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    relation: bool = field(default=False, compare=False)  # written as an inequality, `x > 2`


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
    member: bool = False  # `x \\in S` rather than `x = S`


@dataclass(frozen=True)
class Chain:
    """`x = 5+5+1 = 11` or `x = 1/3 \\approx 0.33`: a label, the exact parts, the approximations."""

    label: str | None
    exact: tuple
    approx: tuple


Node = Leaf | Text | Choice | Seq | Interval | Union | Matrix | Equation | Chain

_CHOICE = re.compile(r"^\(?\s*([A-J])\s*\)?(?:\s.*|:.*)?$", re.DOTALL)
_CHOICE_ONLY = re.compile(r"^\(?\s*([A-J])\s*\)?$")
_TEXT_WHOLE = re.compile(r"^\\(?:text|textbf|mbox|textrm|mathrm)\s*\{([^{}]*)\}$")
_MATRIX = re.compile(r"^\\begin\{pmatrix\}(.*)\\end\{pmatrix\}$", re.DOTALL)
_OR = re.compile(
    r"\\text\{\s*or\s*\}|\\(?:quad|qquad)?\s*\bor\b|\\lor|\\vee|\s+or\s+|(?<=[)\]}])\s*or\s*(?=[(\[{])|\\text\{\s*and\s*\}|\s+and\s+"
)
_INEQ = re.compile(r"(\\leq|\\geq|\\neq|<|>|\\le\b|\\ge\b)")
_IN = re.compile(r"\\in(?![a-zA-Z])")
_OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "\\langle": "\\rangle"}
_NAME = r"(?:[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+)"
_NAME_TUPLE = re.compile(rf"^\(\s*{_NAME}(?:\s*,\s*{_NAME})+\s*\)$")  # (p, q) = (3, 2)
_SUBSCRIPT = re.compile(r"_\{[^{}]*\}|_\w")
_LABEL_MARKUP = re.compile(
    r"\\(?:frac|dfrac|overline|angle|text|mathrm|operatorname|vert|lvert|rvert|mid)\b|[{}|:\s]"
)
_APPROX = "\\approx"
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
    if m and "\\begin{pmatrix}" not in m.group(1):  # one matrix, not a sum or product of two
        rows = [r for r in re.split(r"\\\\", m.group(1)) if r.strip()]
        return Matrix(tuple(tuple(parse_structure(c.strip()) for c in r.split("&")) for r in rows))
    member = _IN.split(s)
    if len(member) == 2 and is_simple_lhs(member[0]) and member[1].strip():
        # x \in [1,2] means x = [1,2]
        return Equation(member[0].strip(), parse_structure(member[1].strip()), member=True)
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
        # `21, 16 or 11`: one flat list of solutions
        flat = [i for n in nodes for i in (n.items if isinstance(n, Seq) and n.kind == "list" else (n,))]
        return Seq("list", tuple(flat))
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
        if len(items) == 1 and opener == "(" and ";" in inner:
            items = split_top(inner, ";")  # (0;-2;6): a point written with semicolons
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
    semis = split_top(s, ";")
    if len(semis) > 1 and all(semis):
        return Seq("list", tuple(parse_structure(x) for x in semis))
    items = split_top(s)
    if len(items) > 1 and all(items):
        return _named_or_list(tuple(parse_structure(x) for x in items))
    chain = _chain(s)
    if chain is not None:
        return chain
    sides = split_top(s, "=") if "=" in s and "\\leq" not in s and "\\geq" not in s else []
    if len(sides) == 2 and all(sides):  # `=` inside braces (\sum_{k=0}) does not count
        return Equation(sides[0], parse_structure(sides[1]))
    if "\\text" in s or "\\mbox" in s or "\\textbf" in s:
        inner = unwrap_text(s).strip()
        if inner != s:
            if re.fullmatch(r"[A-Za-z][A-Za-z .,'-]*", inner):
                return Text(inner)
            return parse_structure(inner)
    return Leaf(s)


def _named_or_list(items: tuple) -> Seq:
    """`p=5, q=2` (distinct names) is one named answer; `x=1, x=2` is a list of solutions."""
    names = [normalize_name(i.lhs) for i in items if isinstance(i, Equation) and is_simple_lhs(i.lhs)]
    if len(names) == len(items) and len(set(names)) == len(names):
        return Seq("named", items)
    return Seq("list", items)


def normalize_name(name: str) -> str:
    return re.sub(r"[\s{}]", "", name)


def _chain(s: str) -> Chain | None:
    """`x = 5+5+1 = 11`, `x \\approx 11`, `x = 1/3 \\approx 0.33`: more than one value stated."""
    if s.count("=") < 2 and _APPROX not in s:
        return None
    head, *approx = split_top(s, _APPROX) if _APPROX in s else [s]
    exact = split_top(head, "=") if "=" in head else [head]
    if not all(exact) or not all(approx):
        return None
    label = None
    if len(exact) > 1 and is_label(exact[0]) or len(exact) == 1 and approx and is_label(exact[0]):
        label, exact = exact[0], exact[1:]
    if len(exact) + len(approx) < 2:
        return None  # one value: an ordinary equation
    return Chain(label, tuple(exact), tuple(approx))


def is_label(lhs: str) -> bool:
    """A name whose value the answer states: `x`, `f(x)`, `(p,q)`, `AB`, `|AB|`, `V_1:V_2`,
    `\\frac{NO}{BO}`.  No digits outside subscripts and no operators: `a+3z` is an equation."""
    s = lhs.strip()
    if is_simple_lhs(s) or _NAME_TUPLE.match(s):
        return True
    if any(op in s for op in "+-*^=<>!"):
        return False
    bare = _LABEL_MARKUP.sub("", _SUBSCRIPT.sub("", s))
    return bool(re.fullmatch(r"[A-Za-z]{1,8}", bare))


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
    flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "!=": "!="}
    norm_ops = [
        "<="
        if op in ("\\leq", "\\le")
        else ">="
        if op in ("\\geq", "\\ge")
        else "!="
        if op == "\\neq"
        else op
        for op in ops
    ]
    if len(terms) == 2:
        op = norm_ops[0]
        if _is_negated_variable(terms[0]) and not _is_variable(terms[1]):  # -x > -1  ->  x < 1
            terms, op = [terms[0].strip()[1:].strip(), f"-({terms[1]})"], flip[op]
        elif _is_negated_variable(terms[1]) and not _is_variable(terms[0]):
            terms, op = [f"-({terms[0]})", terms[1].strip()[1:].strip()], flip[op]
        var_left = _is_variable(terms[0])
        var_right = _is_variable(terms[1])
        if var_left == var_right:
            return None
        if var_right:  # 3 > x  ->  x < 3
            op = flip[op]
        bound = terms[1] if var_left else terms[0]
        if op == "!=":  # x != 3: everything but 3
            return Union(
                (
                    Interval(False, "-\\infty", bound, False, True),
                    Interval(False, bound, "\\infty", False, True),
                )
            )
        if op in ("<", "<="):
            return Interval(False, "-\\infty", bound, op == "<=", True)
        return Interval(op == ">=", bound, "\\infty", False, True)
    if "!=" in norm_ops or len(set(o[0] for o in norm_ops)) != 1:
        return None
    if norm_ops[0][0] == "<":
        lo, hi, lo_closed, hi_closed = terms[0], terms[2], norm_ops[0] == "<=", norm_ops[1] == "<="
    else:
        lo, hi, lo_closed, hi_closed = terms[2], terms[0], norm_ops[1] == ">=", norm_ops[0] == ">="
    if _is_variable(terms[1]):
        return Interval(lo_closed, lo, hi, hi_closed, True)
    if _is_abs_variable(terms[1]) and _NONNEGATIVE.fullmatch(lo):
        # 1 <= |z| <= 3/2: two intervals, mirrored around 0
        return Union(
            (
                Interval(hi_closed, f"-{hi}", f"-{lo}", lo_closed, True),
                Interval(lo_closed, lo, hi, hi_closed, True),
            )
        )
    return None


_NONNEGATIVE = re.compile(r"\d+(?:\.\d+)?|\\frac\{\d+\}\{\d+\}|\d+/\d+")


def _is_abs_variable(term: str) -> bool:
    t = term.strip()
    return len(t) > 2 and t[0] == t[-1] == "|" and _is_variable(t[1:-1].strip())


def _is_negated_variable(term: str) -> bool:
    t = term.strip()
    return t.startswith("-") and _is_variable(t[1:].strip())


def _is_variable(term: str) -> bool:
    """`x`, `a_1`, `\\theta`, `f(x)`: what an inequality constrains."""
    return bool(
        re.fullmatch(r"[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\s*\(\s*[a-zA-Z]\s*\)", term)
    ) and term not in (
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
