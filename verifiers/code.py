"""`get_verifier("code")`: run the completion's program against tests in a sandbox.

Verdicts cannot be forged by the candidate, because nothing that decides them
runs where the candidate runs:

* stdin/stdout tests: the sandbox returns the program's output; it is compared
  here, line by line.
* call-based tests (`fn_name`): a harness in the sandbox calls the function and
  prints `repr()` of each return value; here they are read back with
  `ast.literal_eval` (data, never pickles) and compared.  Expected outputs
  never enter the sandbox.
* HumanEval / MBPP / EvalPlus test code: the tests (with the prompt's helpers)
  run in one sandboxed process and the candidate in another; calls and plain
  return values are relayed between them here (`code_harness`).  The verdict
  comes from the test process, tagged with a nonce the candidate never sees.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import secrets
import threading
from typing import Any, ClassVar

from pydantic import Field

from rlvr.types import VerifyResult

from .base import Verifier
from .code_harness import run_test_code

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+#-]*)[^\n]*\n(.*?)```", re.DOTALL)
_LANG_ALIASES = {
    "python": {"python", "py", "python3", ""},
    "cpp": {"cpp", "c++", "cc", "cxx", ""},
    "bash": {"bash", "sh", "shell", ""},
}


def extract_program(completion: str, language: str = "python") -> str | None:
    """The last fenced block of `language` (or unlabelled); else the whole text if it parses."""
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(completion)]
    for tag, body in reversed(blocks):
        if tag in _LANG_ALIASES.get(language, {language}):
            return body
    text = completion.split("</think>")[-1].strip()
    if not text or blocks:
        return None
    if language == "python":
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
        return text
    return text if language != "cpp" or "main" in text else None


def outputs_match(actual: str, expected: str, tol: float) -> bool:
    """Line by line, trailing whitespace and trailing blank lines ignored, numbers within
    `tol` (absolute or relative), otherwise exact and case-sensitive."""
    a = [line.rstrip() for line in actual.rstrip().split("\n")]
    e = [line.rstrip() for line in str(expected).rstrip().split("\n")]
    if len(a) != len(e):
        return False
    for la, le in zip(a, e):
        if la == le:
            continue
        ta, te = la.split(), le.split()
        if len(ta) != len(te) or not all(_token_equal(x, y, tol) for x, y in zip(ta, te)):
            return False
    return True


def _token_equal(a: str, b: str, tol: float) -> bool:
    if a == b:
        return True
    try:
        fa, fb = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(fa) or math.isnan(fb):
        return False
    return math.isclose(fa, fb, rel_tol=tol, abs_tol=tol)


def values_match(actual: Any, expected: Any, tol: float) -> bool:
    """Return values: tuples equal lists, floats within `tol`, everything else exactly."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return math.isclose(actual, expected, rel_tol=tol, abs_tol=tol)
    if isinstance(actual, list | tuple) and isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(values_match(x, y, tol) for x, y in zip(actual, expected))
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            values_match(actual[k], expected[k], tol) for k in actual
        )
    return actual == expected


# The harness that calls the candidate's function inside the sandbox.  It prints one line:
# NONCE + a list of [ok, repr(value) or error text] per call.  The candidate may print,
# exit early or print a forged line: without the expected values it cannot make one pass.
_CALL_HARNESS = r"""
import ast as _rlvr_ast, io as _rlvr_io, os as _rlvr_os, sys as _rlvr_sys
_rlvr_calls = _rlvr_ast.literal_eval(open("/work/.calls").read())
_rlvr_sink = _rlvr_io.StringIO()
_rlvr_sys.stdout = _rlvr_sink
_rlvr_out = []
try:
    exec(compile(open("/work/solution.py").read(), "solution.py", "exec"), globals())
    _rlvr_cls = globals().get("Solution")
    _rlvr_fn = getattr(_rlvr_cls(), FN_NAME) if _rlvr_cls is not None and hasattr(_rlvr_cls, FN_NAME) else globals()[FN_NAME]
    for _rlvr_args in _rlvr_calls:
        try:
            _rlvr_out.append([True, repr(_rlvr_fn(*_rlvr_args))])
        except BaseException as _rlvr_e:
            _rlvr_out.append([False, type(_rlvr_e).__name__ + ": " + str(_rlvr_e)[:200]])
except BaseException as _rlvr_e:
    _rlvr_out.append([False, "load: " + type(_rlvr_e).__name__ + ": " + str(_rlvr_e)[:200]])
_rlvr_os.write(1, (NONCE + repr(_rlvr_out) + "\n").encode())
"""


