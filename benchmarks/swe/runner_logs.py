"""Log parsers for the two Lite repositories whose tests do not run under pytest.

Django's `runtests.py --verbosity 2` (unittest) and sympy's `bin/test --verbose` print one line
per test; the test names they print are the ids SWE-bench's records use.  No structured result
exists for these runners, so these parsers alone decide the statuses (specs set
`structured: false`); a patch that prints such lines can forge them, unlike under pytest.
"""

from __future__ import annotations

import re

_DJANGO_STATUS = {
    "ok": "PASSED",
    "FAIL": "FAILED",
    "ERROR": "ERROR",
    "expected failure": "XFAIL",
    "unexpected success": "FAILED",
}
_DJANGO_LINE = re.compile(r"^(?P<name>.+?) \.\.\. ?(?P<tail>.*)$")
_DJANGO_TEST = re.compile(r"^\w+ \([\w.]+\)$")
_DJANGO_SUMMARY = re.compile(r"^(FAIL|ERROR): (\S.*)$")


def _django_status(tail: str) -> str | None:
    tail = tail.strip()
    if tail.startswith("skipped"):
        return "SKIPPED"
    return _DJANGO_STATUS.get(tail)


def parse_log_django(log: str) -> dict[str, str]:
    """`name (module.Class) ... ok|FAIL|ERROR|skipped '…'|expected failure`.

    A test with a docstring prints `name (module.Class)` on one line and the docstring's first
    line before ` ... STATUS`: the docstring line is the id, as in SWE-bench's records.  A test
    that writes output gets its status on a later line; the `FAIL: …` / `ERROR: …` headers of the
    failure report mark a test failed whatever its line said.
    """
    statuses: dict[str, str] = {}
    pending: str | None = None
    for raw in log.splitlines():
        line = raw.rstrip()
        summary = _DJANGO_SUMMARY.match(line)
        if summary:
            statuses[summary.group(2).strip()] = "FAILED" if summary.group(1) == "FAIL" else "ERROR"
            continue
        match = _DJANGO_LINE.match(line)
        if match:
            name, status = match.group("name").strip(), _django_status(match.group("tail"))
            if status is None:
                pending = name  # output came between the test's name and its status
            else:
                statuses.setdefault(name, status)
                pending = None
            continue
        status = _django_status(line) if pending else None
        if status is not None and pending is not None:
            statuses.setdefault(pending, status)
            pending = None
    return statuses


_SYMPY_STATUS = {
    "ok": "PASSED",
    "F": "FAILED",
    "E": "ERROR",
    "T": "FAILED",  # timed out
    "f": "XFAIL",
    "X": "XPASS",
    "s": "SKIPPED",
    "w": "SKIPPED",  # slow test skipped
}
_SYMPY_LINE = re.compile(r"^(test_\w+)\s+(ok|[FETfXsw])$")
_SYMPY_REPORT = re.compile(r"^_+ \S+:(test_\w+) _+$")


def parse_log_sympy(log: str) -> dict[str, str]:
    """`bin/test --verbose`: `test_name ok|F|E|f|X|s|w|T`, one per line.  The failure report's
    `___ file:test_name ___` headers mark a test failed even if its line was garbled."""
    statuses: dict[str, str] = {}
    for raw in log.splitlines():
        line = raw.strip()
        report = _SYMPY_REPORT.match(line)
        if report:
            if statuses.get(report.group(1)) not in ("FAILED", "ERROR"):
                statuses[report.group(1)] = "FAILED"
            continue
        match = _SYMPY_LINE.match(line)
        if match:
            statuses[match.group(1)] = _SYMPY_STATUS[match.group(2)]
    return statuses
