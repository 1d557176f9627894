"""HumanEval / MBPP / EvalPlus test code, run so that the candidate cannot touch the verdict.

Two sandboxed processes, one verdict:

* the **test process** runs the record's prompt (its helpers: `poly`,
  `encode_cyclic`, ...) and test code, with the entry point bound to a proxy,
  then `check(candidate)`.  It alone says PASS or FAIL, on a line tagged with a
  nonce that only it was given (on its own stdin; the candidate never sees it);
* the **candidate process** runs the prompt and the completion's program, then
  answers calls: it reads `CALL <args>` and writes `RET <value>` or
  `RAISE <exception>`.

This module relays every call between the two sessions.  Values cross as
`repr`-style text and are parsed here with `ast.literal_eval` (plain data,
never pickles), then written again by this side's own encoder: whatever object
the candidate returns, the test code receives a plain `int`, `str`, `list`,
... with Python's own `==`, `is True`, `not`.  Exceptions are re-raised in the
test process by their built-in type.  Any number of calls, any randomness in
the tests: nothing is replayed.  The candidate can write anything on its
stream; the worst it can do is return a wrong value or fail.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import secrets
import time
from dataclasses import dataclass
from typing import Any

MAX_LINE = 1 << 20  # one value, one line; a longer one fails the candidate


class NotPlainData(TypeError):
    """A value that is not plain data (numbers, strings, bytes, None, containers of them)."""


def encode_value(value: Any, depth: int = 0) -> str:
    """Literal text for plain data, parseable by `ast.literal_eval`.  Subclasses of the
    built-in types are written as their base type (their __repr__ and __eq__ are not
    used); infinities as 1e999; anything else raises NotPlainData."""
    if depth > 200:
        raise NotPlainData("nested more than 200 levels")
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, bool):
        return repr(bool(value))
    if isinstance(value, int):
        return int.__repr__(int(value))
    if isinstance(value, float):
        number = float(value)
        if number != number:
            raise NotPlainData("nan")
        if number in (float("inf"), float("-inf")):
            return "1e999" if number > 0 else "-1e999"
        return float.__repr__(number)
    if isinstance(value, complex):
        number = complex(value)
        sign = "-" if number.imag < 0 else "+"
        return (
            "("
            + encode_value(number.real, depth + 1)
            + sign
            + encode_value(abs(number.imag), depth + 1)
            + "j)"
        )
    if isinstance(value, str):
        return str.__repr__(str(value))
    if isinstance(value, bytes):
        return bytes.__repr__(bytes(value))
    if isinstance(value, tuple):
        items = [encode_value(v, depth + 1) for v in tuple.__iter__(value)]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(encode_value(v, depth + 1) for v in list.__iter__(value)) + "]"
    if isinstance(value, dict):
        pairs = dict.items(value)
        return (
            "{"
            + ", ".join(encode_value(k, depth + 1) + ": " + encode_value(v, depth + 1) for k, v in pairs)
            + "}"
        )
    if isinstance(value, set | frozenset):
        items = [encode_value(v, depth + 1) for v in frozenset(value)]
        return "{" + ", ".join(items) + "}" if items else "set()"
    raise NotPlainData(f"a {type(value).__name__} is not plain data")


# the same encoder, as source for the sandboxed programs (annotations dropped: no typing there)
_ENCODER = (
    inspect.getsource(NotPlainData)
    + "\n\n"
    + inspect.getsource(encode_value).replace("value: Any, depth: int = 0) -> str:", "value, depth=0):")
)

# Shared by both sandboxed programs: the protocol runs on private copies of fds 0 and 1;
# the program's own stdin is /dev/null and its stdout goes to stderr, so nothing it
# prints can be taken for a protocol line.
_PREAMBLE = (
    r"""
import ast as _rlvr_ast, os as _rlvr_os, sys as _rlvr_sys
_rlvr_in = _rlvr_os.fdopen(_rlvr_os.dup(0), "r", encoding="utf-8")
_rlvr_out = _rlvr_os.dup(1)
_rlvr_null = _rlvr_os.open("/dev/null", _rlvr_os.O_RDONLY)
_rlvr_os.dup2(_rlvr_null, 0)
_rlvr_os.dup2(2, 1)
_rlvr_sys.stdout = _rlvr_sys.stderr


