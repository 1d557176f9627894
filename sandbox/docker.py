"""Docker backend: a warm pool of locked-down containers, each running a zygote.

Each container: `network_mode="none"`, read-only root, tmpfs `/work` and `/tmp`,
all capabilities dropped but SETUID/SETGID (used once, by the zygote, to drop
to uid 65534), `no-new-privileges`, memory / pids / CPU limits, no host
environment, no log driver.  Its PID 1 is the zygote (`_zygote.py --plain`),
the same pre-started interpreter as the local backend's: it forks per run (no
interpreter start, no `docker exec`), enforces the time and output limits,
streams sessions, and after every run kills every other process of the sandbox
uid (from inside: this works whatever pid namespace rlvr runs in) and empties
the tmpfs, so runs cannot see each other.  The host talks to it over the
container's attach socket.

Containers never outlive their owner: they are created with `stdin_once`, so
when the owning process closes the attach socket or dies (even by SIGKILL) the
daemon closes the zygote's stdin, the zygote exits, and `auto_remove` deletes
the container.  They are also removed on `close()`, at exit, and by label when
found from an older process.

Compiled languages (C++) keep the exec path: compile and run as `docker exec`s
of a wrapper that cleans up with `kill -9 -1` (the zygote, PID 1, is immune).
A run cut short there is killed from the host through the container's cgroup,
or, where its processes cannot be seen from here (rlvr in another pid namespace
than the daemon, rootless Docker), by the wrapper's own `timeout -s KILL`
shortly after the limit, and the exec is waited for.  A container whose
cleanup fails is replaced.
"""

from __future__ import annotations

import atexit
import base64
import io
import os
import queue
import secrets
import selectors
import shutil
import socket
import struct
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, PrivateAttr

from rlvr.errors import ConfigError

from ._frames import (
    ERROR,
    READY,
    RESULT,
    DockerAttachTransport,
    SocketTransport,
    ZygoteLink,
    build_request,
    decode_result,
)
from .base import Sandbox, classify, classify_fields, compile_failure
from .health import mark_ended
from .languages import LANGUAGES
from .session import Session
from .types import ExecRequest, ExecResult

ZYGOTE_SOURCE = Path(__file__).with_name("_zygote.py")

LABEL = "rlvr.sandbox"
SELF_ENDING = "rlvr.sandbox.self-ending"  # containers that exit when their owner's socket closes
USER = "65534:65534"
# Kill every process of the sandbox user but PID 1 and this shell (the zygote's forker runs as
# root and is neither killed nor waited for), and wait (builtins only:
# a fork can fail while the pids limit is full) until none is left but zombies that PID 1
# does not reap (their parent is outside: another exec), so that the next run does not race
# dying processes for the pids limit.  `$busy` is left set when some survived.
_CLEANUP = (
    "alive() { for p in /proc/[0-9]*; do p=${p#/proc/}; [ $p = 1 ] || [ $p = $$ ] || ! [ -O /proc/$p ] || "
    "{ read -r st 2>/dev/null < /proc/$p/stat || continue; set -- ${st##*) }; "
    '[ "$1" = Z ] && [ "$2" != 1 ] || return 0; }; done; return 1; }; '
    "kill -9 -1 2>/dev/null; i=0; while alive && [ $i -lt 500 ]; do kill -9 -1 2>/dev/null; i=$((i+1)); done; "
    "busy=; if alive; then busy=1; fi; find /work /tmp /dev/shm /dev/mqueue -mindepth 1 -delete 2>/dev/null"
)
_CLEANUP_CHECKED = _CLEANUP + '; [ -z "$busy" ]'  # fails when a process survived
_GRACE_S = 0.2  # the wrapper kills the program itself this long after the limit


def _wrapper(clean_before: bool, clean_after: bool) -> str:
    """One exec per step: clear what a previous run may have left, unpack the files, run the
    program on the exec's stdin, then kill every other process of the sandbox user (PID 1 is
    immune) so that no daemon outlives the run or holds its output open, and clear again."""
    return "\n".join(
        [
            _CLEANUP if clean_before else "",
            "cd /work || exit 125",
            'if [ -n "$RLVR_FILES" ]; then printf %s "$RLVR_FILES" | base64 -d | tar -x -C /work || exit 124; fi',
            'limit="$RLVR_LIMIT_S"',
            "unset RLVR_FILES RLVR_LIMIT_S",
            'timeout -s KILL "$limit" "$@"',
            "code=$?",
            _CLEANUP if clean_after else "",
            "exit $code",
        ]
    )


