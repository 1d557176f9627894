import os
import shutil
from pathlib import Path

import pytest

from rlvr.sandbox import get_sandbox


def sandbox_processes() -> list[str]:
    """Host processes that belong to a sandbox run (bwrap or a program in /work)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if "rlvr-sandbox" in cmdline or "bwrap" in cmdline or "/rlvr-" in cwd or cwd == "/work":
            found.append(f"{entry.name}: {cmdline[:80]} (cwd {cwd})")
    return found


BACKENDS = ["local", "docker"]
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
    if request.param == "local":
        if shutil.which("bwrap") is None:
            pytest.skip("bubblewrap is not installed")
        return get_sandbox("local")
    return docker_sandbox()


def pytest_sessionfinish(session, exitstatus):
    if _docker_sandbox is not None:
        _docker_sandbox.close()
