"""The pre-isolated worker of the local backend.  Runs INSIDE a bubblewrap sandbox.

It is started once per worker, imports what it needs, then serves requests read
from stdin (a 4-byte length and a JSON object) and answers on stdout.  Each run:

  fork -> unshare(user, pid, mount, ipc) -> fork again: the program is PID 1 of a
  fresh PID namespace (its children and daemons die with it) with a private tmpfs
  on /work, rlimits, and the files of the request; Python code runs in the forked
  interpreter itself, with no interpreter start-up.

The zygote itself is made non-dumpable, so a run (in a child user namespace)
cannot ptrace it or read its memory; it cannot signal it either (parent PID
namespace).  Time and output limits are enforced here, outside the run; the
parent outside the sandbox enforces a deadline on the zygote itself.
Only the standard library is used: this file is executed by /usr/bin/python3.
"""

import atexit
import base64
import builtins
import ctypes
import io
import json
import os
import resource
import selectors
import signal
import struct
import sys
import time
import traceback

# No `import threading` here: it installs at-fork handlers that double the cost of every
# fork (measured 0.43 -> 0.89 ms); programs that use threads import it themselves.

libc = ctypes.CDLL(None, use_errno=True)
_raw = ctypes.PyDLL(None, use_errno=True)  # keeps the GIL held across the call
SYS_CLONE = 56  # x86_64; other architectures fall back to fork + unshare
CLONE_SUPPORTED = os.uname().machine == "x86_64" and "--no-clone" not in sys.argv
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x20000000, 0x08000000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 2, 4, 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
RUN_UID = os.getuid()
RUN_GID = os.getgid()


def read_message(stream):
    header = stream.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack(">I", header)
    return json.loads(stream.read(size))


def write_message(stream, obj):
    data = json.dumps(obj).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _check(ret, what):
    if ret != 0:
        raise OSError(ctypes.get_errno(), what)


def enter_namespaces():
    """In the first child: a new user, PID, mount and IPC namespace for this run only."""
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{RUN_UID} {RUN_UID} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{RUN_GID} {RUN_GID} 1")


