"""Hostile programs: each is contained, classified, returns within limit + 1 s, leaves no process."""

import os
import socket
import threading
import time

import pytest
from conftest import sandbox_processes

pytestmark = pytest.mark.slow  # each hostile program runs to its limit

LIMIT = 2.0


def left_behind(sandbox, before: set[str]) -> list[str]:
    """Sandbox-looking processes that did not exist before the run. Other tests may keep
    verifier pools alive in this process (cached code verifiers); those are not this run's."""
    return [p for p in sandbox_processes(sandbox) if p not in before]


def run_bounded(sandbox, code, **kw):
    before = set(sandbox_processes(sandbox))
    start = time.monotonic()
    result = sandbox.run(code, timeout_s=kw.pop("timeout_s", LIMIT), **kw)
    elapsed = time.monotonic() - start
    assert elapsed < LIMIT + 1.0, f"took {elapsed:.2f}s: {result.status} {result.stderr[-300:]!r}"
    deadline = time.monotonic() + 1.0
    while left_behind(sandbox, before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left_behind(sandbox, before) == [], "processes left behind"
    return result


def test_fork_bomb(sandbox):
    r = run_bounded(
        sandbox, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    assert r.status in ("timeout", "runtime_error", "memory_limit")


def test_thread_bomb(sandbox):
    code = (
        "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(100,)).start()\n"
    )
    assert run_bounded(sandbox, code).status in ("runtime_error", "timeout")


def test_memory_bomb(sandbox):
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n"
    r = run_bounded(sandbox, code, memory_mb=256)
    assert r.status == "memory_limit"


def test_infinite_loop(sandbox):
    assert run_bounded(sandbox, "while True:\n    pass\n").status == "timeout"


def test_ignoring_sigterm(sandbox):
    code = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n"
    assert run_bounded(sandbox, code).status == "timeout"


def test_child_that_sleeps_forever(sandbox):
    code = "import subprocess\nsubprocess.Popen(['sleep', '1000'])\nprint('parent done')\n"
    r = run_bounded(sandbox, code)
    assert r.status == "ok" and r.stdout == "parent done\n"
    assert r.duration_s < 1.0


def test_double_forked_daemon_dies_with_the_run(sandbox):
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(1.5)\n"
        "        print('daemon wrote later', flush=True)\n"
        "        open('/work/late.txt', 'w').write('x')\n"
        "    os._exit(0)\n"
        "print('main done')\n"
    )
    before = set(sandbox_processes(sandbox))
    r = run_bounded(sandbox, code)
    assert r.status == "ok" and "daemon" not in r.stdout
    time.sleep(2.0)
    assert left_behind(sandbox, before) == []


def test_tcp_to_host_loopback_is_blocked(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(_accept(server)), daemon=True).start()
    code = (
        "import socket\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n    print('connected')\n"
        "except OSError as e:\n    print('blocked', type(e).__name__)\n"
    )
    r = run_bounded(sandbox, code)
    assert r.stdout.startswith("blocked")
    time.sleep(0.2)
    assert accepted in ([], [None])
    server.close()


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


def test_dns_lookup_fails(sandbox):
    code = (
        "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n    print('resolved')\n"
        "except OSError as e:\n    print('failed', type(e).__name__)\n"
    )
    assert run_bounded(sandbox, code).stdout.startswith("failed")


def test_host_files_are_invisible(sandbox, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host-only-content")
    code = (
        "import os\n"
        f"for path in ['/etc/shadow', {str(secret)!r}, '/root/.bashrc']:\n"
        "    try:\n        print(path, 'READ', open(path).read()[:20])\n"
        "    except OSError as e:\n        print(path, 'denied', type(e).__name__)\n"
        "print(os.path.exists('/work/main'), os.path.exists('/sys/fs/cgroup/memory/rlvr'))\n"
    )
    r = run_bounded(sandbox, code)
    assert "READ" not in r.stdout and "host-only-content" not in r.stdout, r.stdout
    assert r.stdout.strip().endswith("False False")


def test_host_environment_and_proc_hold_no_secret(sandbox, monkeypatch):
    monkeypatch.setenv("RLVR_TEST_SECRET", "s3cr3t-value")
    code = (
        "import os, glob\n"
        "print(dict(os.environ))\n"
        "for p in glob.glob('/proc/*/environ'):\n"
        "    try:\n        print(p, open(p, 'rb').read())\n    except OSError as e:\n        print(p, e)\n"
    )
    r = run_bounded(sandbox, code)
    assert "s3cr3t-value" not in r.stdout + r.stderr


def test_writing_outside_the_work_directory(sandbox, tmp_path):
    target = tmp_path / "escape.txt"
    code = (
        "for path in ['/usr/evil', '/evil', '/etc/evil', " + repr(str(target)) + "]:\n"
        "    try:\n        open(path, 'w').write('x')\n        print('wrote', path)\n"
        "    except OSError as e:\n        print('denied', path)\n"
        "open('/work/ok.txt', 'w').write('fine')\nprint('work ok')\n"
    )
    r = run_bounded(sandbox, code)
    assert "wrote" not in r.stdout and "work ok" in r.stdout
    assert not target.exists() and not os.path.exists("/usr/evil")


def test_killing_the_parent(sandbox):
    code = (
        "import os, signal\n"
        "for pid in (os.getppid(), 1, -1):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
        "os.killpg(0, signal.SIGKILL)\n"
    )
    r = run_bounded(sandbox, code)
    assert r.status in ("runtime_error", "ok", "sandbox_error")
    assert sandbox.run("print('still here')").stdout == "still here\n"


def test_huge_stdout_is_cut(sandbox):
    code = "import sys\nchunk = 'x' * 1024 * 1024\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
    r = run_bounded(sandbox, code)
    assert r.status == "output_limit" and r.truncated
    assert len(r.stdout) <= 1 << 20


def test_filling_the_disk(sandbox):
    code = (
        "i = 0\nwhile True:\n    with open(f'/work/f{i}', 'wb') as f:\n"
        "        f.write(b'x' * (8 * 1024 * 1024))\n    i += 1\n"
    )
    r = run_bounded(sandbox, code, memory_mb=256)
    assert r.status in ("runtime_error", "memory_limit", "timeout")
    assert r.status != "ok"


def test_segfault_through_ctypes(sandbox):
    r = run_bounded(sandbox, "import ctypes\nctypes.string_at(0)\n")
    assert r.status == "runtime_error" and r.exit_code not in (0, None)


def test_runs_cannot_see_each_other(sandbox):
    leave = (
        "import os, subprocess\n"
        "for d in ['/work', '/tmp', '/dev/shm']:\n"
        "    try:\n        open(d + '/left-behind', 'w').write('x')\n    except OSError:\n        pass\n"
        "subprocess.Popen(['sleep', '30'])\n"
    )
    assert sandbox.run(leave).status == "ok"
    look = (
        "import os\n"
        "print([d for d in ['/work', '/tmp', '/dev/shm'] if os.path.exists(d + '/left-behind')])\n"
        "live = [line.split() for line in os.popen('ps -e -o stat=,comm=').read().splitlines()]\n"
        "print(sum(1 for stat, comm in live if comm == 'sleep' and not stat.startswith('Z')))\n"
    )
    r = run_bounded(sandbox, look)
    assert r.stdout.splitlines() == ["[]", "0"], r.stdout


def test_cpu_hog_threads_are_a_timeout(sandbox):
    code = "import threading\ndef spin():\n    while True:\n        pass\nfor _ in range(4):\n    threading.Thread(target=spin).start()\n"
    assert run_bounded(sandbox, code).status == "timeout"
