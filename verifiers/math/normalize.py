"""The one place where answer strings are normalized (gold and predicted alike).

Removes typography that does not change the value (spacing commands, `\\left`,
`\\dfrac`, thousands separators written as `{,}` or `,\\!`), and what graders
agree to ignore: units, currency, degree signs, percent signs.
"""

from __future__ import annotations

import re
from functools import lru_cache

# `\\frac` written with a doubled backslash (an escaping slip in JSON or Python sources): the
# LaTeX line break `\\` is never followed directly by a command name in an answer
_DOUBLED_BACKSLASH = re.compile(
    r"(?<!\\)\\\\(?=(?:frac|dfrac|tfrac|sqrt|left|right|pi|le|ge|leq|geq|boxed|cdot|times|text)\b)"
)
# `11,\! 111,\! 100`: a thousands separator written with a negative thin space, then a space
_THIN_THOUSANDS = re.compile(r"(?<=\d),\\!\s*(?=\d{3}(?!\d))")
_DELETE = [
    "\\displaystyle",
    "\\textstyle",
    "\\left",
    "\\right",
    "\\big",
    "\\Big",
    "\\bigg",
    "\\Bigg",
    "\\!",
    "\\,",
    "\\;",
    "\\:",
    "\\quad",
    "\\qquad",
    "\\limits",
    "\\mathrm{~}",
]
_REPLACE = [
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\cfrac", "\\frac"),
    ("\\dbinom", "\\binom"),
    ("\\tbinom", "\\binom"),
    (">=", "\\geq "),
    ("<=", "\\leq "),
    ("!=", "\\neq "),
    ("≠", "\\neq "),
    ("\\ne ", "\\neq "),
    ("\\le ", "\\leq "),
    ("\\ge ", "\\geq "),
    ("\\leqslant", "\\leq"),
    ("\\geqslant", "\\geq"),
    ("≤", "\\leq "),
    ("≥", "\\geq "),
    ("\\lt", "<"),
    ("\\gt", ">"),
    ("\\varnothing", "\\emptyset"),
    ("∅", "\\emptyset"),
    ("\\{\\}", "\\emptyset"),
    ("\\lbrace", "\\{"),
    ("\\rbrace", "\\}"),
    ("\\lbrack", "["),
    ("\\rbrack", "]"),
    ("\\bmatrix", "\\pmatrix"),
    ("{bmatrix}", "{pmatrix}"),
    ("{vmatrix}", "{pmatrix}"),
    ("{matrix}", "{pmatrix}"),
    ("−", "-"),
    ("×", "\\times "),
    ("·", "\\cdot "),
    ("π", "\\pi "),
    ("√", "\\sqrt "),
    ("∞", "\\infty "),
    ("\\infinity", "\\infty"),
    ("\\mp", "\\pm"),
]
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree")
_CURRENCY_PERCENT = re.compile(r"\\\$|\$|\\%|%|\\euro|€|£|¥|(?<=\d)\s*(?:pct|percentage)\b")
_TEXT_CMD = re.compile(
    r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox|mathit|textnormal|operatorname)\s*\{([^{}]*)\}"
)
_LONG_UNITS = (
    r"(?:square|sq\.?|cubic)?\s*(?:units?|cm|centimeters?|mm|millimeters?|meters?|metres?|km|kilometers?|"
    r"inch(?:es)?|feet|foot|ft|yards?|yd|miles?|mph|kg|kilograms?|grams?|pounds?|lbs?|ounces?|oz|"
    r"liters?|litres?|ml|gallons?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
    r"dollars?|cents?|euros?|degrees?|radians?|points?|people|persons?|students?|ways|percent|"
    r"times|items?|books?|cookies?|apples?|marbles?|cups?|pages?|boxes?|coins?|tickets?)"
)
# one- and two-letter units are only units when set in \text{} / \mathrm{}: "3m" may be 3 times m
_SHORT_UNITS = r"(?:m|s|g|l|in|mi|rad|h)"
_SQUARE_UNITS = r"(?:[kcm]?m[²³])"  # 5 m², 3 cm³: a unit wherever it is written
_TRAILING_UNIT = re.compile(
    r"(?<=[\d}).\s])\s*(?:(?:\\(?:text|mathrm|mbox|textnormal)\{\s*)?"
    + _LONG_UNITS
    + r"|\\(?:text|mathrm|mbox|textnormal)\{\s*"
    + _SHORT_UNITS
    + r"|"
    + _SQUARE_UNITS
    + r")\.?\s*\}?(?:\s*\^\s*\{?[23]\}?)?\s*$",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"(?<=\d)\{,\}(?=\d{3})")
_ESCAPED_SPACE = re.compile(r"(?<!\\)\\ ")  # "\ " is a space, "\\ " is a matrix row break
_BOLD = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathit|mathbb)\s*\{([^{}]*)\}")  # typography only
_SPACE_THOUSANDS = re.compile(r"^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$")  # a whole answer like 1 000 000
_ARRAY = re.compile(r"\\begin\{array\}\{[lcr|\s]*\}")
_BRACKETED_MATRIX = re.compile(r"^\s*[\[(]\s*(\\begin\{pmatrix\}.*\\end\{pmatrix\})\s*[\])]\s*$", re.DOTALL)
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[.;,]+$")
_APPROX_PREFIX = re.compile(r"^(?:\\approx|≈|~|about|approximately)\s*", re.IGNORECASE)


@lru_cache(maxsize=65536)
def normalize(answer: str) -> str:
    """Canonical text of an answer; equal strings mean equal answers."""
    s = answer.strip()
    if "\\\\" in s:
        s = _DOUBLED_BACKSLASH.sub(r"\\", s)
    if ",\\!" in s:
        s = _THIN_THOUSANDS.sub("", s)
    for token in _DELETE:
        if token in s:
            s = s.replace(token, " " if token in ("\\quad", "\\qquad") else "")
    s = _ESCAPED_SPACE.sub(" ", s)
    for old, new in _REPLACE:
        if old in s:
            s = s.replace(old, new)
    s = _BOLD.sub(r"\1", s)
    s = _THOUSANDS.sub("", s)
    if _SPACE_THOUSANDS.match(s):
        s = s.replace(" ", "")
    s = _ARRAY.sub(r"\\begin{pmatrix}", s).replace("\\end{array}", "\\end{pmatrix}")
    s = _BRACKETED_MATRIX.sub(r"\1", s)
    s = _DEGREES.sub("", s)
    s = _CURRENCY_PERCENT.sub("", s)
    s = _strip_units(s)
    s = _APPROX_PREFIX.sub("", s)
    s = _SPACES.sub(" ", s).strip()
    s = _TRAILING_PUNCT.sub("", s).strip()
    return s


def _strip_units(s: str) -> str:
    """`100\\text{ square units}` -> `100`, `5 cm^2` -> `5`; never strips the whole answer."""
    for _ in range(2):
        m = _TRAILING_UNIT.search(s)
        if not m or not s[: m.start()].strip():
            break
        s = s[: m.start()].rstrip()
    return s


def unwrap_text(s: str) -> str:
    """Replace `\\text{X}` (and friends) by `X` everywhere."""
    prev = None
    while prev != s:
        prev, s = s, _TEXT_CMD.sub(lambda m: m.group(1), s)
    return s


def loose(s: str) -> str:
    """A forgiving comparison key for text answers: no markup, case, spaces or dots."""
    s = unwrap_text(s).lower()
    return re.sub(r"[\s.{}\\~]|mathrm|text", "", s)
