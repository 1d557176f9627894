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
        if "rlvr-sandbox" in cmdline or "bwrap" in cmdline or "/rlvr-" in cwd:
            found.append(f"{entry.name}: {cmdline[:80]} (cwd {cwd})")
    return found


BACKENDS = ["local"]


@pytest.fixture(params=BACKENDS)
def sandbox(request):
    if request.param == "local" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    return get_sandbox(request.param)
