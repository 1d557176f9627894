"""Local backend: each run in fresh Linux namespaces through bubblewrap.

Per run: own user (mapped to an unprivileged uid), PID, mount, network (loopback
only), IPC, UTS and cgroup namespaces; a root with only `/usr` (read-only) and a
private `/work` (a fresh directory under /dev/shm, removed afterwards); an
environment with PATH and HOME only, for the program and for bwrap itself, so
`/proc/1/environ` holds nothing of the host.  Limits: memory and process count
through a per-run cgroup where the host lets us create one (else RLIMIT_DATA,
which does not break OpenBLAS as RLIMIT_AS does), CPU time, file size and open
files through rlimits, output through a capped reader here in the parent.  When
the program's main process ends, the PID namespace ends with it, so forgotten
children and double-forked daemons die too; on timeout the parent kills the
whole tree.  The verdict is decided here, outside the sandbox.
"""

from __future__ import annotations

import json
import math
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, PrivateAttr

from rlvr.errors import ConfigError

from . import _zygote as zygote_io
from ._frames import ERROR, READY, RESULT, PipeTransport, ZygoteLink, build_request, decode_result
from ._tree import remove_tree
from .base import Sandbox, classify, classify_fields, compile_failure
from .cgroups import RunCgroup
from .health import mark_ended
from .languages import LANGUAGES
from .session import Session
from .types import ExecRequest, ExecResult

SANDBOX_UID = 1000
ZYGOTE_SOURCE = Path(__file__).with_name("_zygote.py")
_WRAPPER = r"""
for f in $RLVR_CGROUP_PROCS; do echo $$ > "$f" || exit 121; done
ulimit -t "$RLVR_CPU_S" -f "$RLVR_FSIZE_KB" -n "$RLVR_NOFILE" || exit 122
if [ -n "$RLVR_DATA_KB" ]; then ulimit -d "$RLVR_DATA_KB" || exit 122; fi
unset RLVR_CGROUP_PROCS RLVR_CPU_S RLVR_FSIZE_KB RLVR_NOFILE RLVR_DATA_KB
exec "$@"
"""


