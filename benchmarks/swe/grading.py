"""From a test run to verdicts: the structured results, the raw-log parser, and the grade.

A test passes iff its status is PASSED or XFAIL.  A test missing from the results, a
collection error, a crash or a timeout is a failure of that test.  A run whose process exited
non-zero with no failing test, or that never reached the end of the session, is invalid and
never a pass.  Test ids the dataset truncated mid-parameter match by prefix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .runner_logs import parse_log_django, parse_log_sympy

PASSING = {"PASSED", "XFAIL"}
FAILING = {"FAILED", "ERROR"}
_STATUS_LINE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\s+(\S.*)$")


@dataclass
class StructuredResults:
    """What the in-run plugin reported, read from lines carrying the run's nonce."""

    tests: dict[str, str] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)
    finish_status: int | None = None
    forged_lines: int = 0  # lines that looked like results but lacked the nonce

    @property
    def present(self) -> bool:
        return bool(self.tests) or self.finish_status is not None or bool(self.collect_errors)


def read_structured(stream: str, nonce: str) -> StructuredResults:
    results = StructuredResults()
    prefix = nonce + " "
    for line in stream.splitlines():
        if not line.startswith(prefix):
            if '"event"' in line:
                results.forged_lines += 1
            continue
        try:
            record = json.loads(line[len(prefix) :])
        except json.JSONDecodeError:
            continue
        event = record.get("event")
        if event == "test" and isinstance(record.get("nodeid"), str):
            results.tests[record["nodeid"]] = str(record.get("status"))
        elif event == "collect_error":
            results.collect_errors.append(str(record.get("nodeid")))
        elif event == "finish":
            results.finish_status = int(record.get("exitstatus", -1))
    return results


def parse_log_pytest(log: str) -> dict[str, str]:
    """`pytest -rA` short-summary lines: `STATUS test_id[ - message]` (the harness's parser)."""
    statuses: dict[str, str] = {}
    for raw in log.splitlines():
        line = raw.strip()
        match = _STATUS_LINE.match(line)
        if not match:
            continue
        status, rest = match.groups()
        if status == "SKIPPED" and rest.startswith("["):
            continue  # `SKIPPED [1] file:line: reason` names no test id
        test = rest.split(" - ", 1)[0].strip()
        statuses[test] = status
    return statuses


LOG_PARSERS = {
    "pytest": parse_log_pytest,
    "parse_log_pytest": parse_log_pytest,
    "django": parse_log_django,
    "sympy": parse_log_sympy,
}


def is_node_id(test: str) -> bool:
    """A pytest node id (`path::name`, or a path).  The datasets also list ids like `[100%]` that
    the harness's log parser picked out of captured output; no structured result can name them."""
    head = test.split("::", 1)[0]
    return "::" in test or head.endswith(".py")


def _lookup(test: str, statuses: dict[str, str]) -> tuple[str, str | None]:
    """(status, matched id).  Exact id first; a truncated id matches every id it prefixes
    and passes only if all of them pass."""
    if test in statuses:
        return statuses[test], test
    if "[" in test and not test.endswith("]"):
        matches = [k for k in statuses if k.startswith(test)]
        if matches:
            failing = [k for k in matches if statuses[k] not in PASSING]
            key = failing[0] if failing else matches[0]
            return statuses[key], key
    return "MISSING", None


@dataclass
class Grade:
    resolved: bool
    invalid_reason: str | None
    fail_to_pass: dict[str, str]
    pass_to_pass: dict[str, str]
    source: str
    mismatches: list[dict[str, Any]]

    def counts(self) -> dict[str, dict[str, int]]:
        def split(d: dict[str, str]) -> dict[str, int]:
            passed = sum(s in PASSING for s in d.values())
            return {"success": passed, "failure": len(d) - passed}

        return {"FAIL_TO_PASS": split(self.fail_to_pass), "PASS_TO_PASS": split(self.pass_to_pass)}


def grade(
    fail_to_pass: list[str],
    pass_to_pass: list[str],
    structured: StructuredResults,
    log_statuses: dict[str, str],
    exit_code: int | None,
    require_structured: bool,
) -> Grade:
    """Decide every listed test's status and whether the instance is resolved."""
    if structured.present or require_structured:
        statuses, source = structured.tests, "structured"
    else:
        statuses, source = log_statuses, "log"

    def status(test: str) -> str:
        if source == "structured" and not is_node_id(test):
            return _lookup(test, log_statuses)[0]  # a log-parser artifact: only the log names it
        return _lookup(test, statuses)[0]

    f2p = {t: status(t) for t in fail_to_pass}
    p2p = {t: status(t) for t in pass_to_pass}
    mismatches = []
    if source == "structured":
        for test in filter(is_node_id, [*fail_to_pass, *pass_to_pass]):
            ours, theirs = _lookup(test, statuses)[0], _lookup(test, log_statuses)[0]
            if (ours in PASSING) != (theirs in PASSING):
                mismatches.append({"test": test, "structured": ours, "log": theirs})
    invalid = None
    any_failure = any(s in FAILING for s in statuses.values()) or bool(structured.collect_errors)
    if require_structured and structured.finish_status is None:
        invalid = "the test session did not finish (no end-of-session record: crash, exit or kill)"
    elif exit_code not in (0, None) and not any_failure and source == "structured":
        invalid = f"exit code {exit_code} with no failing test in the results"
    elif exit_code is None:
        invalid = "the test process did not exit normally"
    elif source == "structured" and structured.finish_status not in (None, exit_code) and exit_code != 0:
        invalid = f"exit code {exit_code} but the session reported {structured.finish_status}"
    all_pass = all(s in PASSING for s in [*f2p.values(), *p2p.values()])
    return Grade(
        resolved=invalid is None and all_pass and bool(f2p or p2p),
        invalid_reason=invalid,
        fail_to_pass=f2p,
        pass_to_pass=p2p,
        source=source,
        mismatches=mismatches,
    )
