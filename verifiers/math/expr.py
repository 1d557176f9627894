"""LaTeX expression -> sympy, guarded against values too large to build.

A small recursive-descent parser covers what answers are mostly made of
(numbers, letters, + - * / ^, `\\frac`, `\\sqrt`, `\\pi`, functions, implicit
multiplication, factorials) about 50x faster than the ANTLR grammar of
latex2sympy2_extended, which remains the fallback for the rest.  Integer
powers and factorials are checked before they are evaluated, so
`9^{9^{9^9}}` is refused in microseconds instead of hanging in GMP.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import sympy

MAX_DIGITS = 10_000  # exact values beyond 10^10000 are not built


class TooLarge(ValueError):
    """The expression denotes a number too large to build exactly."""


class Unsupported(ValueError):
    """The fast parser does not handle this input (the fallback may)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<cmd>\\[a-zA-Z]+|\\[{}|])|(?P<var>[a-zA-Z])|(?P<op>[-+*/^_!(){}\[\]|,=<>']))"
)
_FUNCS = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "ln": sympy.log,
    "exp": sympy.exp,
}
_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
}
_MUL_CMDS = {"\\cdot", "\\times", "\\ast"}


def _tokens(s: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    s = s.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            raise Unsupported(f"unexpected {s[pos : pos + 10]!r}")
        kind = m.lastgroup
        if kind is None:  # not reachable with the token regex; a clear refusal rather than an assert
            raise Unsupported(f"untokenizable {s[pos : pos + 10]!r}")
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _safe_pow(base: sympy.Expr, exp: sympy.Expr) -> sympy.Expr:
    if base.is_Integer and exp.is_Integer:
        b, e = abs(int(base)), int(exp)
        if b > 1 and abs(e) * math.log10(b) > MAX_DIGITS:
            raise TooLarge(f"{b}^{e}")
    elif base.is_Rational and exp.is_Integer and abs(int(exp)) > 1:
        size = max(abs(base.p), abs(base.q), 2)
        if abs(int(exp)) * math.log10(size) > MAX_DIGITS:
            raise TooLarge("power")
    elif exp.is_number and base.is_number and (exp.has(sympy.Pow) or base.has(sympy.Pow)):
        # towers such as 9^{9^{9^9}}: estimate the size from the float values first
        try:
            fe = float(exp)
            fb = abs(complex(base))
        except (TypeError, ValueError, OverflowError):
            raise TooLarge("power") from None
        if fb > 1 and fe * math.log10(fb) > MAX_DIGITS:
            raise TooLarge("power")
    return sympy.Pow(base, exp)


def _safe_factorial(n: sympy.Expr) -> sympy.Expr:
    if n.is_Integer and int(n) > 3_000:
        return sympy.factorial(n, evaluate=False)
    return sympy.factorial(n)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.toks = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise Unsupported(f"expected {value!r}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> sympy.Expr:
        result = self.expr()
        if self.peek() is not None:
            raise Unsupported(f"trailing {self.peek()!r}")
        return result

    def expr(self) -> sympy.Expr:
        terms = [self.term()]
        while (tok := self.peek()) is not None and tok[1] in "+-" and tok[0] == "op":
            self.take()
            t = self.term()
            terms.append(t if tok[1] == "+" else -t)
        return sympy.Add(*terms)

    def term(self) -> sympy.Expr:
        result = self.unary()
        while (tok := self.peek()) is not None:
            kind, val = tok
            if val in ("*",) or val in _MUL_CMDS:
                self.take()
                result = result * self.unary()
            elif val == "/" or val == "\\div":
                self.take()
                den = self.unary()
                if den == 0:
                    raise Unsupported("division by zero")
                result = result / den
            elif self._starts_atom(tok):
                if kind == "num" and self.toks[self.i - 1][0] == "num":
                    raise Unsupported("two numbers side by side")  # "1 000" is not 1 * 000
                result = result * self.power()  # implicit multiplication: 2x, 3\sqrt{2}, x(y+1)
            else:
                break
        return result

    def unary(self) -> sympy.Expr:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in "+-":
            self.take()
            inner = self.unary()
            return -inner if tok[1] == "-" else inner
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.postfix()
        tok = self.peek()
        if tok is not None and tok[1] == "^":
            self.take()
            exponent = self.exponent()
            return _safe_pow(base, exponent)
        return base

    def exponent(self) -> sympy.Expr:
        tok = self.peek()
        if tok is not None and tok[1] == "{":
            return self.group()
        if tok is not None and tok[0] == "num":
            self.take()
            digits = tok[1]
            # x^23 in LaTeX means x^2 * 3 only by accident; treat a bare number as the exponent
            return sympy.Rational(digits) if "." not in digits else sympy.Float(digits)
        return self.unary_atom()

    def unary_atom(self) -> sympy.Expr:
        tok = self.peek()
        if tok is not None and tok[1] == "-":
            self.take()
            return -self.postfix()
        return self.postfix()

    def postfix(self) -> sympy.Expr:
        value = self.atom()
        while (tok := self.peek()) is not None and tok[1] == "!":
            self.take()
            value = _safe_factorial(value)
        return value

    def group(self) -> sympy.Expr:
        self.take("{")
        inner = self.expr()
        self.take("}")
        return inner

    def _starts_atom(self, tok: tuple[str, str]) -> bool:
        kind, val = tok
        if kind in ("num", "var"):
            return True
        if kind == "op":
            return val in "({"
        return val not in _MUL_CMDS and val not in ("\\div", "\\pm", "\\}", "\\{")

    def atom(self) -> sympy.Expr:
        tok = self.take()
        kind, val = tok
        if kind == "num":
            return sympy.Rational(val) if "." not in val else sympy.Float(val, max(15, len(val)))
        if kind == "var":
            if val == "i":
                return sympy.I
            if val == "e":
                return sympy.E
            return self._subscripted(val)
        if val == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if val == "{":
            inner = self.expr()
            self.take("}")
            return inner
        if kind == "cmd":
            return self.command(val[1:])
        raise Unsupported(f"unexpected {val!r}")

    def _subscripted(self, name: str) -> sympy.Expr:
        tok = self.peek()
        if tok is not None and tok[1] == "_":
            self.take()
            sub = self.take()
            if sub[1] == "{":
                parts = []
                while (t := self.take())[1] != "}":
                    parts.append(t[1])
                sub_text = "".join(parts)
            else:
                sub_text = sub[1]
            name = f"{name}_{sub_text}"
        return sympy.Symbol(name)

    def command(self, name: str) -> sympy.Expr:
        if name in ("frac", "dfrac", "tfrac"):
            num, den = self.arg(), self.arg()
            if den == 0:
                raise Unsupported("division by zero")
            return num / den
        if name == "sqrt":
            index = None
            if (tok := self.peek()) is not None and tok[1] == "[":
                self.take()
                index = self.expr()
                self.take("]")
            radicand = self.arg()
            return sympy.sqrt(radicand) if index is None else _safe_pow(radicand, 1 / index)
        if name == "pi":
            return sympy.pi
        if name == "infty":
            return sympy.oo
        if name in ("log",):
            base = None
            if (tok := self.peek()) is not None and tok[1] == "_":
                self.take()
                base = self.arg()
            arg = self.function_argument()
            return sympy.log(arg) if base is None else sympy.log(arg, base)
        if name in _FUNCS:
            exponent = None
            if (tok := self.peek()) is not None and tok[1] == "^":
                self.take()
                exponent = self.exponent()
            value = _FUNCS[name](self.function_argument())
            return value if exponent is None else _safe_pow(value, exponent)
        if name in _GREEK:
            return self._subscripted(name)
        if name in ("mathrm", "mathit", "text") and (tok := self.peek()) is not None and tok[1] == "{":
            return self.group()
        raise Unsupported(f"\\{name}")

    def arg(self) -> sympy.Expr:
        tok = self.peek()
        if tok is not None and tok[1] == "{":
            return self.group()
        if tok is not None and tok[0] == "num" and len(tok[1]) > 1 and tok[1].isdigit():
            # \frac12 = \frac{1}{2}: a bare argument is one digit
            self.take()
            self.toks.insert(self.i, ("num", tok[1][1:]))
            return sympy.Integer(tok[1][0])
        return self.atom()

    def function_argument(self) -> sympy.Expr:
        tok = self.peek()
        if tok is not None and tok[1] in ("(", "{"):
            return self.atom()
        return self.power()


@lru_cache(maxsize=16384)
def parse_expr(latex: str) -> sympy.Expr:
    """sympy value of a normalized LaTeX expression; raises `TooLarge` / `ValueError`."""
    try:
        return _Parser(_tokens(latex)).parse()
    except (Unsupported, IndexError):
        pass
    return _fallback(latex)


_SPACED_DIGITS = re.compile(r"\d\s+\d")
_NESTED_POWER = re.compile(r"\^\s*\{[^{}]*\^|\^\s*\d{6,}|\^\s*\{\s*\d{6,}")


def _fallback(latex: str) -> sympy.Expr:
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    if _NESTED_POWER.search(latex):
        raise TooLarge("nested or huge exponent")
    if _SPACED_DIGITS.search(latex):  # "1 2 3" is a list or a typo, never the product 6
        raise ValueError(f"numbers side by side in {latex[:80]!r}")
    try:
        value = latex2sympy(latex, conversion_config=ConversionConfig(lowercase_symbols=False))
    except TooLarge:
        raise
    except Exception as exc:
        raise ValueError(f"cannot parse {latex[:80]!r}: {type(exc).__name__}") from exc
    if isinstance(value, str | list | tuple) or value is None:
        raise ValueError(f"cannot parse {latex[:80]!r}")
    i = sympy.Symbol("i")
    if isinstance(value, sympy.Basic) and i in getattr(value, "free_symbols", ()):
        value = value.subs(i, sympy.I)
    return value
