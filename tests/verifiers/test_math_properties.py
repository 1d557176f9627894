"""Property tests, one per class of answer fixed for issue 15 (math-verify's suite).

Each property draws random answers of its class and states the verdict a grader
must give: equivalent forms are accepted, and every near miss (another time,
another order, another value, a false equality) is rejected.  `check` is called
directly (the same code the worker processes run) so hundreds of examples stay fast.
"""

from __future__ import annotations

import random
import subprocess
import sys
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rlvr.verifiers import get_verifier

MATH = get_verifier("math")
SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def correct(completion: str, gold: object, verifier=MATH) -> bool:
    result = verifier.check(completion, gold)
    assert result.reason not in ("error", "crash"), result
    return result.correct is True


ints = st.integers(-10_000, 10_000)
small = st.integers(-99, 99)


# ---------------------------------------------------------------- bare answers
@SETTINGS
@given(n=ints, wrap=st.sampled_from(["{}", "${}$", "$$ {} $$", "\\({}\\)", "\\[ {} \\]", " {} \n"]))
def test_a_short_completion_that_is_a_number_is_the_answer(n, wrap):
    assert correct(wrap.format(n), str(n))
    assert not correct(wrap.format(n + 1), str(n))


@SETTINGS
@given(p=st.integers(1, 500), q=st.integers(2, 500), sign=st.sampled_from(["", "-"]))
def test_a_bare_fraction_answers_its_value(p, q, sign):
    value = Fraction(p, q) * (-1 if sign else 1)
    assert correct(f"{sign}\\frac{{{p}}}{{{q}}}", f"{value.numerator}/{value.denominator}")
    assert not correct(f"{sign}\\frac{{{p + 1}}}{{{q}}}", f"{value.numerator}/{value.denominator}")


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=ints, lead=st.sampled_from(["Therefore", "We find that", "Thus", "The solution is"]))
def test_a_short_sentence_around_one_math_span_answers_with_the_span(n, lead):
    assert correct(f"{lead} $x = {n}$.", f"x = {n}")
    assert not correct(f"{lead} $x = {n + 2}$.", f"x = {n}")


@SETTINGS
@given(
    values=st.lists(small, min_size=2, max_size=4, unique=True),
    lead=st.sampled_from(["I think", "Maybe", "So"]),
)
def test_a_short_answer_offering_several_numbers_is_a_hedge(values, lead):
    spans = " or maybe ".join(f"${v}$" for v in values)
    for v in values:
        assert not correct(f"{lead} {spans}.", str(v))
    assert correct(
        f"We have ${values[0]}+0={values[0]}$, so ${values[0]}$.", str(values[0])
    )  # working, then answer


@SETTINGS
@given(values=st.lists(st.integers(1, 99), min_size=2, max_size=4))
def test_numbers_separated_by_spaces_are_never_multiplied(values):
    product = 1
    for v in values:
        product *= v
    assume(product not in values)
    written = " ".join(map(str, values))
    assert not correct(f"\\boxed{{{written}}}", str(product))
    assert not correct(written, str(product))


def test_long_outputs_keep_the_long_output_rules():
    reasoning = "We consider 3 apples and then 41 pears in the basket. " * 20
    assert MATH.check(reasoning, "41").reason == "no_answer"  # no last-number fallback in a trace


# ----------------------------------------------------------------- clock times
times = st.tuples(st.integers(1, 12), st.integers(0, 59))


@SETTINGS
@given(a=times, b=times, box=st.booleans())
def test_clock_times_compare_as_times_not_ratios(a, b, box):
    ta, tb = f"{a[0]}:{a[1]:02d}", f"{b[0]}:{b[1]:02d}"
    completion = f"The meeting starts at $\\boxed{{{ta}}}$." if box else f"${ta}$"
    assert correct(completion, f"${tb}$") is (a == b)


# ------------------------------------------------------ tuples and permutations
@SETTINGS
@given(values=st.lists(small, min_size=2, max_size=5, unique=True), seed=st.integers(0, 10**6))
def test_order_matters_against_a_tuple_and_not_between_lists(values, seed):
    shuffled = values[:]
    random.Random(seed).shuffle(shuffled)
    same_order = shuffled == values
    point = "(" + ", ".join(map(str, values)) + ")"
    assert correct(f"\\boxed{{{', '.join(map(str, shuffled))}}}", point) is same_order  # bare list vs point
    assert correct("\\boxed{(" + ",".join(map(str, shuffled)) + ")}", point) is same_order  # point vs point
    assert correct(f"\\boxed{{{', '.join(map(str, shuffled))}}}", ", ".join(map(str, values)))  # two lists