def _rlvr_send(text):
    data = memoryview((text + "\n").encode("utf-8", "backslashreplace"))
    while data:
        data = data[_rlvr_os.write(_rlvr_out, data):]


"""
    + _ENCODER.replace("NotPlainData", "_RlvrNotPlain").replace("encode_value", "_rlvr_encode")
    + "\n\n_rlvr_cfg = _rlvr_ast.literal_eval(_rlvr_in.readline())\n"
)

TEST_PROCESS = (
    _PREAMBLE
    + r'''
import builtins as _rlvr_builtins


class _RlvrCandidateGone(BaseException):
    """The candidate process failed or ended: the verdict is already FAIL."""


def _rlvr_candidate(*args, **kwargs):
    _rlvr_send("CALL " + _rlvr_encode([list(args), kwargs]))
    kind, _, text = _rlvr_in.readline().rstrip("\n").partition(" ")
    if kind == "RET":
        return _rlvr_ast.literal_eval(text)
    if kind == "RAISE":
        name, message = _rlvr_ast.literal_eval(text)
        raise getattr(_rlvr_builtins, name)(message)
    raise _RlvrCandidateGone()


_rlvr_nonce = _rlvr_cfg["nonce"]
try:
    _rlvr_ns = {"__name__": "__main__"}
    exec(compile(open("prompt.py").read(), "prompt.py", "exec"), _rlvr_ns)
    _rlvr_ns[_rlvr_cfg["entry"]] = _rlvr_candidate
    exec(compile(open("tests.py").read(), "tests.py", "exec"), _rlvr_ns)
    if callable(_rlvr_ns.get("check")):
        _rlvr_ns["check"](_rlvr_candidate)
    _rlvr_send(_rlvr_nonce + " PASS")
except _RlvrCandidateGone:
    _rlvr_send(_rlvr_nonce + " GONE")
except BaseException as _rlvr_e:
    _rlvr_send(_rlvr_nonce + " FAIL " + repr((type(_rlvr_e).__name__ + ": " + str(_rlvr_e))[:300]))
'''
)

CANDIDATE_PROCESS = (
    _PREAMBLE
    + r"""
try:
    _rlvr_ns = {"__name__": "solution"}
    exec(compile(open("prompt.py").read(), "prompt.py", "exec"), _rlvr_ns)
    exec(compile(open("solution.py").read(), "solution.py", "exec"), _rlvr_ns)
    _rlvr_fn = _rlvr_ns[_rlvr_cfg["entry"]]
except BaseException as _rlvr_e:
    _rlvr_send("LOADERR " + repr((type(_rlvr_e).__name__ + ": " + str(_rlvr_e))[:300]))
    raise SystemExit(1)
_rlvr_send("READY")
while True:
    _rlvr_line = _rlvr_in.readline()
    if not _rlvr_line:
        break
    _rlvr_args, _rlvr_kwargs = _rlvr_ast.literal_eval(_rlvr_line[5:])
    try:
        _rlvr_value = _rlvr_fn(*_rlvr_args, **_rlvr_kwargs)
    except Exception as _rlvr_e:
        _rlvr_send("RAISE " + repr([[c.__name__ for c in type(_rlvr_e).__mro__], str(_rlvr_e)[:300]]))
        continue
    try:
        _rlvr_send("RET " + _rlvr_encode(_rlvr_value))
    except Exception as _rlvr_e:
        _rlvr_send("BADVALUE " + repr(str(_rlvr_e)[:200]))
