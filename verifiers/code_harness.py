"""HumanEval / MBPP / EvalPlus test code, run so that the candidate cannot touch the verdict.

Two sandboxed processes, one verdict, in one sandbox run (`Sandbox.run(..., peer=...)`):

* the **test process** (the run's main program) gets the record's prompt (its
  helpers: `poly`, `encode_cyclic`, ...), its test code and a nonce on its own
  stdin, runs them with the entry point bound to a proxy, then
  `check(candidate)`.  It alone says PASS or FAIL, on its stdout, on a line
  tagged with the nonce.  It reads no file and imports nothing from a directory
  the candidate can write;
* the **candidate process** (the peer) runs the prompt and the completion's
  program, then answers calls: it reads `CALL <args>` and writes `RET <value>`
  or `RAISE <exception>`.  Its stdin and stdout are the two pipes to the test
  process and nothing else: it never sees the nonce, the test code's output or
  the verdict's stream.

Every call goes straight from one process to the other over those pipes, with
no round trip through the host.  Values cross as `repr`-style text, written by
the encoder below and parsed with `ast.literal_eval` (plain data, never
pickles): whatever object the candidate returns, the test code receives a
plain `int`, `str`, `list`, ... with Python's own `==`, `is True`, `not`.
Exceptions are re-raised in the test process by their built-in type.  Any
number of calls, any randomness in the tests: nothing is replayed.  The
candidate can write anything on its stream; the worst it can do is return a
wrong value or fail.
"""

from __future__ import annotations

import ast
import inspect
import secrets
from dataclasses import dataclass
from typing import Any

MAX_LINE = 16 << 20  # one value, one line; a longer one fails the candidate


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
    (
        inspect.getsource(NotPlainData)
        + "\n\n"
        + inspect.getsource(encode_value).replace("value: Any, depth: int = 0) -> str:", "value, depth=0):")
    )
    .replace("NotPlainData", "_RlvrNotPlain")
    .replace("encode_value", "_rlvr_encode")
)

# The test process: the record's code on stdin, the candidate on fds 3 (calls) and 4
# (replies), the verdict on a private copy of stdout.  The test code's own prints go to
# stderr, so nothing it prints can be taken for the verdict.
_TEST_SETUP = r"""
import ast as _rlvr_ast, builtins as _rlvr_builtins, os as _rlvr_os, signal as _rlvr_signal, sys as _rlvr_sys
_rlvr_signal.signal(_rlvr_signal.SIGPIPE, _rlvr_signal.SIG_IGN)
if hasattr(_rlvr_sys, "set_int_max_str_digits"):  # a correct answer may be a 10,000-digit int
    _rlvr_sys.set_int_max_str_digits(0)
_rlvr_cfg = _rlvr_ast.literal_eval(_rlvr_sys.stdin.readline())
_rlvr_verdict_fd = _rlvr_os.dup(1)
_rlvr_os.dup2(2, 1)
_rlvr_sys.stdout = _rlvr_sys.stderr
_rlvr_from = _rlvr_os.fdopen(4, "r", encoding="utf-8", errors="replace")
_rlvr_max_line = _rlvr_cfg["max_line"]
_rlvr_nonce = _rlvr_cfg["nonce"]
_rlvr_entry = _rlvr_cfg["entry"]


def _rlvr_write(fd, text):
    data = memoryview((text + "\n").encode("utf-8", "backslashreplace"))
    while data:
        data = data[_rlvr_os.write(fd, data):]


def _rlvr_say(*words):
    _rlvr_write(_rlvr_verdict_fd, " ".join((_rlvr_nonce,) + words))


"""