@SETTINGS
@given(
    points=st.lists(st.tuples(small, small), min_size=1, max_size=4, unique=True),
    seed=st.integers(0, 10**6),
    joiner=st.sampled_from([", ", " and ", " \\quad \\text{and} \\quad ", ",\\ "]),
)
def test_several_boxes_answer_a_list_in_any_order(points, seed, joiner):
    shuffled = points[:]
    random.Random(seed).shuffle(shuffled)
    gold = ", ".join(f"({a},{b})" for a, b in points)
    boxes = joiner.join(f"\\boxed{{({a}, {b})}}" for a, b in shuffled)
    assert correct(f"The solutions are {boxes}.", gold)
    if len(points) > 1:
        fewer = joiner.join(f"\\boxed{{({a}, {b})}}" for a, b in shuffled[1:])
        assert not correct(f"The solutions are {fewer}.", gold)


@SETTINGS
@given(values=st.lists(small, min_size=2, max_size=4, unique=True))
def test_boxes_far_apart_or_negated_are_not_read_together(values):
    gold = "\\{" + ", ".join(map(str, values)) + "\\}"
    negated = " no ".join(f"\\boxed{{{v}}}" for v in values)
    assert not correct(negated, gold)
    far = ("\n\nSome more reasoning here." + " " * 100).join(f"\\boxed{{{v}}}" for v in values)
    assert not correct(far, gold)


@SETTINGS
@given(a=small, b=small, joiner=st.sampled_from([", ", " or ", " and then ", " \\quad "]))
def test_a_run_of_different_boxes_does_not_answer_a_single_value(a, b, joiner):
    assume(a != b)
    hedge = f"So \\boxed{{{a}}}{joiner}\\boxed{{{b}}}."
    assert not correct(hedge, str(b))  # a hedge between candidates farms the reward otherwise
    assert not correct(hedge, str(a))
    assert correct(hedge, f"{a}, {b}")
    assert correct(f"So \\boxed{{{b}}}{joiner}\\boxed{{{b}}}.", str(b))  # the same answer twice
    assert correct(f"\\boxed{{{a}}}.\n\nLater, the final answer: \\boxed{{{b}}}", str(b))  # far apart


# ------------------------------------------------------------ labelled answers
labels = st.sampled_from(["x", "AB", "|AB|", "V_{1}:V_{2}", "\\frac{NO}{BO}", "S_{ABC}", "f(x)"])


@SETTINGS
@given(label=labels, n=ints)
def test_a_labelled_gold_is_answered_by_its_value(label, n):
    assert correct(f"\\boxed{{{n}}}", f"${label}={n}$")
    assert correct(f"${label} = {n}$", f"{n}")
    assert not correct(f"\\boxed{{{n + 1}}}", f"${label}={n}$")


@SETTINGS
@given(a=small, b=small, c=small, names=st.sampled_from(["p,q,r", "x,y,z", "a,b,c"]))
def test_a_labelled_tuple_and_named_values(a, b, c, names):
    n1, n2, n3 = names.split(",")
    assert correct(f"\\boxed{{({a}, {b}, {c})}}", f"$({names})=({a},{b},{c})$")
    assert correct(f"${n1}={a}, {n2}={b}, {n3}={c}$", f"({a},{b},{c})")
    assert correct(f"${n3}={c}, {n1}={a}, {n2}={b}$", f"{n1}={a}, {n2}={b}, {n3}={c}")
    assume(len({a, b, c}) == 3)
    assert not correct(f"\\boxed{{({b}, {a}, {c})}}", f"$({names})=({a},{b},{c})$")


@SETTINGS
@given(n=small, lhs=st.sampled_from(["a+3z", "2x+z", "a^2+b", "x-y"]))
def test_an_equation_with_an_expression_on_the_left_is_not_a_label(n, lhs):
    assert not correct(f"${n}$", f"${lhs} = {n}$")


# -------------------------------------------------------------------- relations
ops = st.sampled_from(["<", ">", "\\leq", "\\geq", "\\neq"])
FLIP = {"<": ">", ">": "<", "\\leq": "\\geq", "\\geq": "\\leq", "\\neq": "\\neq"}
ASCII = {"<": "<", ">": ">", "\\leq": "<=", "\\geq": ">=", "\\neq": "!="}