_MAX_ENV_FILES = 96 * 1024  # larger file sets go through a tar exec (one argument may hold 128 KiB)
_START_TIMEOUT_S = 30.0


@dataclass(eq=False)
class _Warm:
    """One warm container and the framed link to its zygote."""

    container: Any
    link: ZygoteLink
    memory_mb: int

    @property
    def id(self) -> str:
        return self.container.id


class DockerSandbox(Sandbox):
    """Runs untrusted programs in warm Docker containers (`docker` SDK, real daemon)."""

    name: ClassVar[str] = "docker"

    image: str = Field(
        "rlvr/sandbox:bookworm", description="Build it with scripts/docker_image.sh, or use your own."
    )
    pool_size: int = Field(
        default_factory=lambda: (os.cpu_count() or 1) + 1,
        ge=1,
        description="Warm containers; one more than cores: a run (or a session pair) then starts in "
        "a container that has finished cleaning up after the last one, not one still cleaning.",
    )
    cpus: float = Field(1.0, gt=0, description="CPU quota per container.")
    max_pids: int = Field(64, gt=0)
    max_output_bytes: int = Field(1 << 20, gt=0)
    workdir_mb: int = Field(64, gt=0, description="Size of the /work tmpfs.")
    prestart: bool = Field(True, description="Start pool_size containers (default memory) at creation.")
    channel: Literal["socket", "attach"] = Field(
        "socket",
        description="How the host talks to each container's zygote: a unix socket bind-mounted into "
        "the container (direct; the daemon must run on this machine), or the attach stream "
        "(through the daemon; works with a remote DOCKER_HOST).",
    )

    _client: Any = PrivateAttr(None)
    _pools: dict[int, queue.Queue] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _all: list[_Warm] = PrivateAttr(default_factory=list)
    _zygote: str = PrivateAttr("")
    _unclean: set[str] = PrivateAttr(default_factory=set)  # ids of containers to replace

    def model_post_init(self, __context: Any) -> None:
        try:
            import docker
        except ImportError:
            raise ConfigError(
                "sandbox", "the docker backend needs the `docker` package: pip install rlvr[docker]"
            ) from None
        try:
            self._client = docker.from_env()
            self._client.ping()
        except Exception as exc:
            raise ConfigError("sandbox", f"no Docker daemon answers: {exc}") from None
        try:
            self._client.images.get(self.image)
        except Exception:
            raise ConfigError(
                "image", f"{self.image!r} not found; build it with scripts/docker_image.sh"
            ) from None
        self._zygote = ZYGOTE_SOURCE.read_text()
        try:  # containers of rlvr processes that crashed earlier
            self.remove_leftovers()
        except Exception:
            pass
        atexit.register(self.close)
        if self.prestart:  # a warm pool is warm before the first run, not during it
            warm = [self._container(self.memory_mb) for _ in range(self.pool_size)]
            for w in warm:
                self._release(w, healthy=True)

    # ------------------------------------------------------------------ pool
    def _container(self, memory_mb: int) -> _Warm:
        """A warm container of this memory limit: an idle one, a new one while fewer than
        `pool_size` exist, else the next one released.  A caller that holds several at once
        (the code verifier's two sessions) and finds none within 2 s gets an extra one,
        removed when released."""
        with self._lock:
            pool = self._pools.setdefault(memory_mb, queue.Queue())
            create = pool.empty() and sum(1 for w in self._all if w.memory_mb == memory_mb) < self.pool_size
        if not create:
            try:
                return pool.get(timeout=2.0)
            except queue.Empty:
                pass
        warm = self._start(memory_mb)
        with self._lock:
            self._all.append(warm)
        return warm

    def _start(self, memory_mb: int) -> _Warm:
        from docker.types import LogConfig

        api = self._client.api
        host_config = api.create_host_config(
            auto_remove=True,
            init=False,
            network_mode="none",
            read_only=True,
            tmpfs={"/work": f"size={self.workdir_mb}m,mode=1777,exec", "/tmp": "size=64m,mode=1777"},
            mem_limit=f"{memory_mb}m",
            memswap_limit=f"{memory_mb}m",
            pids_limit=self.max_pids,
            nano_cpus=int(self.cpus * 1e9),
            cap_drop=["ALL"],
            cap_add=["SETUID", "SETGID"],
            security_opt=["no-new-privileges"],
            log_config=LogConfig(type=LogConfig.types.NONE),
        )
        listener, socket_dir = self._listen() if self.channel == "socket" else (None, "")
        if socket_dir:
            host_config["Binds"] = [f"{socket_dir}:/rlvr:ro"]
        command = ["python3", "-I", "-S", "-c", self._zygote, "--plain"]
        if listener is not None:
            command += ["--socket", "/rlvr/" + os.path.basename(listener.getsockname())]
        created = api.create_container(
            self.image,
            command,
            stdin_open=True,
            detach=False,  # with stdin_open: StdinOnce, so the owner's attach socket closing
            tty=False,  # (exit, crash, SIGKILL) closes the zygote's stdin, and it exits
            user="0:0",  # the zygote drops to USER itself, before serving anything
            environment={},
            labels={LABEL: _owner(), SELF_ENDING: "1"},
            hostname="sandbox",
            host_config=host_config,
        )
        container = self._client.containers.prepare_model({"Id": created["Id"]})
        try:
            if listener is not None:
                container.start()
                link = ZygoteLink(SocketTransport(_accept_once(listener, socket_dir)))
            else:
                sock = api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stream": 1})
                link = ZygoteLink(DockerAttachTransport(getattr(sock, "_sock", sock)))
                container.start()
            ready = link.next_frame(time.monotonic() + _START_TIMEOUT_S)
            if ready is None or ready[0] != READY:
                raise ConfigError("sandbox", f"the zygote in {self.image!r} did not start")
            container.reload()  # attrs["State"]["Pid"]: the init, which cleanup must spare
        except BaseException:
            _remove(container)
            raise
        finally:
            if listener is not None:
                listener.close()
                shutil.rmtree(socket_dir, ignore_errors=True)
        return _Warm(container, link, memory_mb)

    @staticmethod
    def _listen() -> tuple[socket.socket, str]:
        """A one-connection unix socket under an unguessable name, in a directory that is
        bind-mounted into the new container only (0711: not listable)."""
        socket_dir = tempfile.mkdtemp(prefix="rlvr-zygote-")
        os.chmod(socket_dir, 0o711)
        path = os.path.join(socket_dir, secrets.token_hex(16))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o777)  # the zygote connects as the sandbox uid
        listener.listen(1)
        return listener, socket_dir

    def _release(self, warm: _Warm, healthy: bool) -> None:
        with self._lock:
            if warm.id in self._unclean:  # marked for replacement (health signal, failed cleanup)
                self._unclean.discard(warm.id)
                healthy = False
            extra = sum(1 for w in self._all if w.memory_mb == warm.memory_mb) > self.pool_size
            if healthy and not extra and not warm.link.gone:
                self._pools.setdefault(warm.memory_mb, queue.Queue()).put(warm)
                return
            self._all = [w for w in self._all if w is not warm]
        warm.link.close()
        _remove(warm.container)

    def containers(self) -> list[str]:
        """Ids of this sandbox's containers (for monitoring and tests)."""
        with self._lock:
            return [w.id for w in self._all]

    def close(self) -> None:
        with self._lock:
            warm, self._all = self._all, []
            self._pools.clear()
        for w in warm:
            w.link.close()
            _remove(w.container)

    @classmethod
    def remove_leftovers(cls) -> int:
        """Remove containers of rlvr processes that no longer exist (after a crash).

        Labels say `<pid>@<pid namespace>`: only containers of dead processes of this pid
        namespace are removed.  A running container with a zygote ends by itself when its
        owner goes, so it is left alone in any case."""
        import docker

        client = docker.from_env()
        removed = 0
        for c in client.containers.list(all=True, filters={"label": LABEL}):
            if c.labels.get(SELF_ENDING) and c.status == "running":
                continue
            pid, _, namespace = c.labels.get(LABEL, "").partition("@")
            if not pid.isdigit() or namespace != _pid_namespace() or _alive(int(pid)):
                continue  # alive, or of another pid namespace, where this PID names another process
            _remove(c)
            removed += 1
        return removed

    # ------------------------------------------------------------------- run
    def _zygote_request(self, request: ExecRequest, session: bool = False) -> dict:
        """The container's limits are its own (cgroup memory, pids): no rlimits per run."""
        return build_request(
            request, max_output=self.max_output_bytes, workdir_mb=self.workdir_mb, limits={}, session=session
        )

    def _run_one(self, request: ExecRequest) -> ExecResult:
        if LANGUAGES[request.language].compile is not None:
            return self._run_compiled(request)
        warm = self._container(request.memory_mb)
        healthy = False
        try:
            oom_before = _oom_kills(warm.id)
            if not warm.link.request(self._zygote_request(request)):
                return ExecResult(status="sandbox_error", stderr="the sandbox container is gone")
            frame = warm.link.next_frame(time.monotonic() + request.timeout_s + 5.0)
            if frame is None or frame[0] not in (RESULT, ERROR):
                return ExecResult(status="sandbox_error", stderr="the sandbox container did not answer")
            if frame[0] == ERROR:
                return ExecResult(status="sandbox_error", stderr=frame[1].decode(errors="replace"))
            fields = decode_result(frame[1])
            healthy = not fields["unclean"]
            result = classify_fields(fields, self.max_output_bytes, _oom_kills(warm.id) > oom_before)
            if fields["timed_out"] and fields["exit_code"] != 128 + 9:  # it ended before the kill
                mark_ended(result)
            return result
        except Exception as exc:  # the daemon went away, the container died
            return ExecResult(status="sandbox_error", stderr=f"{type(exc).__name__}: {exc}")
        finally:
            self._release(warm, healthy)

    def _open_session(self, request: ExecRequest) -> Session:
        warm = self._container(request.memory_mb)
        try:
            oom_before = _oom_kills(warm.id)
            sent = warm.link.request(self._zygote_request(request, session=True))
        except BaseException:
            self._release(warm, False)
            raise
        if not sent:
            self._release(warm, False)
            raise OSError("the sandbox container is gone")

        def finish(fields: dict) -> ExecResult:
            return classify_fields(fields, self.max_output_bytes, _oom_kills(warm.id) > oom_before)

        return Session(warm.link, request.timeout_s, finish, lambda ok: self._release(warm, ok))

    def _run_compiled(self, request: ExecRequest) -> ExecResult:
        """C++: compile and run as execs of the shell wrapper (the zygote stays idle)."""
        code, language, stdin, files = request.code, request.language, request.stdin, request.files
        timeout_s, memory_mb = request.timeout_s, request.memory_mb
        spec = LANGUAGES[language]
        warm = self._container(memory_mb)
        container = warm.container
        healthy, needs_cleanup = True, True
        try:
            archive = base64.b64encode(_tar({spec.source: code.encode(), **(files or {})})).decode()
            env_files = archive if len(archive) <= _MAX_ENV_FILES else ""
            if not env_files:
                unpacked = self._exec(
                    container,
                    ["sh", "-c", _CLEANUP + "; base64 -d | tar -x -C /work"],
                    archive.encode(),
                    30.0,
                )
                if unpacked.status != "ok":
                    return unpacked.model_copy(update={"status": "sandbox_error"})
            if spec.compile is not None:
                step = _wrapper(clean_before=bool(env_files), clean_after=False)  # keep the binary
                compiled = self._exec(
                    container,
                    ["sh", "-c", step, "run", *spec.compile],
                    b"",
                    spec.compile_timeout_s,
                    env_files,
                )
                if compiled.status != "ok":
                    return compile_failure(compiled)
                env_files = ""
            step = _wrapper(clean_before=bool(env_files), clean_after=True)
            result = self._exec(
                container, ["sh", "-c", step, "run", *spec.run], stdin.encode(), timeout_s, env_files
            )
            # the wrapper cleaned up itself unless it was killed (by the program or the OOM
            # killer); a run cut short was stopped in _exec
            needs_cleanup = result.status == "sandbox_error" or result.exit_code == 137
            return result
        except Exception as exc:  # the daemon went away, the container died
            healthy = False
            return ExecResult(status="sandbox_error", stderr=f"{type(exc).__name__}: {exc}")
        finally:
            if healthy and needs_cleanup and not _kill_all_but_init(container):
                try:  # its processes cannot be seen from here: clean from inside
                    healthy = self._exec(container, ["sh", "-c", _CLEANUP_CHECKED], b"", 10.0).status == "ok"
                except Exception:
                    healthy = False
            self._release(warm, healthy)

    def _exec(
        self, container, argv: list[str], stdin: bytes, timeout_s: float, files_b64: str = ""
    ) -> ExecResult:
        api = self._client.api
        oom_before = _oom_kills(container.id)
        env = {"RLVR_LIMIT_S": f"{timeout_s + _GRACE_S:.3f}"}
        if files_b64:
            env["RLVR_FILES"] = files_b64
        exec_id = api.exec_create(
            container.id,
            argv,
            stdin=True,
            stdout=True,
            stderr=True,
            user=USER,
            workdir="/work",
            environment=env,
        )["Id"]
        start = time.monotonic()
        sock = api.exec_start(exec_id, socket=True)
        raw: socket.socket = sock._sock
        stdout, stderr, timed_out, overflow = _communicate(raw, stdin, timeout_s, self.max_output_bytes)
        duration = time.monotonic() - start
        ended = timed_out and _nothing_running(container)  # the verdict was lost on the way
        if timed_out or overflow:
            if _kill_all_but_init(container):
                _drain(raw, 2.0)
            elif not _drain(raw, start + timeout_s + _GRACE_S + 5.0 - time.monotonic()):
                # the wrapper's own kill did not end it either
                self._unclean.add(container.id)
        sock.close()
        # after a timeout or overflow the status is decided: do not wait on a busy daemon
        exit_code = None if timed_out or overflow else _wait_exit(api, exec_id)
        result = classify(
            exit_code=exit_code,
            stdout=stdout,
            stderr=stderr,
            duration_s=duration,
            timed_out=timed_out,
            overflow=overflow,
            oom=_oom_kills(container.id) > oom_before,
            cap=self.max_output_bytes,
        )
        return mark_ended(result) if ended else result

    def _replace_workers(self) -> int:
        """Remove the idle containers now and the busy ones when they come back; new ones
        start on demand."""
        with self._lock:
            idle = []
            for pool in self._pools.values():
                while not pool.empty():
                    idle.append(pool.get_nowait())
            idle_ids = {w.id for w in idle}
            busy = {w.id for w in self._all if w.id not in idle_ids}
            self._unclean.update(busy)
            self._all = [w for w in self._all if w.id not in idle_ids]
        for warm in idle:
            warm.link.close()
            _remove(warm.container)
        return len(busy) + len(idle)


