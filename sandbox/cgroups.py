"""Per-run cgroups (v1 here, v2 where mounted) for memory and process limits, when writable.

A cgroup is the only memory limit that neither breaks OpenBLAS (RLIMIT_AS does) nor
misses memory in child processes; the pids controller is the only process limit
that works for root, whose RLIMIT_NPROC is not enforced.
"""

from __future__ import annotations

import os
import signal
import time
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

    def set_memory(self, memory_mb: int) -> None:
        """Set the limit for the next run (written only when it changes) and remember the
        OOM counters, so that `oom_killed` reports this run only."""
        if memory_mb != getattr(self, "_limit_mb", None):
            try:
                (self.memory / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
                self._limit_mb = memory_mb
            except OSError:  # below current usage: keep the old limit
                pass
        self._before = self._counters()

    def _counters(self) -> tuple[int, int]:
        """(failcnt, oom_kill) read through descriptors kept open: two preads per run."""
        if not hasattr(self, "_fds"):
            self._fds = [
                os.open(self.memory / name, os.O_RDONLY) for name in ("memory.failcnt", "memory.oom_control")
            ]
        try:
            failcnt = int(os.pread(self._fds[0], 64, 0))
            control = os.pread(self._fds[1], 4096, 0).decode()
        except OSError:
            return 0, 0
        kills = next(
            (int(line.split()[1]) for line in control.splitlines() if line.startswith("oom_kill ")), 0
        )
        return failcnt, kills

    @property
    def procs_files(self) -> list[str]:
        return [str(self.memory / "cgroup.procs"), str(self.pids / "cgroup.procs")]

    def oom_killed(self) -> bool:
        """Whether the memory limit was hit since creation or the last `set_memory`."""
        failcnt, kills = self._counters()
        before = getattr(self, "_before", (0, 0))
        return failcnt > before[0] or kills > before[1]

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
        for fd in getattr(self, "_fds", []):
            os.close(fd)
        self._fds = []
        self.kill_all()
        for d in (self.memory, self.pids):
            rmdir_when_empty(d)


def rmdir_when_empty(path: Path, tries: int = 50, pause_s: float = 0.01) -> None:
    """Remove a cgroup directory, waiting for killed members to finish exiting (rmdir fails
    while any is left); gives up quietly after `tries`."""
    for _ in range(tries):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # members still exiting
            time.sleep(pause_s)