class CodeVerifier(Verifier):
    """Score 1.0 when every test passes (or the fraction with `partial_credit`)."""

    name: ClassVar[str] = "code"

    timeout_s: float = Field(120.0, gt=0, description="Hard limit for the whole item (all tests).")
    language: str = Field("python", pattern="^(python|cpp|bash)$")
    sandbox: str = Field("local", description="Backend name for rlvr.sandbox.get_sandbox.")
    test_timeout_s: float = Field(5.0, gt=0, description="Limit per test run.")
    memory_mb: int = Field(512, ge=16)
    tolerance: float = Field(1e-6, ge=0, description="For numbers in outputs and return values.")
    partial_credit: bool = False
    fail_fast: bool = False
    concurrency: int = Field(4, ge=1, description="Test runs in parallel per item.")

    def check(self, completion: str, answer: Any) -> VerifyResult:
        program = extract_program(completion, self.language)
        if program is None:
            return VerifyResult(score=0.0, correct=False, reason="no_answer")
        tests = _parse_tests(answer)
        if tests is None:
            return VerifyResult(score=0.0, correct=None, extracted=program, reason="no_reference")
        if "test" in tests or "test_list" in tests:
            passed, total, failure = self._run_test_code(program, tests)
        elif tests.get("fn_name"):
            passed, total, failure = self._run_calls(program, tests)
        else:
            passed, total, failure = self._run_stdio(program, tests)
        ok = total > 0 and passed == total
        score = 1.0 if ok else (passed / total if self.partial_credit and total else 0.0)
        details = {"passed": passed, "total": total}
        if failure:
            details["first_failure"] = failure
        reason = None if ok else (failure or {}).get("status", "mismatch")
        return VerifyResult(score=score, correct=ok, extracted=program, reason=reason, details=details)

    # ------------------------------------------------------------- formats
    def _sandbox(self):
        """One sandbox per backend and limits in this process: its warm workers are reused."""
        return _cached_sandbox(self.sandbox, self.test_timeout_s, self.memory_mb)

    def _run_stdio(self, program: str, tests: dict) -> tuple[int, int, dict | None]:
        inputs, outputs = list(tests.get("inputs", [])), list(tests.get("outputs", []))
        if len(inputs) != len(outputs):
            return (
                0,
                max(len(inputs), len(outputs)),
                {"status": "bad_tests", "message": "inputs/outputs differ"},
            )
        sandbox = self._sandbox()
        requests = [{"code": program, "language": self.language, "stdin": _as_text(i)} for i in inputs]
        # fail_fast: one run at a time, lazily, so nothing runs after the first failure
        results = (
            (sandbox.run(**r) for r in requests)
            if self.fail_fast
            else sandbox.run_many(requests, concurrency=self.concurrency)
        )
        passed, failure = 0, None
        for k, (result, expected) in enumerate(zip(results, outputs)):
            if result.status == "ok" and outputs_match(result.stdout, _as_text(expected), self.tolerance):
                passed += 1
                continue
            if failure is None:
                status = "mismatch" if result.status == "ok" else result.status
                failure = {
                    "test": k,
                    "status": status,
                    "stdout": result.stdout[:300],
                    "stderr": result.stderr[-300:],
                }
            if self.fail_fast:
                break
        return passed, len(outputs), failure

    def _run_calls(self, program: str, tests: dict) -> tuple[int, int, dict | None]:
        calls = [_as_args(i) for i in tests.get("inputs", [])]
        expected = list(tests.get("outputs", []))
        values, failure = self._call_in_sandbox(program, tests["fn_name"], calls)
        passed = 0
        for k, (value, want) in enumerate(zip(values, expected)):
            ok = (
                value is not None
                and value[0]
                and (
                    values_match(value[1], want, self.tolerance)
                    or (
                        isinstance(want, list)
                        and len(want) == 1
                        and values_match(value[1], want[0], self.tolerance)
                    )
                )
            )
            if ok:
                passed += 1
            elif failure is None:
                failure = {
                    "test": k,
                    "status": "mismatch" if value and value[0] else "runtime_error",
                    "got": repr(value[1])[:300] if value else None,
                }
        return passed, len(expected), failure

    def _call_in_sandbox(self, program: str, fn_name: str, calls: list[tuple]) -> tuple[list, dict | None]:
        """[(ok, value)] per call, values parsed as literals; None for a call with no answer."""
        if self.language != "python":
            return [None] * len(calls), {"status": "unsupported", "message": "call-based tests need python"}
        nonce = "RLVR-RESULT-" + secrets.token_hex(8) + ":"
        harness = _CALL_HARNESS.replace("FN_NAME", repr(fn_name)).replace("NONCE", repr(nonce))
        result = self._sandbox().run(
            harness,
            "python",
            files={"solution.py": program.encode(), ".calls": repr(calls).encode()},
            timeout_s=self.test_timeout_s * max(1, len(calls)),
        )
        line = next((x for x in reversed(result.stdout.splitlines()) if x.startswith(nonce)), None)
        if line is None:
            return [None] * len(calls), {"status": result.status, "stderr": result.stderr[-300:]}
        try:
            raw = ast.literal_eval(line[len(nonce) :])
            parsed = [(bool(ok), ast.literal_eval(text) if ok else text) for ok, text in raw]
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return [None] * len(calls), {
                "status": "runtime_error",
                "message": "return values are not plain data",
            }
        parsed += [None] * (len(calls) - len(parsed))
        return parsed[: len(calls)], None

    def _run_test_code(self, program: str, tests: dict) -> tuple[int, int, dict | None]:
        if self.language != "python":
            return 0, 1, {"status": "unsupported", "message": "test code needs python"}
        if "test" in tests:
            test_code = str(tests["test"])
        else:
            test_code = "\n".join(
                [*map(str, tests.get("test_imports") or []), str(tests.get("test_setup_code") or "")]
                + list(map(str, tests.get("test_list") or []))
            )
        entry = tests.get("entry_point") or _guess_entry_point(program, test_code)
        if not entry or not str(entry).isidentifier():
            return 0, 1, {"status": "bad_tests", "message": "entry_point: missing or not a name"}
        outcome = run_test_code(
            self._sandbox(),
            program,
            str(tests.get("prompt") or ""),
            test_code,
            str(entry),
            self.test_timeout_s,
            self.memory_mb,
        )
        return (1, 1, None) if outcome.passed else (0, 1, outcome.failure)


_SANDBOXES: dict[tuple, Any] = {}
_SANDBOXES_LOCK = threading.Lock()


def _cached_sandbox(name: str, timeout_s: float, memory_mb: int):
    from rlvr.sandbox import get_sandbox

    key = (os.getpid(), name, timeout_s, memory_mb)
    with _SANDBOXES_LOCK:
        if key not in _SANDBOXES:
            _SANDBOXES[key] = get_sandbox(name, timeout_s=timeout_s, memory_mb=memory_mb)
        return _SANDBOXES[key]


def _parse_tests(answer: Any) -> dict | None:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError:
            return None
    return answer if isinstance(answer, dict) else None


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return str(value)


def _as_args(value: Any) -> tuple:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return (value,)
    return tuple(value) if isinstance(value, list) else (value,)


def _guess_entry_point(program: str, test_code: str = "") -> str | None:
    """The program's function that the tests call (MBPP gives no entry point), else its last one."""
    defined = re.findall(r"^def\s+([A-Za-z_]\w*)", program, re.MULTILINE)
    called = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", test_code))
    for name in reversed(defined):
        if name in called:
            return name
    return defined[-1] if defined else None