def prepare_run(request):
    """In the program's process (PID 1 of its namespace): private /work, files, limits."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
    size = f"size={request['workdir_mb']}m,mode=0755".encode()
    _check(libc.mount(b"tmpfs", b"/work", b"tmpfs", MS_NOSUID | MS_NODEV, size), "mount /work")
    _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64m"), "mount /tmp")
    if os.path.isdir("/dev/shm"):  # shared by all runs of this worker otherwise
        _check(
            libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64m"), "mount /dev/shm"
        )
    for name, data in request["files"].items():
        path = os.path.join("/work", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        os.chmod(path, 0o755)
    os.chdir("/work")
    limits = request["limits"]
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize"], limits["fsize"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["nofile"], limits["nofile"]))
    if limits.get("data"):
        resource.setrlimit(resource.RLIMIT_DATA, (limits["data"], limits["data"]))
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": "/work", "LANG": "C.UTF-8"})


def run_python_inline(source_name):
    """Run /work/<source_name> as __main__ in this (forked) interpreter, like `python3 -I`."""
    sys.argv = [source_name]
    sys.path[0:0] = ["/work"]
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="surrogateescape")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="surrogateescape"
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    code = 0
    try:
        with open(source_name, "rb") as f:
            program = compile(f.read(), source_name, "exec")
        namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": "/work/" + source_name}
        exec(program, namespace)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code & 0xFF
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException as exc:  # print it as python3 would, without this harness's frame
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        code = 1
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code)


def run_program(request, stdin_r, stdout_w, stderr_w):
    """Body of the program's process; never returns."""
    try:
        prepare_run(request)
        os.dup2(stdin_r, 0)
        os.dup2(stdout_w, 1)
        os.dup2(stderr_w, 2)
        os.closerange(3, 4096)
        argv = request["argv"]
        if argv == ["<python-inline>"]:
            run_python_inline(request["source"])
        os.execv(argv[0], argv)
    except BaseException as exc:
        try:
            os.write(2, f"sandbox: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(127)


def fork_into_namespaces(request, stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w):
    """Fallback where raw clone is not available: fork, unshare, fork again (a holder
    process waits for the program and passes its status on)."""
    child = os.fork()
    if child == 0:  # namespace holder: waits for the program and passes its status on
        try:
            os.close(stdin_w)
            os.close(stdout_r)
            os.close(stderr_r)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            enter_namespaces()
            program = os.fork()
            if program == 0:
                run_program(request, stdin_r, stdout_w, stderr_w)
            for fd in (stdin_r, stdout_w, stderr_w):
                os.close(fd)
            _, status = os.waitpid(program, 0)
            os._exit(
                os.waitstatus_to_exitcode(status) % 256 if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            )
        except BaseException as exc:
            os.write(stderr_w, f"sandbox: {type(exc).__name__}: {exc}\n".encode())
            os._exit(126)
    return child


def clone_into_namespaces():
    """fork() with new user, PID, mount and IPC namespaces in one step: the child is PID 1
    of its namespace, with no holder process.  CPython's own before/after-fork hooks run
    around the raw syscall, as os.fork() runs them."""
    ctypes.pythonapi.PyOS_BeforeFork()
    flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | signal.SIGCHLD
    pid = _raw.syscall(SYS_CLONE, ctypes.c_ulong(flags), None, None, None, None)
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
    else:
        ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone")
    return pid


def write_id_maps():
    """In a new user namespace: map our own uid and gid (allowed without privilege)."""
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{RUN_UID} {RUN_UID} 1"),
        ("gid_map", f"{RUN_GID} {RUN_GID} 1"),
    ):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def serve_one(request):
    """Run one program; return its result (decided here, outside the program)."""
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    start = time.monotonic()
    child = clone_into_namespaces() if CLONE_SUPPORTED else -1
    if child == 0:  # PID 1 of the run's own namespaces
        os.close(stdin_w)
        os.close(stdout_r)
        os.close(stderr_r)
        try:
            write_id_maps()
        except BaseException as exc:
            os.write(stderr_w, f"sandbox: {type(exc).__name__}: {exc}\n".encode())
            os._exit(126)
        run_program(request, stdin_r, stdout_w, stderr_w)
    if child < 0:
        child = fork_into_namespaces(request, stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w)
    for fd in (stdin_r, stdout_w, stderr_w):
        os.close(fd)
    out, err, timed_out, overflow = communicate(
        stdin_w,
        stdout_r,
        stderr_r,
        base64.b64decode(request["stdin"]),
        start + request["timeout_s"],
        request["max_output"],
    )
    if timed_out or overflow:
        os.kill(child, signal.SIGKILL)  # the program dies with it (PDEATHSIG), and its PID namespace
    _, status = os.waitpid(child, 0)
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    return {
        "exit_code": exit_code,
        "stdout": base64.b64encode(out).decode(),
        "stderr": base64.b64encode(err).decode(),
        "timed_out": timed_out,
        "overflow": overflow,
        "duration_s": time.monotonic() - start,
        "setup_failed": exit_code in (126, 127) and err.startswith(b"sandbox: "),
    }


def communicate(stdin_w, stdout_r, stderr_r, data, deadline, cap):
    sel = selectors.DefaultSelector()
    buffers = {stdout_r: bytearray(), stderr_r: bytearray()}
    for fd in buffers:
        sel.register(fd, selectors.EVENT_READ)
    pending = memoryview(data)
    if pending:
        os.set_blocking(stdin_w, False)
        sel.register(stdin_w, selectors.EVENT_WRITE)
    else:
        os.close(stdin_w)
    timed_out = overflow = False
    open_streams = 2
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in sel.select(remaining):
            fd = key.fd
            if fd == stdin_w:
                try:
                    n = os.write(fd, pending[:65536])
                except BlockingIOError:
                    continue
                except OSError:
                    n = len(pending)
                pending = pending[n:]
                if not pending:
                    sel.unregister(fd)
                    os.close(fd)
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                sel.unregister(fd)
                open_streams -= 1
                continue
            buffers[fd] += chunk
            if len(buffers[fd]) > cap:
                overflow = True
        if overflow:
            break
    for key in list(sel.get_map().values()):
        sel.unregister(key.fd)
        os.close(key.fd)
    sel.close()
    for fd in (stdout_r, stderr_r):
        try:
            os.close(fd)
        except OSError:
            pass
    return bytes(buffers[stdout_r][: cap + 1]), bytes(buffers[stderr_r][: cap + 1]), timed_out, overflow


def main():
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    write_message(out, {"ready": True})
    while True:
        request = read_message(inp)
        if request is None:
            return
        try:
            write_message(out, serve_one(request))
        except Exception as exc:  # report, keep serving
            write_message(out, {"error": f"{type(exc).__name__}: {exc}"})


if __name__ == "__main__":
    main()
