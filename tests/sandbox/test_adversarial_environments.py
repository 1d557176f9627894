"""The compact adversarial sequence (hostile programs in a seeded order, the first one on a
fresh sandbox, a harmless run after each) where rlvr itself is confined: as PID 1 of its own
pid namespace (a container, a pod, a CI runner: issue 14) and inside a cgroup with pids and
memory limits.  Each runs in a subprocess; the seed is in the failure message."""

import json
import os
import random
import shutil
import sys
from pathlib import Path

import pytest
from sandbox_conftest import docker_sandbox, in_limited_cgroup, in_new_pid_namespace

pytestmark = pytest.mark.slow

SEQUENCE = str(Path(__file__).with_name("adversarial_sequence.py"))
BACKENDS = ["local", "docker"]


def _seed() -> int:
    return int(os.environ.get("RLVR_ADVERSARIAL_SEED") or random.randrange(2**32))


def _require(backend: str) -> None:
    if backend == "docker":
        docker_sandbox()  # skips where no daemon or image is available (unless CI requires Docker)
    elif shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")


def _check(proc, seed: int) -> None:
    rerun = f"seed {seed} (rerun with RLVR_ADVERSARIAL_SEED={seed})"
    lines = proc.stdout.strip().splitlines()
    assert lines, f"{rerun}: no report; exit {proc.returncode}: {proc.stderr[-2000:]}"
    report = json.loads(lines[-1])
    assert report["failures"] == [], f"{rerun}, order {report['order']}"
    assert proc.returncode == 0, f"{rerun}: {proc.stderr[-2000:]}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequence_in_a_pid_namespace(backend):
    _require(backend)
    seed = _seed()
    proc = in_new_pid_namespace([sys.executable, SEQUENCE, backend, str(seed)], timeout=300)
    _check(proc, seed)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sequence_in_a_limited_cgroup(backend):
    _require(backend)
    seed = _seed()
    proc = in_limited_cgroup(
        [sys.executable, SEQUENCE, backend, str(seed)], pids_max=256, memory_mb=2048, timeout=300
    )
    _check(proc, seed)


def test_the_limited_cgroup_really_limits():
    count_forks = (
        "import os, sys, time\nn = 0\nwhile True:\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
        "    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n    n += 1\nprint(n, flush=True)\nos.killpg(0, 9)\n"
    )
    proc = in_limited_cgroup(
        ["setsid", sys.executable, "-c", count_forks], pids_max=20, memory_mb=512, timeout=60
    )
    assert proc.stdout.strip() and int(proc.stdout.split()[0]) < 20, proc.stdout + proc.stderr
