import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rlvr.sandbox import get_sandbox


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def pool_workers(sandbox) -> set[int]:
    """The local pool's own processes: outer bwrap, bwrap's init, the zygote (3 levels).
    Anything deeper is a run's process."""
    tree = _children()
    keep: set[int] = set()
    level = list(getattr(sandbox, "worker_pids", lambda: [])())
    for _ in range(3):
        keep.update(level)
        level = [c for p in level for c in tree.get(p, [])]
    return keep


def sandbox_processes(sandbox=None) -> list[str]:
    """Host processes that belong to a sandbox run (bwrap or a program in /work)."""
    found = []
    skip = pool_workers(sandbox) if sandbox is not None else set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if "rlvr-sandbox" in cmdline or "bwrap" in cmdline or "/rlvr-" in cwd or cwd == "/work":
            found.append(f"{entry.name}: {cmdline[:80]} (cwd {cwd})")
    return found


BACKENDS = ["local", "local-per-run", pytest.param("docker", marks=pytest.mark.slow)]
_docker_sandbox = None


def docker_sandbox():
    """One warm DockerSandbox for the whole session (containers are reused across tests)."""
    global _docker_sandbox
    if _docker_sandbox is None:
        try:
            _docker_sandbox = get_sandbox("docker", pool_size=2)
        except ValueError as exc:
            if os.environ.get("RLVR_REQUIRE_DOCKER"):
                raise
            pytest.skip(f"docker backend unavailable: {exc}")
    return _docker_sandbox


@pytest.fixture(params=BACKENDS)
def sandbox(request):
    if request.param.startswith("local"):
        if shutil.which("bwrap") is None:
            pytest.skip("bubblewrap is not installed")
        sandbox = get_sandbox("local", mode="per-run" if request.param == "local-per-run" else "zygote")
        yield sandbox
        sandbox.close()
        return
    yield docker_sandbox()


def pytest_sessionfinish(session, exitstatus):
    if _docker_sandbox is not None:
        _docker_sandbox.close()


def in_new_pid_namespace(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run argv as PID 1 of a new pid namespace with its own /proc, as rlvr runs inside a
    container, a pod or a CI runner.  Skips where unshare is missing or not permitted
    (it needs root, as in CI)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a pid namespace here: {probe.stderr.decode().strip()}")
    return subprocess.run(
        [unshare, "--pid", "--fork", "--mount-proc", *argv], capture_output=True, text=True, timeout=timeout
    )
