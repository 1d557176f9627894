import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlvr.sandbox import get_sandbox
from rlvr.sandbox.cgroups import rmdir_when_empty

# Test modules import helpers from here by this name: several test folders have a conftest.py,
# and the plain name `conftest` means whichever of them was imported last.
sys.modules["sandbox_conftest"] = sys.modules[__name__]


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
    """The local pool's own processes: outer bwrap, bwrap's init, the zygote, its forker
    (4 levels).  Anything deeper is a run's process."""
    tree = _children()
    keep: set[int] = set()
    level = list(getattr(sandbox, "worker_pids", lambda: [])())
    for _ in range(4):
        keep.update(level)
        level = [c for p in level for c in tree.get(p, [])]
    return keep


def _descendants(root: int) -> set[int]:
    tree = _children()
    found, level = set(), [root]
    while level:
        found.update(level)
        level = [c for p in level for c in tree.get(p, []) if c not in found]
    return found


def worker_open_files(sandbox) -> int:
    """Open file descriptors of a local sandbox's pre-started workers and their processes."""
    total = 0
    for root in sandbox.worker_pids():
        for pid in _descendants(root) | {root}:
            try:
                total += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                pass
    return total


def sandbox_processes(sandbox=None) -> list[str]:
    """Host processes that belong to a sandbox run of THIS test process (bwrap or a program in
    /work): our descendants, or processes in the cgroup of one of `sandbox`'s containers.
    Other sandboxes on a shared machine (other developers' tests) are not ours."""
    found = []
    skip = pool_workers(sandbox) if sandbox is not None else set()
    ours = _descendants(os.getpid())
    containers = sandbox.containers() if hasattr(sandbox, "containers") else []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            cgroup = (entry / "cgroup").read_text() if containers else ""
        except OSError:
            continue
        if int(entry.name) not in ours and not any(c in cgroup for c in containers):
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


def fresh(backend: str):
    """A new sandbox of `backend` with short-run defaults; nothing has run in it yet."""
    if backend.startswith("local"):
        if shutil.which("bwrap") is None:
            pytest.skip("bubblewrap is not installed")
        mode = "per-run" if backend == "local-per-run" else "zygote"
        return get_sandbox("local", mode=mode, pool_size=1, memory_mb=256)
    docker_sandbox()  # skips where no daemon or image is available (unless CI requires Docker)
    return get_sandbox("docker", pool_size=1, memory_mb=256)


@pytest.fixture(params=BACKENDS)
def fresh_sandbox(request):
    """A FRESH sandbox per test, so that the test's first run is the sandbox's first run."""
    sandbox = fresh(request.param)
    yield sandbox
    sandbox.close()


# The adversarial tests run in a random order: a hostile program must not pass only because
# a harmless one happened to run before it.  The seed is printed; RLVR_ADVERSARIAL_SEED
# replays an order.
ADVERSARIAL_SEED = int(os.environ.get("RLVR_ADVERSARIAL_SEED") or random.randrange(2**32))


def pytest_collection_modifyitems(session, config, items):
    slots = [i for i, item in enumerate(items) if item.path.name == "test_adversarial.py"]
    shuffled = [items[i] for i in slots]
    random.Random(ADVERSARIAL_SEED).shuffle(shuffled)
    for slot, item in zip(slots, shuffled):
        items[slot] = item


def pytest_report_header(config):
    return f"adversarial order seed: {ADVERSARIAL_SEED} (RLVR_ADVERSARIAL_SEED replays it)"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if terminalreporter.stats.get("failed"):
        terminalreporter.write_line(
            f"adversarial order seed: {ADVERSARIAL_SEED}; rerun with RLVR_ADVERSARIAL_SEED={ADVERSARIAL_SEED}"
        )


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


def in_limited_cgroup(
    argv: list[str], pids_max: int, memory_mb: int, timeout: float
) -> subprocess.CompletedProcess:
    """Run argv inside a fresh cgroup with pids.max and a memory limit, as a CI runner or a
    pod limits rlvr: cgroup v1 (pids + memory hierarchies) or v2 (unified).  Skips where no
    cgroup can be created here (it needs root, as in CI)."""
    root = Path("/sys/fs/cgroup")
    name = f"rlvr-test-{os.getpid()}-{int(time.monotonic() * 1000)}"
    if (root / "pids").is_dir() and (root / "memory").is_dir():  # v1
        dirs = [root / "pids" / name, root / "memory" / name]
        limits = {
            dirs[0] / "pids.max": str(pids_max),
            dirs[1] / "memory.limit_in_bytes": str(memory_mb << 20),
        }
    elif (root / "cgroup.controllers").exists():  # v2
        dirs = [root / name]
        limits = {dirs[0] / "pids.max": str(pids_max), dirs[0] / "memory.max": str(memory_mb << 20)}
        try:
            (root / "cgroup.subtree_control").write_text("+pids +memory")
        except OSError:
            pass
    else:
        pytest.skip("no cgroup v1 pids/memory or v2 hierarchy here")
    try:
        for d in dirs:
            d.mkdir()
        for path, value in limits.items():
            path.write_text(value)
    except OSError as exc:
        for d in dirs:
            d.rmdir() if d.exists() else None
        pytest.skip(f"cannot create a limited cgroup here: {exc}")
    enter = "; ".join(f'echo $$ > "{d}/cgroup.procs"' for d in dirs)
    try:
        return subprocess.run(
            ["sh", "-c", f'{enter} && exec "$@"', "rlvr-cgroup", *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        for d in dirs:
            rmdir_when_empty(d, tries=100, pause_s=0.05)
