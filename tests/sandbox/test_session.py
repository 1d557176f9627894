"""Sessions: a sandboxed program you talk to while it runs, with the limits of `run`."""

import time

import pytest

from rlvr.errors import ConfigError

ECHO = "import sys\nfor line in sys.stdin:\n    print(line.strip()[::-1], flush=True)\nprint('bye', file=sys.stderr)\n"


def test_many_round_trips_then_a_clean_end(sandbox):
    with_session = sandbox.session(ECHO, timeout_s=10)
    for i in range(50):
        with_session.send(f"abc{i}\n")
        assert with_session.readline(timeout_s=5) == (f"abc{i}"[::-1] + "\n").encode()
    result = with_session.close()
    assert (result.status, result.exit_code, result.stderr) == ("ok", 0, "bye\n")


def test_files_and_partial_reads(sandbox):
    s = sandbox.session(
        "import sys\nprint(open('data.txt').read(), end='', flush=True)\nprint(input(), flush=True)",
        files={"data.txt": b"one\ntwo\n"},
    )
    assert s.readline() == b"one\n" and s.readline() == b"two\n"
    s.send("three\n")
    assert s.readline() == b"three\n"
    assert s.readline() == b""  # the program ended
    assert s.close().status == "ok"


def test_deadline_holds_for_the_whole_session(sandbox):
    s = sandbox.session("import time\nprint('started', flush=True)\nwhile True:\n    pass\n", timeout_s=1.5)
    assert s.readline() == b"started\n"
    start = time.monotonic()
    assert s.readline() == b""  # ended by the deadline, not by the program
    assert time.monotonic() - start < 2.5
    assert s.close().status == "timeout"
    assert sandbox.run("print(6 * 7)").stdout == "42\n"


def test_readline_timeout_leaves_the_session_usable(sandbox):
    s = sandbox.session("import sys\nline = sys.stdin.readline()\nprint(line.upper(), end='', flush=True)\n")
    with pytest.raises(TimeoutError):
        s.readline(timeout_s=0.3)
    s.send("late\n")
    assert s.readline(timeout_s=5) == b"LATE\n"
    assert s.close().status == "ok"


def test_output_cap_counts_the_whole_session(sandbox):
    s = sandbox.session("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", timeout_s=5)
    received = 0
    while chunk := s.receive(timeout_s=5):
        received += len(chunk)
    result = s.close()
    assert result.status == "output_limit" and result.truncated
    assert received <= (1 << 20) + 65536
    assert sandbox.run("print('after')").stdout == "after\n"


def test_close_kills_a_program_that_ignores_its_stdin(sandbox):
    s = sandbox.session("import time\nprint('up', flush=True)\ntime.sleep(60)\n", timeout_s=30)
    assert s.readline() == b"up\n"
    start = time.monotonic()
    result = s.close(grace_s=0.2)
    assert time.monotonic() - start < 3.0
    assert result.status == "runtime_error" and "ended by the caller" in result.stderr
    assert sandbox.run("print(1)").status == "ok"


def test_memory_limit_in_a_session(sandbox):
    s = sandbox.session("x = []\nwhile True:\n    x.append(bytearray(50 << 20))\n", memory_mb=256)
    assert s.readline(timeout_s=10) == b""
    assert s.close().status == "memory_limit"


def test_compiled_languages_have_no_sessions(sandbox):
    with pytest.raises(ConfigError, match="language"):
        sandbox.session("int main(){}", language="cpp")


def test_close_without_waiting_hands_the_worker_on_clean(sandbox):
    """The next user of the worker skips the abandoned session's late output and result."""
    for i in range(6):
        s = sandbox.session(
            "import sys, time\nprint('busy', flush=True)\nsys.stdout.write('x' * 100000)\ntime.sleep(30)\n"
        )
        assert s.readline() == b"busy\n"
        assert "not awaited" in s.close(wait=False).stderr
        r = sandbox.run(f"print({i})")
        assert (r.status, r.stdout) == ("ok", f"{i}\n")
        s = sandbox.session(f"print({i} * 2)")
        assert s.readline() == f"{i * 2}\n".encode()
        s.close(wait=False)