def _bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise ConfigError("sandbox", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    return path


class LocalSandbox(Sandbox):
    """Runs untrusted programs in bubblewrap namespaces on this machine."""

    name: ClassVar[str] = "local"

    max_output_bytes: int = Field(1 << 20, gt=0, description="Per stream; more is output_limit.")
    max_pids: int = Field(64, gt=0, description="Processes and threads at once (cgroup pids.max).")
    max_file_mb: int = Field(64, gt=0, description="Largest file the program may write.")
    max_open_files: int = Field(256, gt=0)
    workdir_parent: str = Field("/dev/shm", description="Where per-run work directories are made (RAM).")
    mode: Literal["zygote", "per-run"] = Field(
        "zygote",
        description="zygote: pre-started isolated workers fork each run into fresh namespaces (fast); "
        "per-run: a new bwrap for every run. Compiled languages always use per-run.",
    )
    pool_size: int = Field(
        default_factory=lambda: (os.cpu_count() or 1) + 1,
        ge=1,
        description="Zygote workers; one more than cores keeps the CPUs busy while runs wait on pipes.",
    )
    workdir_mb: int = Field(128, gt=0, description="Size of each run's private /work (zygote mode).")
    use_clone: bool = Field(
        True,
        description="Zygote: one raw clone() into new namespaces per run (x86_64); else fork + unshare + fork.",
    )

    _zygotes: queue.LifoQueue = PrivateAttr(default_factory=queue.LifoQueue)
    _zygote_count: int = PrivateAttr(0)
    _generation: int = PrivateAttr(0)  # zygotes of an older generation are replaced on release
    _zygote_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    # bwrap's --die-with-parent fires when the *thread* that started it ends: workers are
    # started from this one long-lived thread, not from short-lived run_many threads
    _spawner: ThreadPoolExecutor = PrivateAttr(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="rlvr-sandbox-spawner")
    )

    def _run_one(self, request: ExecRequest) -> ExecResult:
        code, language, stdin, files = request.code, request.language, request.stdin, request.files
        timeout_s, memory_mb = request.timeout_s, request.memory_mb
        spec = LANGUAGES[language]
        if (self.mode == "zygote" and spec.compile is None) or request.peer is not None:
            return self._run_in_zygote(request)  # pairs always run in a zygote
        workdir = Path(tempfile.mkdtemp(prefix="rlvr-", dir=self._workdir_parent()))
        try:
            _write_files(workdir, {spec.source: code.encode(), **(files or {})})
            os.chmod(workdir, 0o777)
            if spec.compile is not None:
                compiled = self._execute(
                    spec.compile, workdir, "", spec.compile_timeout_s, max(memory_mb, 1024)
                )
                if compiled.status != "ok":
                    return compile_failure(compiled)
            return self._execute(spec.run, workdir, stdin, timeout_s, memory_mb)
        finally:
            remove_tree(workdir)  # what the run left may be too deep for shutil.rmtree

    # ------------------------------------------------------------ zygote mode
    def _zygote_request(self, request: ExecRequest, session: bool = False) -> dict:
        return build_request(
            request,
            max_output=self.max_output_bytes,
            workdir_mb=self.workdir_mb,
            limits={
                "cpu_s": math.ceil(request.timeout_s) + 1,
                "fsize": self.max_file_mb << 20,
                "nofile": self.max_open_files,
                "data": 0 if RunCgroup.available() else request.memory_mb << 20,
            },
            session=session,
        )

    def _run_in_zygote(self, request: ExecRequest) -> ExecResult:
        zygote = self._acquire_zygote()
        healthy = False
        try:
            fields = zygote.request(self._zygote_request(request), request.memory_mb, request.timeout_s + 5.0)
            healthy = fields is not None and "error" not in fields and not fields["unclean"]
        finally:
            self._release_zygote(zygote, healthy)
        if fields is None or "error" in fields:
            detail = "zygote did not answer" if fields is None else fields["error"]
            return ExecResult(status="sandbox_error", stderr=detail)
        result = classify_fields(fields, self.max_output_bytes, fields.pop("oom", False))
        if fields["timed_out"] and fields["exit_code"] != 128 + 9:  # it ended before our SIGKILL
            mark_ended(result)
        return result

    def _open_session(self, request: ExecRequest) -> Session:
        """Sessions always use a zygote worker, whatever `mode` says."""
        zygote = self._acquire_zygote()
        try:
            if zygote.cgroup is not None:
                zygote.cgroup.set_memory(request.memory_mb)
            sent = zygote.link.request(self._zygote_request(request, session=True))
        except BaseException:
            self._release_zygote(zygote, False)
            raise
        if not sent:
            self._release_zygote(zygote, False)
            raise OSError("the sandbox worker is gone")

        def finish(fields: dict) -> ExecResult:
            oom = zygote.cgroup.oom_killed() if zygote.cgroup is not None else False
            return classify_fields(fields, self.max_output_bytes, oom)

        return Session(zygote.link, request.timeout_s, finish, lambda ok: self._release_zygote(zygote, ok))

    def _acquire_zygote(self) -> _Zygote:
        while True:  # a worker replaced while we wait frees a slot instead of coming back
            with self._zygote_lock:
                create = self._zygotes.empty() and self._zygote_count < self.pool_size
                if create:
                    self._zygote_count += 1
            if create:
                break
            try:
                return self._zygotes.get(timeout=0.1)
            except queue.Empty:
                continue
        try:
            zygote = self._spawner.submit(_Zygote, self).result()
            zygote.generation = self._generation
            return zygote
        except Exception:
            with self._zygote_lock:
                self._zygote_count -= 1
            raise

    def _release_zygote(self, zygote: _Zygote, healthy: bool) -> None:
        if healthy and zygote.generation == self._generation:
            self._zygotes.put(zygote)
            return
        zygote.close()
        with self._zygote_lock:
            self._zygote_count -= 1

    def _replace_workers(self) -> int:
        """Close the idle workers now and the busy ones when they come back; new ones start
        on demand."""
        with self._zygote_lock:
            self._generation += 1
            busy = self._zygote_count - self._zygotes.qsize()
        idle = 0
        while True:
            try:
                zygote = self._zygotes.get_nowait()
            except queue.Empty:
                break
            self._release_zygote(zygote, healthy=False)
            idle += 1
        return idle + busy

    def worker_pids(self) -> list[int]:
        """Host PIDs of the idle pool workers' outer bwrap processes (for monitoring)."""
        return [z.proc.pid for z in list(self._zygotes.queue)]

    def close(self) -> None:
        while not self._zygotes.empty():
            self._zygotes.get().close()
            with self._zygote_lock:
                self._zygote_count -= 1

    def _workdir_parent(self) -> str:
        return self.workdir_parent if os.access(self.workdir_parent, os.W_OK) else tempfile.gettempdir()

    def _execute(
        self, argv: tuple[str, ...], workdir: Path, stdin: str, timeout_s: float, memory_mb: int
    ) -> ExecResult:
        cgroup = RunCgroup(memory_mb, self.max_pids) if RunCgroup.available() else None
        status_r, status_w = os.pipe()
        env = self._wrapper_env(
            cgroup, str(math.ceil(timeout_s) + 1), "" if cgroup else str(memory_mb * 1024)
        )
        command = [
            "/usr/bin/bash",
            "-c",
            _WRAPPER,
            "rlvr-sandbox",
            *self._bwrap_args(workdir, status_w),
            *argv,
        ]
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                pass_fds=[status_w],
                start_new_session=True,
                cwd="/",
            )
        except OSError as exc:
            os.close(status_r)
            os.close(status_w)
            if cgroup:
                cgroup.remove()
            return ExecResult(status="sandbox_error", stderr=f"cannot start bwrap: {exc}")
        os.close(status_w)
        try:
            stdout, stderr, timed_out, overflow = _communicate(
                proc, stdin.encode(), timeout_s, self.max_output_bytes
            )
            duration = time.monotonic() - start
            if timed_out or overflow:
                _kill(proc, cgroup)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                _kill(proc, cgroup)
                proc.wait()
            with os.fdopen(status_r, "rb") as f:
                status_lines = f.read().decode(errors="replace")
            oom = cgroup.oom_killed() if cgroup else False
        finally:
            if cgroup:
                cgroup.remove()
        exit_code = _child_exit_code(status_lines)
        setup_error = None
        if exit_code is None:  # bwrap itself failed: the program never ran
            setup_error = stderr.decode(errors="replace").strip() or f"bwrap exited with {proc.returncode}"
        return classify(
            exit_code=exit_code,
            stdout=stdout,
            stderr=stderr,
            duration_s=duration,
            timed_out=timed_out,
            overflow=overflow,
            oom=oom,
            cap=self.max_output_bytes,
            setup_error=setup_error,
        )

    def _wrapper_env(self, cgroup: RunCgroup | None, cpu_s: str, data_kb: str) -> dict[str, str]:
        """The only environment bash and bwrap get (nothing of the host's): _WRAPPER's inputs."""
        return {
            "PATH": "/usr/bin:/bin",
            "RLVR_CGROUP_PROCS": " ".join(cgroup.procs_files) if cgroup else "",
            "RLVR_CPU_S": cpu_s,
            "RLVR_FSIZE_KB": str(self.max_file_mb * 1024),
            "RLVR_NOFILE": str(self.max_open_files),
            "RLVR_DATA_KB": data_kb,
        }

    def _bwrap_args(self, workdir: Path | None, status_fd: int | None) -> list[str]:
        work = ["--bind", str(workdir), "/work"] if workdir is not None else ["--dir", "/work"]
        status = ["--json-status-fd", str(status_fd)] if status_fd is not None else []
        zygote = [] if workdir is not None else ["--ro-bind", str(ZYGOTE_SOURCE), "/rlvr_zygote.py"]
        return [
            _bwrap(),
            "--unshare-user",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--ro-bind",
            "/usr",
            "/usr",
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--symlink",
            "usr/sbin",
            "/sbin",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",
            *work,
            *zygote,
            "--chdir",
            "/work",
            "--remount-ro",
            "/",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/bin:/bin",
            "--setenv",
            "HOME",
            "/work",
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--setenv",
            "PYTHONDONTWRITEBYTECODE",
            "1",
            *status,
            "--",
        ]


