"""Docker backend while rlvr itself runs in another pid namespace than the daemon (inside a
container, a Kubernetes pod, a CI runner): there the container's processes are invisible to
the host-side kill, which must notice that instead of reporting them dead (issue 14)."""

import json
import subprocess
import sys

import pytest
from sandbox_conftest import docker_sandbox, in_new_pid_namespace

pytestmark = pytest.mark.slow

THREAD_BOMB = (
    "import threading, time\nts = []\nwhile True:\n"
    "    t = threading.Thread(target=time.sleep, args=(100,)); t.start(); ts.append(t)\n"
)

# Runs in the new pid namespace: a fresh sandbox whose FIRST run is the thread bomb, then two
# harmless runs; after each run the container's pids.current (a count, the same in every
# namespace) says whether anything of the run is still alive.
SCRIPT = """
import json, os, sys
from rlvr.sandbox.docker import DockerSandbox, _cgroup_procs
sb = DockerSandbox(pool_size=1, prestart=False)
rows = []
try:
    for code in [sys.argv[1], "print(1)", "print(2)"]:
        r = sb.run(code, timeout_s=1.5, memory_mb=256)
        procs = _cgroup_procs(sb.containers()[0])
        current = os.path.join(os.path.dirname(procs), "pids.current") if procs else ""
        pids = int(open(current).read()) if current and os.path.exists(current) else None
        rows.append([r.status, r.stdout, pids])
finally:
    sb.close()
print(json.dumps(rows))
"""


def test_thread_bomb_first_then_harmless_runs_in_a_pid_namespace():
    docker_sandbox()  # skips where no daemon or image is available (unless CI requires Docker)
    proc = in_new_pid_namespace([sys.executable, "-c", SCRIPT, THREAD_BOMB], timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    (bomb_status, _, bomb_pids), *harmless = rows
    assert bomb_status == "timeout"
    assert bomb_pids in (None, 2), f"{bomb_pids} processes (the zygote and its forker are 2) after the bomb"
    assert [(status, out) for status, out, _ in harmless] == [("ok", "1\n"), ("ok", "2\n")]


def test_in_new_pid_namespace_really_is_one():
    proc = in_new_pid_namespace([sys.executable, "-c", "import os; print(os.getpid())"], timeout=30)
    assert proc.stdout.strip() == "1"
    assert (
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        ).stdout.strip()
        != "1"
    )


def test_a_process_in_another_pid_namespace_keeps_our_containers():
    """Containers are labelled with their owner's PID; from another pid namespace that PID
    names nothing (or another process), and its start-up clean-up used to remove the live
    containers of every rlvr process outside it."""
    sandbox = docker_sandbox()
    assert sandbox.run("print(1)").stdout == "1\n"
    ours = set(sandbox.containers())
    reap = "from rlvr.sandbox.docker import DockerSandbox\nprint(DockerSandbox.remove_leftovers())"
    proc = in_new_pid_namespace([sys.executable, "-c", reap], timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    alive = {c.id for c in sandbox._client.containers.list(filters={"label": "rlvr.sandbox"})}
    assert ours <= alive
    assert sandbox.run("print(2)").stdout == "2\n"