_TEST_BODY = r'''

class _RlvrGone(BaseException):
    """The candidate failed or ended: the verdict is FAIL, whatever the tests do next."""


_rlvr_gone = []  # the candidate's first failure
_rlvr_calls = [0]
_rlvr_ready = ""


def _rlvr_fail(message):
    if not _rlvr_gone:
        _rlvr_gone.append(message)
    raise _RlvrGone()


def _rlvr_reply():
    """The candidate's next line, without its newline."""
    line = _rlvr_from.readline(_rlvr_max_line + 1)
    if not line.endswith("\n"):
        if len(line) > _rlvr_max_line:
            _rlvr_fail("a line of more than %d bytes" % _rlvr_max_line)
        _rlvr_fail("the candidate's process ended")
    return line[:-1]


def _rlvr_tell(text):
    try:
        _rlvr_write(3, text)
    except OSError:
        _rlvr_fail("the candidate's process ended")


def _rlvr_exception(mro_names):
    """The first built-in Exception type in the candidate exception's MRO; None for SystemExit,
    KeyboardInterrupt and anything else that is not an Exception, and for StopIteration:
    raised in the test code's generator or `map`, it would end the loop instead of
    failing it."""
    if not isinstance(mro_names, list):
        return None
    if "StopIteration" in mro_names or "StopAsyncIteration" in mro_names:
        return None
    for name in mro_names:
        cls = getattr(_rlvr_builtins, name, None) if isinstance(name, str) else None
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return cls if issubclass(cls, Exception) else None
    return None


def _rlvr_candidate(*args, **kwargs):
    if _rlvr_gone:
        raise _RlvrGone()
    _rlvr_calls[0] += 1
    _rlvr_tell("CALL " + _rlvr_encode([list(args), kwargs]))
    kind, _, payload = _rlvr_reply().partition(" ")
    if kind in ("RET", "RAISE"):
        try:
            value = _rlvr_ast.literal_eval(payload)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            _rlvr_fail("not a plain return value: " + repr(payload[:200]))
        if kind == "RET":
            return value
        if isinstance(value, list) and len(value) == 2:
            cls = _rlvr_exception(value[0])
            if cls is None:
                _rlvr_fail("the candidate raised " + repr(value[0])[:100])
            raise cls(str(value[1])[:300])
    _rlvr_fail("not a plain return value: " + repr((kind + " " + payload)[:200]))


try:
    _rlvr_tell(repr({"entry": _rlvr_entry}))
    _rlvr_ns = {"__name__": "__main__"}
    exec(compile(_rlvr_cfg["prompt"], "prompt.py", "exec"), _rlvr_ns)
    _rlvr_tests = compile(_rlvr_cfg["tests"], "tests.py", "exec")
    _rlvr_ready = _rlvr_reply()
    if _rlvr_ready.startswith("LOADERR "):
        _rlvr_say("LOADERR", _rlvr_ready[8:][:400])
        raise SystemExit(0)
    if _rlvr_ready != "READY":
        _rlvr_fail("not ready: " + repr(_rlvr_ready[:200]))
    _rlvr_ns[_rlvr_entry] = _rlvr_candidate
    exec(_rlvr_tests, _rlvr_ns)
    if callable(_rlvr_ns.get("check")):
        _rlvr_ns["check"](_rlvr_candidate)
    if _rlvr_gone:  # the test code swallowed the candidate's failure
        raise _RlvrGone()
    _rlvr_say("PASS", str(_rlvr_calls[0]))
except _RlvrGone:
    _rlvr_say("GONE", repr(_rlvr_gone[0]))
except BaseException as _rlvr_e:
    if _rlvr_gone:
        _rlvr_say("GONE", repr(_rlvr_gone[0]))
    elif not _rlvr_ready.startswith("LOADERR "):
        _rlvr_say("FAIL", repr((type(_rlvr_e).__name__ + ": " + str(_rlvr_e))[:300]))
'''

TEST_PROCESS = _TEST_SETUP + _ENCODER + _TEST_BODY

# The candidate process: its protocol runs on private copies of fds 0 and 1 (the pipes
# from and to the test process); the program's own stdin is /dev/null and its stdout goes
# to stderr, so nothing it prints can be taken for a protocol line.
_CANDIDATE_SETUP = r"""
import ast as _rlvr_ast, os as _rlvr_os, sys as _rlvr_sys
if hasattr(_rlvr_sys, "set_int_max_str_digits"):
    _rlvr_sys.set_int_max_str_digits(0)
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

_CANDIDATE_BODY = r"""

_rlvr_cfg = _rlvr_ast.literal_eval(_rlvr_in.readline())
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

CANDIDATE_PROCESS = _CANDIDATE_SETUP + _ENCODER + _CANDIDATE_BODY


@dataclass
class Outcome:
    passed: bool
    failure: dict | None = None
    calls: int = 0


def run_test_code(
    sandbox: Any,
    program: str,
    prompt: str,
    test_code: str,
    entry: str,
    timeout_s: float,
    memory_mb: int,
) -> Outcome:
    """Run `test_code` against `program` as one pair run in `sandbox`; see the module doc."""
    nonce = "RLVR-" + secrets.token_hex(16)
    config = {"nonce": nonce, "entry": entry, "prompt": prompt, "tests": test_code, "max_line": MAX_LINE}
    result = sandbox.run(
        TEST_PROCESS,
        stdin=ascii(config) + "\n",
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        peer={
            "code": CANDIDATE_PROCESS,
            "files": {"solution.py": _utf8(program), "prompt.py": _utf8(prompt)},
            "trusted": True,  # the harness, not the candidate: that is in solution.py
        },
        trusted=True,  # compiled once per worker: the record's code is compiled in the run
    )
    tag = nonce + " "
    line = next((x for x in result.stdout.splitlines() if x.startswith(tag)), None)
    if line is None:
        if result.status == "timeout":
            return Outcome(False, {"status": "timeout", "message": f"tests did not finish in {timeout_s} s"})
        known = ("memory_limit", "output_limit", "sandbox_error")
        status = result.status if result.status in known else "test_error"
        return Outcome(False, {"status": status, "message": _tail(result.stderr)})
    kind, _, detail = line[len(tag) :].partition(" ")
    if kind == "PASS":
        calls = int(detail) if detail.isdigit() else 0
        if calls == 0:
            return Outcome(False, {"status": "bad_tests", "message": "the tests never called the candidate"})
        return Outcome(True, None, calls)
    status = "mismatch" if kind == "FAIL" else "runtime_error"
    return Outcome(False, {"status": status, "message": _literal_text(detail)})


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _literal_text(text: str) -> str:
    """A message the test process wrote as a repr (it may quote the candidate's words)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = text
    return str(value)[:300]


def _tail(stderr: str) -> str:
    return stderr.strip()[-300:] or "no output"