class _Zygote:
    """One pre-started worker: `python3 -I /rlvr_zygote.py` inside bwrap, in its own cgroup."""

    def __init__(self, sandbox: LocalSandbox) -> None:
        self.generation = 0
        self.cgroup = RunCgroup(sandbox.memory_mb, sandbox.max_pids + 4) if RunCgroup.available() else None
        # the worker itself runs without a CPU or data limit; each run sets its own
        env = sandbox._wrapper_env(self.cgroup, cpu_s="unlimited", data_kb="")
        argv = ["/usr/bin/python3", "-I", "/rlvr_zygote.py", *([] if sandbox.use_clone else ["--no-clone"])]
        command = ["/usr/bin/bash", "-c", _WRAPPER, "rlvr-sandbox", *sandbox._bwrap_args(None, None), *argv]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            cwd="/",
        )
        self.link = ZygoteLink(PipeTransport(self.proc.stdin.fileno(), self.proc.stdout.fileno()))
        ready = self.link.next_frame(time.monotonic() + 30)
        if ready is None or ready[0] != READY:
            self.close()
            raise ConfigError(
                "sandbox", "the local sandbox worker did not start (bubblewrap / user namespaces?)"
            )

    def request(self, message: dict, memory_mb: int, deadline_s: float) -> dict | None:
        """One run: its decoded result (with `oom`), {"error": ...}, or None (no answer)."""
        if self.cgroup is not None:
            self.cgroup.set_memory(memory_mb)
        if not self.link.request(message):
            return None
        frame = self.link.next_frame(time.monotonic() + deadline_s)
        if frame is None:
            return None
        kind, payload = frame
        if kind == ERROR:
            return {"error": payload.decode(errors="replace")}
        if kind != RESULT:
            return None
        fields = decode_result(payload)
        fields["oom"] = self.cgroup.oom_killed() if self.cgroup is not None else False
        return fields

    def close(self) -> None:
        self.link.gone = True
        _kill(self.proc, self.cgroup)
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.remove()


