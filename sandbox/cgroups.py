"""Per-run cgroups (v1 here, v2 where mounted) for memory and process limits, when writable.

A cgroup is the only memory limit that neither breaks OpenBLAS (RLIMIT_AS does) nor
misses memory in child processes; the pids controller is the only process limit
that works for root, whose RLIMIT_NPROC is not enforced.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _v1_dirs() -> dict[str, Path] | None:
    dirs = {c: ROOT / c / "rlvr" for c in ("memory", "pids")}
    try:
        for d in dirs.values():
            d.mkdir(exist_ok=True)
            if not os.access(d, os.W_OK):
                return None
    except OSError:
        return None
    return dirs


class RunCgroup:
    """A memory + pids cgroup for one run; `available()` says whether this host allows it."""

    _bases: dict[str, Path] | None = None
    _checked = False

    @classmethod
    def available(cls) -> bool:
        if not cls._checked:
            cls._bases = _v1_dirs() if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir() else None
            cls._checked = True
        return cls._bases is not None

    def __init__(self, memory_mb: int, max_pids: int) -> None:
        assert self._bases is not None, "call RunCgroup.available() first"
        name = uuid.uuid4().hex[:16]
        self.memory = self._bases["memory"] / name
        self.pids = self._bases["pids"] / name
        self.memory.mkdir()
        self.pids.mkdir()
        limit = str(memory_mb * 1024 * 1024)
        (self.memory / "memory.limit_in_bytes").write_text(limit)
        swap = self.memory / "memory.memsw.limit_in_bytes"
        if swap.exists():
            try:
                swap.write_text(limit)
            except OSError:
                pass
        (self.pids / "pids.max").write_text(str(max_pids))

    @property
    def procs_files(self) -> list[str]:
        return [str(self.memory / "cgroup.procs"), str(self.pids / "cgroup.procs")]

    def oom_killed(self) -> bool:
        try:
            if int((self.memory / "memory.failcnt").read_text()) > 0:
                return True
            control = (self.memory / "memory.oom_control").read_text()
        except OSError:
            return False
        return any(line.startswith("oom_kill ") and line.split()[1] != "0" for line in control.splitlines())

    def kill_all(self) -> None:
        for _ in range(20):
            try:
                pids = [int(p) for p in (self.pids / "cgroup.procs").read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self) -> None:
        self.kill_all()
        for d in (self.memory, self.pids):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # members still exiting
                    import time

                    time.sleep(0.01)