@SETTINGS
@given(op=ops, other=ops, bound=small, var=st.sampled_from(["x", "t", "a"]))
def test_equivalent_relations_are_equal(op, other, bound, var):
    gold = f"${var} {op} {bound}$"
    assert correct(f"${var} {ASCII[op]} {bound}$", gold)  # >=, <=, != spellings
    assert correct(f"${bound} {FLIP[op]} {var}$", gold)  # sides swapped
    assert correct(f"$-{var} {FLIP[op]} {-bound}$", gold)  # both sides negated
    assert correct(f"$-{var} {FLIP[op]} {-bound}$", gold)
    assert correct(f"${var} {other} {bound}$", gold) is (other == op)
    assert not correct(f"${var} {op} {bound + 1}$", gold)


@SETTINGS
@given(lo=small, width=st.integers(1, 50), closed=st.tuples(st.booleans(), st.booleans()))
def test_a_chain_of_inequalities_is_its_interval(lo, width, closed):
    hi = lo + width
    left, right = ("\\leq" if closed[0] else "<"), ("\\leq" if closed[1] else "<")
    interval = ("[" if closed[0] else "(") + f"{lo}, {hi}" + ("]" if closed[1] else ")")
    assert correct(f"${lo} {left} x {right} {hi}$", interval)
    assert correct(f"$x \\in {interval}$", f"{lo} {left} x {right} {hi}")
    flipped = ("(" if closed[0] else "[") + f"{lo}, {hi}" + ("]" if closed[1] else ")")
    assert not correct(f"${lo} {left} x {right} {hi}$", flipped)


@SETTINGS
@given(lo=st.integers(0, 20), width=st.integers(1, 20), closed=st.tuples(st.booleans(), st.booleans()))
def test_an_absolute_value_between_bounds_is_two_mirrored_intervals(lo, width, closed):
    hi = lo + width
    left, right = ("\\le" if closed[0] else "<"), ("\\le" if closed[1] else "<")
    neg = ("[" if closed[1] else "(") + f"{-hi}, {-lo}" + ("]" if closed[0] else ")")
    pos = ("[" if closed[0] else "(") + f"{lo}, {hi}" + ("]" if closed[1] else ")")
    gold = f"${lo} {left} |z| {right} {hi}$"
    assert correct(f"$z \\in {neg} \\cup {pos}$", gold)
    assert not correct(f"$z \\in {pos}$", gold)  # half of the answer
    assert not correct(f"$z \\in {neg} \\cup {pos.replace(str(hi), str(hi + 1))}$", gold)


# ------------------------------------------------------------ chains of equalities
@SETTINGS
@given(a=small, b=small, off=st.integers(1, 9))
def test_a_chain_states_its_last_value_only_when_every_equality_holds(a, b, off):
    assert correct(f"$x = {a}+{b} = {a + b}$", f"x = {a + b}")
    assert not correct(f"$x = {a}+{b} = {a + b + off}$", f"x = {a + b + off}")  # a false chain
    assert correct(f"$x = \\frac{{{a}}}{{7}} \\approx {a / 7:.2f}$", f"\\frac{{{a}}}{{7}}")


# ---------------------------------------------------------------- prose answers
@SETTINGS
@given(n=ints, noun=st.sampled_from(["largest $n$", "answer", "number of ways", "value of $f(2)$"]))
def test_final_answer_sentences(n, noun):
    assert correct(f"Some work.\nFinal Answer: The {noun} is {n}.", str(n))
    assert not correct(f"Some work.\nFinal Answer: The {noun} is {n + 1}.", str(n))


@SETTINGS
@given(
    n=ints,
    form=st.sampled_from(["The answer is not {}.", "Therefore, x is not ${}$.", "So it is not {} but more."]),
)
def test_a_negated_statement_states_no_answer(n, form):
    assert not correct("Some work.\nFinal Answer: " + form.format(n), str(n))
    assert not correct("A long derivation. " * 30 + form.format(n), str(n))


@SETTINGS
@given(
    early=ints, final=ints, token=st.sampled_from(["<|im_start|>user\nWhat is 2+2?", "<|im_end|>", "</s>"])
)
def test_a_later_final_answer_beats_an_earlier_box_and_chat_tokens_end_the_answer(early, final, token):
    assume(early != final)
    text = f"First part gives $\\boxed{{{early}}}$. Then more.\nThe final answer is ${final:,}$. {token} \\boxed{{{early}}}"
    assert correct(text, str(final))
    assert not correct(text, str(early))


# --------------------------------------------------------------- smaller kinds
@SETTINGS
@given(whole=st.integers(0, 9999), frac=st.integers(1, 99))
def test_a_decimal_comma_against_a_decimal_number(whole, frac):
    assert correct(f"{whole},{frac:02d}", f"{whole}.{frac:02d}")
    assert not correct(f"{whole},{frac:02d}", f"{whole}.{frac + 1:02d}")