def _write_files(workdir: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = (workdir / name).resolve()
        if workdir.resolve() not in path.parents:
            raise ConfigError("files", f"{name!r} must be a relative path inside the work directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else str(data).encode())
        path.chmod(0o755 if name.endswith((".sh", ".py")) else 0o644)


def _communicate(
    proc: subprocess.Popen, stdin: bytes, timeout_s: float, cap: int
) -> tuple[bytes, bytes, bool, bool]:
    """Feed stdin, read both streams up to `cap` bytes each, stop at the deadline: the
    zygote's reader, on duplicates of the pipes (it closes what it is given)."""
    streams = (proc.stdin, proc.stdout, proc.stderr)
    fds = [os.dup(stream.fileno()) for stream in streams]
    for stream in streams:
        stream.close()
    return zygote_io.communicate(*fds, stdin, time.monotonic() + timeout_s, cap)


def _kill(proc: subprocess.Popen, cgroup: RunCgroup | None) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # bwrap; --die-with-parent takes the namespace down
    except (ProcessLookupError, PermissionError):
        pass
    if cgroup is not None:
        cgroup.kill_all()


def _child_exit_code(status_lines: str) -> int | None:
    """bwrap's --json-status-fd ends with {"exit-code": N} when the program ran."""
    for line in reversed(status_lines.strip().splitlines()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "exit-code" in record:
            return int(record["exit-code"])
    return None