def _accept_once(listener: socket.socket, socket_dir: str) -> socket.socket:
    """The zygote's connection; then the socket file goes, so nothing else can connect."""
    listener.settimeout(_START_TIMEOUT_S)
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        raise ConfigError(
            "sandbox",
            "the zygote did not connect (is the Docker daemon on this machine? else use channel='attach')",
        ) from None
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    return conn


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            if name.startswith("/") or ".." in name.split("/"):
                raise ConfigError("files", f"{name!r} must be a relative path inside the work directory")
            data = data if isinstance(data, bytes) else str(data).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _communicate(
    raw: socket.socket, stdin: bytes, timeout_s: float, cap: int
) -> tuple[bytes, bytes, bool, bool]:
    """Docker's multiplexed stream: 8-byte headers (stream, size) then the payload."""
    deadline = time.monotonic() + timeout_s
    raw.setblocking(False)
    sel = selectors.DefaultSelector()
    pending = memoryview(stdin)
    sel.register(raw, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0))
    if not pending:
        raw.shutdown(socket.SHUT_WR)
    data = bytearray()
    out, err = bytearray(), bytearray()
    timed_out = overflow = False
    eof = False
    while not eof:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for _, events in sel.select(timeout=remaining):
            if events & selectors.EVENT_WRITE and pending:
                try:
                    sent = raw.send(pending[:65536])
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    sent = len(pending)
                pending = pending[sent:]
                if not pending:
                    sel.modify(raw, selectors.EVENT_READ)
                    raw.shutdown(socket.SHUT_WR)
            if events & selectors.EVENT_READ:
                try:
                    chunk = raw.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                if not chunk:
                    eof = True
                    break
                data += chunk
                while len(data) >= 8:
                    stream, size = data[0], struct.unpack(">I", data[4:8])[0]
                    if len(data) < 8 + size:
                        break
                    (out if stream == 1 else err).extend(data[8 : 8 + size])
                    del data[: 8 + size]
                if len(out) > cap or len(err) > cap:
                    overflow = True
        if overflow:
            break
    sel.close()
    return bytes(out), bytes(err), timed_out, overflow