@SETTINGS
@given(n=st.integers(1000, 10**12))
def test_thin_space_thousands_separators(n):
    assert correct(f"\\boxed{{{n:,}}}".replace(",", ",\\! "), str(n))
    assert correct(f"\\boxed{{{n:,}}}".replace(",", "{,}"), str(n))


@SETTINGS
@given(n=st.integers(0, 100), word=st.sampled_from(["\\%", " percent", " pct", " percentage"]))
def test_percent_spellings(n, word):
    assert correct(f"\\boxed{{{n}{word}}}", f"{n}\\%")


@SETTINGS
@given(m=st.lists(st.lists(small, min_size=2, max_size=2), min_size=2, max_size=2), k=small)
def test_unevaluated_matrix_sums(m, k):
    def pm(rows):
        return "\\begin{pmatrix}" + " \\\\ ".join(" & ".join(map(str, r)) for r in rows) + "\\end{pmatrix}"

    total = [[a + k for a in row] for row in m]
    const = [[k, k], [k, k]]
    assert correct(f"${pm(m)} + {pm(const)}$", f"${pm(total)}$")
    wrong = [[a + k + 1 for a in row] for row in m]
    assert not correct(f"${pm(m)} + {pm(const)}$", f"${pm(wrong)}$")


# ------------------------------------------------------------------ options
@SETTINGS
@given(p=st.integers(1, 99), q=st.integers(3, 99), digits=st.integers(2, 5))
def test_float_rounding_option(p, q, digits):
    value = Fraction(p, q)
    assume(value.denominator > 1 and round(value, digits) != value)
    rounded = f"{float(round(value, digits)):.{digits}f}"
    gold = f"\\frac{{{p}}}{{{q}}}"
    assert correct(rounded, gold, get_verifier("math", float_rounding=digits))
    if abs(Fraction(rounded) - value) > Fraction(1, 10**6) * value:  # outside the default rel_tol
        assert not correct(rounded, gold)  # by default a rounded decimal is not the fraction
    assert not correct(
        f"{float(value) + 3 * 10**-digits:.{digits}f}", gold, get_verifier("math", float_rounding=digits)
    )


def test_strict_and_set_relation_options():
    assert not correct("$f(y)$", "$f(x)$")
    assert correct("$f(y)$", "$f(x)$", get_verifier("math", strict=False))
    assert not correct("$f(y)+1$", "$f(x)$", get_verifier("math", strict=False))
    assert not correct("$-2 \\le x \\le 7$", "$x \\in [-2,7]$")  # off by default, as in math-verify
    assert correct("$-2 \\le x \\le 7$", "$x \\in [-2,7]$", get_verifier("math", set_relations=True))
    assert correct("$x \\in [-2,7]$", "$-2 \\le x \\le 7$")  # a set answers a relation either way
    assert correct("$[-2,7]$", "$x \\in [-2,7]$")  # the set itself always answers a membership


# ------------------------------------------------------------- never an exception
TOKENS = [
    "=",
    ",",
    "(",
    ")",
    "[",
    "]",
    "\\{",
    "\\}",
    "x",
    "AB",
    "1",
    "-2",
    ":",
    "\\frac{",
    "}",
    "{",
    "\\le",
    ">",
    "\\approx",
    " or ",
    "\\boxed{",
    "$",
    "\\sqrt",
    "^",
    "_",
    "!",
    "\\begin{pmatrix}",
    "&",
    "\\\\",
    "\\end{pmatrix}",
    ";",
    "|",
    "\\neq",
    "\\in",
    "\\cup",
    "\\infty",
    "\\text{ and }",
    "0",
    "7:32",
    "12:00",
]


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    pred=st.lists(st.sampled_from(TOKENS), max_size=12), gold=st.lists(st.sampled_from(TOKENS), max_size=12)
)
def test_no_input_makes_the_grader_raise(pred, gold):
    result = MATH.check(f"\\boxed{{{''.join(pred)}}}", "".join(gold) or "1")
    assert result.reason != "error", result.details
    assert isinstance(result.correct, bool) or result.reason == "no_reference"  # an empty gold


def test_the_labelled_list_that_raised_assertion_error():
    result = MATH.check("$\\boxed{4, 5}$", "$AB=4,CD=5$")
    assert result.correct is True and result.reason is None


