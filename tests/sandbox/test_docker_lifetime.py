"""Docker containers never outlive their owner: not the process, not a pool worker, not even
after SIGKILL (the zygote's stdin is the owner's attach socket; when it closes, the zygote
exits and the container is auto-removed).  Checked with `docker ps`."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sandbox_conftest import docker_sandbox

pytestmark = pytest.mark.slow

HELPER = '''
import os

_sandbox = None


def my_containers(_completion, _answer):
    """In a pool worker: warm a Docker sandbox, return this worker's pid and its containers."""
    global _sandbox
    from rlvr.sandbox import get_sandbox

    if _sandbox is None:
        _sandbox = get_sandbox("docker", pool_size=2)
    assert _sandbox.run("print(1)").stdout == "1\\n"
    return os.getpid(), _sandbox.containers()
'''

OWNER = """
import json, sys
from rlvr.sandbox import get_sandbox
sb = get_sandbox("docker", pool_size=2)
assert sb.run("print(1)").stdout == "1\\n"
print(json.dumps(sb.containers()), flush=True)
sys.stdin.readline()
"""

WORKERS = """
import json, sys
from helper import my_containers
from rlvr.pool import shared_pool
outcomes = shared_pool(2).map(my_containers, [("", None)] * 8, 120)
by_worker = {}
for status, value in outcomes:
    assert status == "ok", value
    by_worker[value[0]] = value[1]
print(json.dumps(by_worker), flush=True)
sys.stdin.readline()
"""


def listed(ids: list[str]) -> list[str]:
    """Of these containers, those `docker ps -a` still lists."""
    out = subprocess.run(
        ["docker", "ps", "-a", "--no-trunc", "--format", "{{.ID}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [i for i in ids if i in out]


def gone_within(ids: list[str], seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while listed(ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return listed(ids)


def start(tmp_path, script: str) -> subprocess.Popen:
    docker_sandbox()  # skips where no daemon or image is available (unless CI requires Docker)
    (tmp_path / "helper.py").write_text(textwrap.dedent(HELPER))
    (tmp_path / "script.py").write_text(textwrap.dedent(script))
    return subprocess.Popen(
        [sys.executable, str(tmp_path / "script.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


def test_containers_go_when_their_owner_is_killed(tmp_path):
    owner = start(tmp_path, OWNER)
    try:
        ids = json.loads(owner.stdout.readline())
        assert len(ids) == 2 and listed(ids) == ids
        os.kill(owner.pid, signal.SIGKILL)  # no atexit, no close(): only the socket closes
        owner.wait(timeout=10)
        assert gone_within(ids, 20) == []
    finally:
        owner.kill()


def test_pool_workers_containers_go_with_the_worker_and_with_the_process(tmp_path):
    owner = start(tmp_path, WORKERS)
    try:
        by_worker = {int(pid): ids for pid, ids in json.loads(owner.stdout.readline()).items()}
        assert len(by_worker) == 2, by_worker  # both workers warmed their own containers
        every = [i for ids in by_worker.values() for i in ids]
        assert every and listed(every) == every
        victim, *others = sorted(by_worker)
        os.kill(victim, signal.SIGKILL)  # a worker killed, as the pool does with a stuck item
        assert gone_within(by_worker[victim], 20) == []
        survivors = [i for pid in others for i in by_worker[pid]]
        assert listed(survivors) == survivors  # the live worker keeps its warm containers
        owner.stdin.write("exit\n")  # a plain exit: the pool's workers end with the process
        owner.stdin.flush()
        owner.wait(timeout=30)
        assert gone_within(survivors, 20) == []
    finally:
        owner.kill()