def _drain(raw: socket.socket, wait_s: float) -> bool:
    """Read a stopped exec's stream to its end; False when it did not end in time.  Closed
    early, the rest of its output stays in containerd's pipes, and containerd then reports
    the exit of the container's *next* exec seconds late: that run would look like a timeout
    although it finished (issue 14)."""
    deadline = time.monotonic() + wait_s
    with selectors.DefaultSelector() as sel:
        sel.register(raw, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not sel.select(remaining):
                continue
            try:
                if not raw.recv(1 << 20):
                    return True
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return True
    return False


def _nothing_running(container, wait_s: float = 0.1) -> bool:
    """Whether no process but the container's init and its forker is left (pids.current, a
    count that reads the same from any pid namespace), within a moment for the last one to
    be reaped."""
    path = _cgroup_procs(container.id)
    current = os.path.join(os.path.dirname(path), "pids.current") if path else ""
    end = time.monotonic() + wait_s
    while True:
        try:
            if int(open(current).read()) <= 2:  # the zygote and its forker
                return True
        except (OSError, ValueError):
            return False
        if time.monotonic() > end:
            return False
        time.sleep(0.01)


def _cgroup_procs(container_id: str) -> str | None:
    for path in (
        f"/sys/fs/cgroup/pids/docker/{container_id}/cgroup.procs",
        f"/sys/fs/cgroup/pids/system.slice/docker-{container_id}.scope/cgroup.procs",
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cgroup.procs",
        f"/sys/fs/cgroup/docker/{container_id}/cgroup.procs",
    ):
        if os.access(path, os.R_OK):
            return path
    return None


def _kill_all_but_init(container) -> bool:
    """SIGKILL every process of the container except its init and the zygote's forker (the
    processes that run as the container's root: every run and exec is unprivileged), from
    the host, at once.
    The container's freezer cgroup (where present) is frozen first, so that a fork bomb
    cannot fork between reading the process list and the kills.  True only once the others
    are gone.  False when they cannot be seen from here: the cgroup is unreadable (rootless
    Docker), or this process runs in another pid namespace than the daemon (a container, a
    pod, `unshare --pid`), where cgroup.procs lists none of them (issue 14)."""
    path = _cgroup_procs(container.id)
    if path is None:
        return False
    init_pid = container.attrs.get("State", {}).get("Pid") or 0
    try:
        if init_pid not in {int(p) for p in open(path).read().split()}:
            return False  # its init is always there: these numbers are not ours
    except OSError:
        return False
    root_uid = _host_root_uid(init_pid)
    freezer = f"/sys/fs/cgroup/freezer/docker/{container.id}/freezer.state"
    frozen = _write(freezer, "FROZEN")
    try:
        for _ in range(50):
            try:
                pids = [
                    pid
                    for pid in map(int, open(path).read().split())
                    if pid != init_pid and _uid(pid) != root_uid
                ]
            except OSError:
                return False
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except (ProcessLookupError, PermissionError):
                    pass
            if frozen:
                _write(freezer, "THAWED")  # killed processes die once thawed
                frozen = _write(freezer, "FROZEN")
            time.sleep(0.002)
        return False
    finally:
        if frozen:
            _write(freezer, "THAWED")


def _host_root_uid(init_pid: int) -> int:
    """The host uid of the container's root (0 unless the daemon remaps user namespaces)."""
    try:
        with open(f"/proc/{init_pid}/uid_map") as f:
            for line in f:
                inside, outside, _count = (int(x) for x in line.split())
                if inside == 0:
                    return outside
    except (OSError, ValueError):
        pass
    return 0


def _uid(pid: int) -> int | None:
    """The real uid of a host process, as the host sees it (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _write(path: str, value: str) -> bool:
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError:
        return False


def _wait_exit(api, exec_id: str, wait_s: float = 2.0) -> int | None:
    end = time.monotonic() + wait_s
    while True:
        info = api.exec_inspect(exec_id)
        if not info.get("Running"):
            return info.get("ExitCode")
        if time.monotonic() > end:
            return None
        time.sleep(0.01)


def _oom_kills(container_id: str) -> int:
    """The container cgroup's OOM-kill counter (cgroup v1 or v2), 0 when unreadable."""
    for path in (
        f"/sys/fs/cgroup/memory/docker/{container_id}/memory.oom_control",
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/memory.events",
    ):
        try:
            for line in open(path):
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        except OSError:
            continue
    return 0


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")  # e.g. pid:[4026531836]
    except OSError:
        return ""


def _owner() -> str:
    """The label value: this process's PID and its pid namespace, so that a process in another
    namespace (a container, a pod, `unshare --pid`) never takes its owner for dead (issue 14)."""
    return f"{os.getpid()}@{_pid_namespace()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(container) -> None:
    try:
        container.remove(force=True)
    except Exception:
        pass