def test_python_dash_o_changes_nothing():
    cases = [
        ("$\\boxed{4, 5}$", "$AB=4,CD=5$"),
        ("$1:00$", "$12:00$"),
        ("\\boxed{1, 3}", "(3, 1)"),
        ("-5", "-5"),
    ]
    code = (
        "from rlvr.verifiers import get_verifier; v = get_verifier('math'); "
        f"print([v.check(p, g).correct for p, g in {cases!r}])"
    )
    outputs = [
        subprocess.run([sys.executable, *flag, "-c", code], capture_output=True, text=True, check=True).stdout
        for flag in ([], ["-O"])
    ]
    assert outputs[0] == outputs[1] == "[True, False, False, True]\n"


@SETTINGS
@given(m=st.lists(st.lists(small, min_size=2, max_size=2), min_size=2, max_size=2))
def test_unevaluated_matrix_products(m):
    def pm(rows):
        return "\\begin{pmatrix}" + " \\\\ ".join(" & ".join(map(str, r)) for r in rows) + "\\end{pmatrix}"

    identity = [[1, 0], [0, 1]]
    assert correct(f"${pm(identity)} {pm(m)}$", f"${pm(m)}$")
    doubled = [[2 * a for a in row] for row in m]
    assume(doubled != m)
    assert not correct(f"${pm(identity)} {pm(m)}$", f"${pm(doubled)}$")


names = st.sampled_from(["F_k", "F_{n-k-1}", "a_{k}", "b_{2k}", "x"])


@settings(
    max_examples=8, deadline=None, derandomize=True
)  # sums go through the ANTLR parser and sympy: ~0.4 s a pair
@given(
    factors=st.lists(names, min_size=2, max_size=3, unique=True),
    seed=st.integers(0, 10**6),
    top=st.integers(1, 9),
)
def test_products_commute_inside_a_sum(factors, seed, top):
    shuffled = factors[:]
    random.Random(seed).shuffle(shuffled)
    gold = f"$S = \\sum_{{k=0}}^{{{top}}} {' '.join(factors)}$"
    assert correct(f"$S = \\sum_{{k=0}}^{{{top}}} {' '.join(shuffled)}$", gold)
    assert not correct(f"$S = \\sum_{{k=0}}^{{{top + 1}}} {' '.join(shuffled)}$", gold)


@SETTINGS
@given(p=st.integers(1, 99), q=st.integers(2, 99))
def test_commands_written_with_doubled_backslashes(p, q):
    assert correct(
        f"\\boxed{{\\left( \\frac{{{p}}}{{{q}}}, 1 \\right)}}",
        f"$\\\\left(\\\\frac{{{p}}}{{{q}}}, 1\\\\right)$",
    )
    assert not correct(f"\\boxed{{({p + 1}/{q}, 1)}}", f"$\\\\left(\\\\frac{{{p}}}{{{q}}}, 1\\\\right)$")


def test_an_unexpected_grader_error_is_an_error_verdict(monkeypatch):
    """Failure injection: a bug deep in the grader must surface as a clear verdict, not a crash."""
    from rlvr.verifiers.math import grader

    def broken(*args, **kwargs):
        raise AssertionError("injected")

    monkeypatch.setattr(grader, "_nodes_equal", broken)
    result = MATH.check("$\\boxed{(7, 11, 13)}$", "(7, 11, 13) or (13, 11, 7)")  # not in any cache
    assert result.correct is False and result.reason == "error"
    assert "AssertionError" in result.details["error"] and "injected" in result.details["error"]
    monkeypatch.undo()
    harmless = MATH.check(
        "$\\boxed{(1, 2, 3), (3, 2, 1)}$", "(1, 2, 3) or (3, 2, 1)"
    )  # a check after the fault
    assert harmless.correct is True


def test_one_value_boxed_in_two_forms_is_not_a_hedge():
    """A MATH-500 reference solution writes `\\boxed{15\\frac{39}{40}}, or \\boxed{\\frac{639}{40}}`:
    every box equals the gold, so it is right; one box that differs makes it a hedge (wrong)."""
    import random

    from rlvr.verifiers import get_verifier

    math = get_verifier("math")
    rng = random.Random(7)
    for _ in range(40):
        q = rng.choice([2, 4, 5, 8, 10])
        p = rng.randint(1, 50)
        decimal = f"{p / q:g}"
        same = f"The value is $\\boxed{{{decimal}}}$, or $\\boxed{{\\frac{{{p}}}{{{q}}}}}$."
        assert math.verify(same, f"\\frac{{{p}}}{{{q}}}").correct, same
        other = f"The value is $\\boxed{{{decimal}}}$, or $\\boxed{{\\frac{{{p + 1}}}{{{q}}}}}$."
        assert not math.verify(other, f"\\frac{{{p}}}{{{q}}}").correct, other
