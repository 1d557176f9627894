import pytest

from rlvr.errors import ConfigError
from rlvr.sandbox import ExecRequest, get_sandbox


def test_python_stdin_stdout(sandbox):
    r = sandbox.run("print(input()[::-1])", stdin="abc\n")
    assert (r.status, r.exit_code, r.stdout, r.truncated) == ("ok", 0, "cba\n", False)


def test_runtime_error_keeps_stderr(sandbox):
    r = sandbox.run("raise ValueError('boom')")
    assert r.status == "runtime_error" and r.exit_code == 1 and "ValueError: boom" in r.stderr


def test_cpp_compile_and_run(sandbox):
    code = "#include <iostream>\nint main(){long a,b; std::cin>>a>>b; std::cout<<a*b<<std::endl;}"
    r = sandbox.run(code, language="cpp", stdin="6 7")
    assert r.status == "ok" and r.stdout == "42\n"


def test_cpp_compile_error_has_the_compiler_message(sandbox):
    r = sandbox.run("int main( {", language="cpp")
    assert r.status == "compile_error" and "error" in r.stderr


def test_bash(sandbox):
    r = sandbox.run('read x; echo "got $x"; exit 3', language="bash", stdin="hi\n")
    assert r.status == "runtime_error" and r.exit_code == 3 and r.stdout == "got hi\n"


def test_files_are_placed_in_the_work_directory(sandbox):
    r = sandbox.run("print(open('data/in.txt').read().upper())", files={"data/in.txt": b"hello"})
    assert r.stdout == "HELLO\n"


def test_large_stdin(sandbox):
    data = "1\n" * 500_000
    r = sandbox.run("import sys\nprint(sum(int(x) for x in sys.stdin))", stdin=data)
    assert r.stdout == "500000\n"


def test_run_many_keeps_order(sandbox):
    requests = [ExecRequest(code=f"print({i} * {i})") for i in range(12)]
    results = sandbox.run_many(requests, concurrency=4)
    assert [r.stdout for r in results] == [f"{i * i}\n" for i in range(12)]


def test_bad_arguments_name_the_field(sandbox):
    with pytest.raises(ConfigError, match="language"):
        sandbox.run("x", language="cobol")
    with pytest.raises(ValueError, match="timeout_s"):
        sandbox.run("x", timeout_s=-1)
    with pytest.raises(ConfigError, match="files"):
        sandbox.run("x", files={"../escape": b""})


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown name 'nope'"):
        get_sandbox("nope")


def test_zygote_fork_fallback_isolates_too():
    """The fork + unshare + fork path (used where raw clone() is unavailable)."""
    import shutil

    from rlvr.sandbox import get_sandbox

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    sb = get_sandbox("local", use_clone=False, pool_size=1)
    try:
        assert sb.run("import os\nprint(os.getpid(), os.getuid())").stdout == "1 1000\n"
        r = sb.run("import subprocess\nsubprocess.Popen(['sleep', '30'])\nprint('done')")
        assert r.status == "ok" and r.duration_s < 1.0
        assert sb.run("while True:\n    pass", timeout_s=1).status == "timeout"
        assert sb.run("x = bytearray(900 * 1024 * 1024)", memory_mb=256).status == "memory_limit"
    finally:
        sb.close()


def test_a_repeated_program_runs_as_the_first_time(sandbox):
    """A program that comes again runs as the first time: every run gets its own stdin, its
    own globals, and a program that changed is not taken for the old one."""
    code = "import sys\nseen = globals().setdefault('seen', [])\nseen.append(1)\nprint(int(input()) * 2, len(seen))\n"
    for i in range(4):
        assert sandbox.run(code, stdin=f"{i}\n").stdout == f"{i * 2} 1\n"
    assert sandbox.run(code.replace("* 2", "* 3"), stdin="5\n").stdout == "15 1\n"
    for _ in range(3):
        r = sandbox.run("def f():\n    raise ValueError('x')\nf()\n")
        assert r.status == "runtime_error" and "ValueError: x" in r.stderr and "line 2" in r.stderr


def test_a_worker_serving_many_runs_holds_no_more_files_than_after_its_first():
    """Every pipe end of a run is closed in the pre-started worker: it served hundreds of runs
    and then failed them with `Too many open files` when a stream's end was left open."""
    from sandbox_conftest import worker_open_files

    sandbox = get_sandbox("local", pool_size=1)
    try:
        assert sandbox.run("print(1)").stdout == "1\n"
        before = worker_open_files(sandbox)
        results = [sandbox.run("print(input())", stdin=f"{i}\n") for i in range(200)]
        assert [r.stdout for r in results] == [f"{i}\n" for i in range(200)]
        assert worker_open_files(sandbox) <= before
    finally:
        sandbox.close()


def test_trusted_code_runs_as_if_compiled_in_the_run(sandbox):
    """`trusted=True` (the caller's own code, compiled once per worker): same behaviour as
    compiling in the run, each program its own code, a syntax error reported the same way."""
    program = "import sys\nprint(sys.argv[0], __name__, input())\n"
    for stdin in ("a", "b"):
        plain = sandbox.run(program, stdin=stdin)
        trusted = sandbox.run(program, stdin=stdin, trusted=True)
        assert (
            (trusted.status, trusted.stdout)
            == (plain.status, plain.stdout)
            == ("ok", f"main.py __main__ {stdin}\n")
        )
    assert sandbox.run("print(2)", trusted=True).stdout == "2\n"
    broken = sandbox.run("def (", trusted=True)
    assert broken.status == "runtime_error" and "SyntaxError" in broken.stderr, broken
    assert sandbox.run(program, stdin="c", trusted=True).stdout == "main.py __main__ c\n"
