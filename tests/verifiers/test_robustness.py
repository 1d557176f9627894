"""Property-based fuzzing and concurrency for every verifier."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlvr.verifiers import get_verifier, list_verifiers

LATEX_PIECES = [
    r"\boxed{",
    "}",
    "{",
    r"\frac",
    r"\sqrt",
    "^",
    "_",
    r"\pi",
    r"\infty",
    r"\cup",
    r"\pm",
    "(",
    ")",
    "[",
    "]",
    r"\{",
    r"\}",
    ",",
    "=",
    "<",
    r"\le",
    "x",
    "y",
    "2",
    "9",
    "0",
    ".",
    "-",
    "+",
    r"\text{",
    "or",
    r"\left(",
    r"\right)",
    r"\begin{pmatrix}",
    r"\end{pmatrix}",
    "&",
    r"\\",
    "$",
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "!",
    r"\cdot",
    "i",
    "e",
    "%",
    r"^\circ",
    "答案是",
    "Answer:",
    " ",
    "\n",
]
latex_soup = st.lists(st.sampled_from(LATEX_PIECES), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=300), latex_soup)
VERIFIER_OPTIONS = {
    "math": {},
    "format": {},
    "language": {"language": "en"},
    "code": {"test_timeout_s": 1.0},
    "swe_similarity": {},
}
# `swe` needs a repository and an environment for every answer: its hostile inputs are in tests/swe
NOT_FUZZED_HERE = {"swe"}
TIMEOUT = 2.0


@pytest.mark.parametrize("name", sorted(VERIFIER_OPTIONS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(completion=any_text, answer=any_text)
def test_never_raises_and_returns_within_the_limit(name, completion, answer):
    verifier = get_verifier(name, timeout_s=TIMEOUT, **VERIFIER_OPTIONS[name])
    start = time.monotonic()
    result = verifier.verify(completion, answer)
    assert time.monotonic() - start < TIMEOUT + 1
    assert 0.0 <= result.score <= 1.0
    assert result.correct in (True, False, None)


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(latex_soup, latex_soup), min_size=1, max_size=30))
def test_batch_equals_one_by_one(pairs):
    verifier = get_verifier("math", timeout_s=TIMEOUT)
    batch = verifier.verify_batch([c for c, _ in pairs], [a for _, a in pairs], workers=2)
    single = [verifier.verify(c, a) for c, a in pairs]
    assert [(r.score, r.reason) for r in batch] == [(r.score, r.reason) for r in single]


def test_every_registered_verifier_is_fuzzed():
    from rlvr.verifiers import VERIFIERS

    # only the verifiers rlvr ships (tests register their own, e.g. parity, faulty)
    built_in = {name for name in list_verifiers() if VERIFIERS.factory(name).__module__.startswith("rlvr.")}
    assert built_in - NOT_FUZZED_HERE <= set(VERIFIER_OPTIONS)


CONCURRENT_CASES = [
    (r"\boxed{\frac{1}{2}}", "0.5"),
    (r"\boxed{x^2+2x+1}", "(x+1)^2"),
    (r"\boxed{(1,2)}", "(2,1)"),
    (r"\boxed{3\sqrt{13}}", r"\sqrt{117}"),
    (r"\boxed{9^{9^{9^9}}}", "1"),
    ("no answer", "3"),
    (r"\boxed{[1,3)}", r"1 \le x < 3"),
    (r"\boxed{\text{(C)}}", "C"),
    (r"\boxed{2\pi}", "6.28"),
] * 6


@pytest.mark.parametrize("name", ["math", "composed"])
def test_eight_threads_agree_with_one(name):
    verifier = get_verifier("math=1.0,format=0.2" if name == "composed" else "math", timeout_s=TIMEOUT)
    expected = [verifier.verify(c, a).score for c, a in CONCURRENT_CASES]
    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda ca: verifier.verify(*ca).score, CONCURRENT_CASES))
        batches = list(
            ex.map(lambda _: [r.score for r in verifier.verify_batch(*zip(*CONCURRENT_CASES))], range(8))
        )
    assert got == expected
    assert all(b == expected for b in batches)