"""
)


@dataclass
class Outcome:
    passed: bool
    failure: dict | None = None
    calls: int = 0


def _builtin_exception(mro_names: Any) -> str | None:
    """The first built-in Exception type in the candidate exception's MRO; None for
    SystemExit, KeyboardInterrupt and anything else that is not an Exception."""
    if not isinstance(mro_names, list):
        return None
    for name in mro_names:
        cls = getattr(builtins, name, None) if isinstance(name, str) else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return name if issubclass(cls, Exception) else None
    return None


def run_test_code(
    sandbox: Any,
    program: str,
    prompt: str,
    test_code: str,
    entry: str,
    timeout_s: float,
    memory_mb: int,
) -> Outcome:
    """Run `test_code` against `program` in two sessions of `sandbox`; see the module doc."""
    deadline = time.monotonic() + timeout_s
    nonce = "RLVR-" + secrets.token_hex(16)
    candidate = sandbox.session(
        CANDIDATE_PROCESS,
        files={"solution.py": program.encode(), "prompt.py": prompt.encode()},
        timeout_s=timeout_s,
        memory_mb=memory_mb,
    )
    try:
        tests = sandbox.session(
            TEST_PROCESS,
            files={"prompt.py": prompt.encode(), "tests.py": test_code.encode()},
            timeout_s=timeout_s,
            memory_mb=memory_mb,
        )
    except BaseException:
        candidate.close(grace_s=0)
        raise
    try:
        candidate.send(repr({"entry": entry}) + "\n")
        tests.send(repr({"nonce": nonce, "entry": entry}) + "\n")
        return _relay(candidate, tests, nonce, deadline)
    except TimeoutError:
        return Outcome(False, {"status": "timeout", "message": f"tests did not finish in {timeout_s} s"})
    finally:  # the verdict is known: the sandboxes clean up while we move on
        tests.close(wait=False)
        candidate.close(wait=False)


def _relay(candidate: Any, tests: Any, nonce: str, deadline: float) -> Outcome:
    remaining = lambda: max(deadline - time.monotonic(), 0.0)  # noqa: E731
    ready = candidate.readline(remaining(), MAX_LINE)
    if ready != b"READY\n":
        message = _loaderr(ready) or _tail(candidate.close(grace_s=0.2).stderr)
        return Outcome(False, {"status": "runtime_error", "message": message})
    calls, gone = 0, None
    while True:
        line = tests.readline(remaining(), MAX_LINE).decode(errors="replace")
        if line.startswith("CALL "):
            calls += 1
            if gone is not None:
                tests.send("GONE\n")
                continue
            candidate.send(line if line.endswith("\n") else line + "\n")
            reply, gone = _answer(candidate.readline(remaining(), MAX_LINE))
            tests.send(reply)
            continue
        if line.startswith(nonce + " "):
            verdict = line[len(nonce) + 1 :].rstrip("\n")
            if gone is not None:
                return Outcome(False, gone, calls)
            if verdict == "PASS":
                if calls == 0:
                    return Outcome(
                        False, {"status": "bad_tests", "message": "the tests never called the candidate"}
                    )
                return Outcome(True, None, calls)
            message = verdict[5:] if verdict.startswith("FAIL ") else verdict
            try:
                message = ast.literal_eval(message)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass
            return Outcome(False, {"status": "mismatch", "message": str(message)[:300]}, calls)
        if not line:  # the test process ended without a verdict
            result = tests.close(grace_s=0.2)
            return Outcome(False, gone or {"status": "test_error", "message": _tail(result.stderr)}, calls)


def _answer(reply: bytes) -> tuple[str, dict | None]:
    """The line for the test process, and the candidate's failure (None while it is sound)."""
    text = reply.decode(errors="replace")
    kind, _, payload = text.rstrip("\n").partition(" ")
    if not text.endswith("\n"):
        return "GONE\n", {"status": "runtime_error", "message": "the candidate's process ended"}
    try:
        value = ast.literal_eval(payload) if kind in ("RET", "RAISE") else None
        if kind == "RET":
            return "RET " + encode_value(value) + "\n", None
        if kind == "RAISE" and isinstance(value, list) and len(value) == 2:
            name = _builtin_exception(value[0])
            if name is not None:
                return "RAISE " + repr([name, str(value[1])[:300]]) + "\n", None
            return "GONE\n", {"status": "runtime_error", "message": f"the candidate raised {value[0]!r:.100}"}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    return "GONE\n", {"status": "runtime_error", "message": f"not a plain return value: {text[:200]!r}"}


def _loaderr(line: bytes) -> str | None:
    text = line.decode(errors="replace")
    if not text.startswith("LOADERR "):
        return None
    try:
        return str(ast.literal_eval(text[8:].strip()))[:300]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text[:300]


def _tail(stderr: str) -> str:
    return stderr.strip()[-300:] or "no output"
