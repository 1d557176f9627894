"""Hostile programs against every backend.  Each test gets a FRESH sandbox whose very first
run is the hostile program; it must be contained, classified, return within the limit + 1 s
and leave no process behind, and a harmless run right after it must come back `ok` with its
own output.  The tests run in a seeded random order (conftest.py; the seed is printed, and
RLVR_ADVERSARIAL_SEED replays an order).  test_adversarial_environments.py runs a compact
sequence of the same programs inside a pid namespace and inside a limited cgroup."""

import os
import socket
import threading
import time

import pytest
from hostile import HOSTILE, harmless_check
from sandbox_conftest import sandbox_processes

pytestmark = pytest.mark.slow  # each hostile program runs to its limit

LIMIT = 1.5


def left_behind(sandbox, before: set[str]) -> list[str]:
    """Sandbox-looking processes that did not exist before the run. Other tests may keep
    verifier pools alive in this process (cached code verifiers); those are not this run's."""
    return [p for p in sandbox_processes(sandbox) if p not in before]


def run_bounded(sandbox, code, first_run=True, **kw):
    """The hostile run: bounded in time, nothing left behind, and a harmless run after it.
    The bound is the limit + 1 s, and 1 s more for the first run of a fresh sandbox, which
    starts its worker or container."""
    timeout_s = kw.pop("timeout_s", LIMIT)
    before = set(sandbox_processes(sandbox))
    start = time.monotonic()
    result = sandbox.run(code, timeout_s=timeout_s, **kw)
    elapsed = time.monotonic() - start
    bound = timeout_s + 1.0 + (1.0 if first_run else 0.0)
    assert elapsed < bound, f"took {elapsed:.2f}s: {result.status} {result.stderr[-300:]!r}"
    deadline = time.monotonic() + 3.0  # bwrap's namespaces are torn down after it returns
    while left_behind(sandbox, before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left_behind(sandbox, before) == [], "processes left behind"
    problem = harmless_check(sandbox)
    assert problem is None, f"{problem} (the hostile run was {result.status})"
    return result


@pytest.mark.parametrize("case", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_program_first(fresh_sandbox, case):
    result = run_bounded(fresh_sandbox, case.code, **case.options)
    assert case.check(result) is None, case.check(result)
    if case.name == "sleeping_child":
        assert result.duration_s < 1.0  # the run does not wait for its forgotten child
    if case.name == "segfault":
        assert result.exit_code == 128 + 11  # SIGSEGV, not an ImportError or a timeout
    if case.name == "output_flood":
        assert result.truncated and len(result.stdout) <= 1 << 20


def test_double_forked_daemon_dies_with_the_run(fresh_sandbox):
    sandbox = fresh_sandbox
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(1.0)\n"
        "        print('daemon wrote later', flush=True)\n"
        "        open('/work/late.txt', 'w').write('x')\n"
        "    os._exit(0)\n"
        "print('main done')\n"
    )
    before = set(sandbox_processes(sandbox))
    r = run_bounded(sandbox, code)
    assert r.status == "ok" and "daemon" not in r.stdout
    time.sleep(1.5)
    assert left_behind(sandbox, before) == []
    look = sandbox.run("import os\nprint(os.path.exists('/work/late.txt'))")
    assert (look.status, look.stdout) == ("ok", "False\n")


def test_tcp_to_host_loopback_is_blocked(fresh_sandbox):
    sandbox = fresh_sandbox
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


def test_dns_lookup_fails(fresh_sandbox):
    sandbox = fresh_sandbox
    code = (
        "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n    print('resolved')\n"
        "except OSError as e:\n    print('failed', type(e).__name__)\n"
    )
    assert run_bounded(sandbox, code).stdout.startswith("failed")


def test_host_files_are_invisible(fresh_sandbox, tmp_path):
    sandbox = fresh_sandbox
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


def test_host_environment_and_proc_hold_no_secret(fresh_sandbox, monkeypatch):
    sandbox = fresh_sandbox
    monkeypatch.setenv("RLVR_TEST_SECRET", "s3cr3t-value")
    code = (
        "import os, glob\n"
        "print(dict(os.environ))\n"
        "for p in glob.glob('/proc/*/environ'):\n"
        "    try:\n        print(p, open(p, 'rb').read())\n    except OSError as e:\n        print(p, e)\n"
    )
    r = run_bounded(sandbox, code)
    assert "s3cr3t-value" not in r.stdout + r.stderr


def test_writing_outside_the_work_directory(fresh_sandbox, tmp_path):
    sandbox = fresh_sandbox
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


def test_runs_cannot_see_each_other(fresh_sandbox):
    sandbox = fresh_sandbox
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
    r = run_bounded(sandbox, look, first_run=False)
    assert r.stdout.splitlines() == ["[]", "0"], r.stdout


# Scans the process's own objects and raw memory (/proc/self/mem) for a pattern, and prints
# how many places hold it: a run must find nothing of an earlier run, nor a peer of its main.
MEMORY_SCAN = r"""
import gc, re, sys
PATTERN = re.compile(rb"SECRET-[0-9a-f]{32}")
found = 0
for obj in gc.get_objects():
    for text in (list(obj.values()) if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()):
        if isinstance(text, (str, bytes)) and PATTERN.search(text if isinstance(text, bytes) else text.encode("utf-8", "replace")):
            found += 1
try:  # in Docker a run is not dumpable: its own /proc/self/mem is closed to it too
    mem = open("/proc/self/mem", "rb", 0)
except PermissionError:
    mem = None
for line in open("/proc/self/maps").read().splitlines() if mem else ():
    span, perms = line.split()[:2]
    start, end = (int(x, 16) for x in span.split("-"))
    if perms[0] != "r" or end - start > (64 << 20) or "[v" in line:
        continue
    try:
        mem.seek(start)
        found += len(PATTERN.findall(mem.read(end - start)))
    except (OSError, ValueError, OverflowError):
        pass
"""


def test_a_run_finds_nothing_of_earlier_runs_in_its_memory(fresh_sandbox):
    """Programs, stdin and files of earlier runs (and the main's of a pair) are not in a later
    run's memory, nor in its peer's: every run starts from a process that never held them."""
    sandbox = fresh_sandbox
    secret = "SECRET-" + os.urandom(16).hex()
    assert sandbox.run(
        f"x = {secret!r}\nprint(input())", stdin=secret, files={"s.txt": secret.encode()}
    ).stdout
    pair_main = (
        f"import os, sys\nkeep = [{secret!r}, sys.stdin.read()]\nos.write(3, b'scan\\n')\n"
        "print(os.read(4, 100).decode().strip())\n"
    )
    peer_scan = MEMORY_SCAN + "input()\nprint(found, flush=True)\n"
    r = run_bounded(sandbox, pair_main, first_run=False, stdin=secret, peer={"code": peer_scan}, timeout_s=10)
    assert (r.status, r.stdout) == ("ok", "0\n"), r  # the peer saw nothing of its main
    r = run_bounded(sandbox, MEMORY_SCAN + "print(found)\n", first_run=False, timeout_s=10)
    assert (r.status, r.stdout) == ("ok", "0\n"), r  # nor the next run of any earlier one


def test_trees_too_deep_or_too_long_to_name_are_cleaned(fresh_sandbox):
    """Paths longer than PATH_MAX and trees thousands of levels deep, in every writable
    place, and a POSIX message queue: the next run finds all of it gone."""
    plant = (
        "import os\n"
        "for top in ('/work', '/tmp', '/dev/shm'):\n"
        "    os.chdir(top)\n"
        "    for _ in range(30):\n"
        "        os.mkdir('d' * 200)\n"
        "        os.chdir('d' * 200)\n"
        "    open('f', 'w').write('x')\n"
        "    os.chdir(top)\n"
        "    os.mkdir('deep')\n"
        "    os.chdir('deep')\n"
        "    for _ in range(1500):\n"
        "        os.mkdir('d')\n"
        "        os.chdir('d')\n"
        "    os.chmod('.', 0o500)\n"
        "if os.path.isdir('/dev/mqueue'):\n"
        "    try:\n"
        "        os.close(os.open('/dev/mqueue/q', os.O_CREAT | os.O_RDWR, 0o600))\n"
        "    except OSError:\n"
        "        pass\n"
        "print('planted')\n"
    )
    r = run_bounded(fresh_sandbox, plant, timeout_s=10)
    assert r.stdout == "planted\n", r
    look = (
        "import os\n"
        "left = [(d, n) for d in ('/work', '/tmp', '/dev/shm', '/dev/mqueue') if os.path.isdir(d)\n"
        "        for n in os.listdir(d) if n != 'main.py']\n"
        "print(left)\n"
    )
    r = run_bounded(fresh_sandbox, look, first_run=False)
    assert (r.status, r.stdout) == ("ok", "[]\n"), r


# Hostile peers (`Sandbox.run(..., peer=...)`): the main program says one word to its peer and
# ends; the peer attacks.  The run must end with the main (the limit is never waited for),
# nothing of the peer may be left, and nothing the peer writes may reach the result.
HOSTILE_PEERS = {
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    "kill_everything": (
        "import os, signal\nwhile True:\n    try:\n        os.kill(-1, signal.SIGKILL)\n    except OSError:\n        pass\n"
    ),
    "double_forked_daemon": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(30)\n"
        "    os._exit(0)\nprint('daemon started', flush=True)\ntime.sleep(30)\n"
    ),
    "output_flood": "import os\nwhile True:\n    os.write(1, b'FLOOD' * 13107)\n",
    "memory_bomb": "x = []\nwhile True:\n    x.append(bytearray(64 << 20))\n",
    "busy_loop": "while True:\n    pass\n",
}
SHORT_MAIN = "import os\nos.write(3, b'go\\n')\nprint('main done')\n"


@pytest.mark.parametrize("peer", sorted(HOSTILE_PEERS))
def test_hostile_peer_ends_with_its_main(fresh_sandbox, peer):
    start = time.monotonic()
    r = run_bounded(fresh_sandbox, SHORT_MAIN, peer={"code": HOSTILE_PEERS[peer]}, timeout_s=5.0)
    assert time.monotonic() - start < 4.0, "the run waited for its peer"
    assert r.stdout in ("main done\n", ""), r  # the main may die of the peer (one container)
    assert "FLOOD" not in r.stderr and "daemon" not in r.stdout + r.stderr
    if peer in ("fork_bomb", "double_forked_daemon", "output_flood", "busy_loop"):
        assert (r.status, r.stdout) == ("ok", "main done\n"), r
