"""The pre-started worker of both backends.  Runs INSIDE the sandbox.

It is started once per worker, imports what it needs, then serves requests read
from stdin and answers on stdout, in frames (a 4-byte length, a kind byte, the
payload; see `sandbox/_frames.py` for the host's side).  A request is a run
(all of stdin given, one result back) or a session (stdin sent while the
program runs, its stdout streamed back as it comes, the result at the end).

Runs are forked by the **forker**, a process the zygote forks at start, before it
reads any request, and that never holds one: the zygote passes it the run's pipe
ends over a socket, and the new process reads its own request from a pipe.  A run
therefore starts from memory that holds the interpreter and its preloaded modules
and nothing of any other run (a fork of the zygote itself would carry every program,
input and file relayed so far, and, in a pair, the other program's).  The forker
reports each exit status back to the zygote.

Local backend (bubblewrap), each run:

  clone(user, pid, mount, ipc) from the forker: the program is PID 1 of a fresh PID
  namespace (its children and daemons die with it) with a private tmpfs on /work,
  rlimits, and the files of the request; Python code runs in the forked interpreter
  itself, with no interpreter start-up.

The zygote and the forker are non-dumpable, so a run (in a child user namespace)
cannot ptrace them or read their memory; it cannot signal them either (parent PID
namespace).  Time and output limits are enforced in the zygote, outside the run; the
parent outside the sandbox enforces a deadline on the zygote itself.

Docker backend (`--plain`): the container gives no namespaces to make, so each run
is a plain fork of the forker.  The zygote is the container's PID 1 (signals from
inside cannot kill it) and drops from root to the sandbox uid once the forker is
started; the forker stays root (with only CAP_SETUID / CAP_SETGID), and each run
drops to the sandbox uid before it reads its request, so no run can signal, ptrace or
read either of them (a uid change also makes a process non-dumpable).  After every
run the zygote kills every other process of that uid and empties /work, /tmp,
/dev/shm and /dev/mqueue (a worker that cannot is replaced).  When its stdin ends
(the owner closed the attach socket or died), it exits and the container goes with
it.

Only the standard library is used, and only the part that `python3-minimal`
ships (no json, ctypes, shutil or resource there): this file is executed by the
sandbox's /usr/bin/python3.
"""

import atexit
import builtins
import gc
import io
import marshal
import os
import select
import selectors
import signal
import socket
import struct
import sys
import time
import traceback

try:  # not in python3-minimal (the Docker image); the Docker zygote needs neither
    import ctypes
    import resource
except ImportError:
    ctypes = resource = None

# No `import threading` here: it installs at-fork handlers that double the cost of every
# fork (measured 0.43 -> 0.89 ms); programs that use threads import it themselves.

# Imported once here, so that runs (forks) find them loaded: `ast` alone takes 30-70 ms to
# import, more than the rest of a short run.  Programs see them in sys.modules, as after
# any import.  random is reseeded in every run.
PRELOAD = ("ast", "typing", "re", "random", "collections", "math", "hashlib", "string", "copy", "heapq")
for _name in PRELOAD:
    try:
        __import__(_name)
    except ImportError:
        pass

PLAIN = "--plain" in sys.argv  # Docker: plain fork per run, no namespaces
if ctypes is not None and not PLAIN:
    libc = ctypes.CDLL(None, use_errno=True)
    _raw = ctypes.PyDLL(None, use_errno=True)  # keeps the GIL held across the call
SYS_CLONE = 56  # x86_64; other architectures fall back to fork + unshare
CLONE_SUPPORTED = not PLAIN and os.uname().machine == "x86_64" and "--no-clone" not in sys.argv
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x20000000, 0x08000000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 2, 4, 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4
RUN_UID, RUN_GID = os.getuid(), os.getgid()  # inside the sandbox; set again in main()
SANDBOX_ID = 65534  # the Docker zygote's and its runs' uid and gid
CLEAN_DIRS = ("/work", "/tmp", "/dev/shm", "/dev/mqueue")
SIGCHLD_R = -1  # Docker: read end of the SIGCHLD wakeup pipe

# Frames, both ways: payload length, kind, payload.  Must match sandbox/_frames.py.
HEADER = struct.Struct(">IB")
REQUEST, STDIN, EOF, KILL = ord("Q"), ord("I"), ord("E"), ord("K")  # host -> zygote
READY, OUT, RESULT, ERROR = ord("Y"), ord("O"), ord("R"), ord("X")  # zygote -> host
RESULT_HEAD = struct.Struct(">iBdII")  # exit code, flags, duration, len(stdout), len(stderr)
TIMED_OUT, OVERFLOW, SETUP_FAILED, ENDED, NO_EXIT, UNCLEAN = 1, 2, 4, 8, 16, 32


class FrameReader:
    """Frames from the host on fd 0, with our own buffer (select-friendly, unlike sys.stdin)."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def pop(self, before_request=False):
        """The next complete frame, or None.  `before_request`: None at a REQUEST frame, which
        is left for the main loop (the host may send it right after ending a session)."""
        if len(self.buf) < HEADER.size:
            return None
        size, kind = HEADER.unpack_from(self.buf)
        if before_request and kind == REQUEST:
            return None
        end = HEADER.size + size
        if len(self.buf) < end:
            return None
        payload = bytes(self.buf[HEADER.size : end])
        del self.buf[:end]
        return kind, payload

    def next(self):
        while True:
            frame = self.pop()
            if frame is not None:
                return frame
            if not self.fill():
                return None


CHANNEL = [0, 1]  # the host's frames come in on the first fd and go out on the second


def send_frame(kind, payload=b""):
    data = memoryview(HEADER.pack(len(payload), kind) + payload)
    while data:
        data = data[os.write(CHANNEL[1], data) :]


def connect_channel():
    """Docker with `--socket PATH`: the host listens on a unix socket bind-mounted into the
    container; frames then skip the daemon (the attach stream crosses dockerd and the
    shim).  The socket is this process's only link: runs never inherit it."""
    if "--socket" not in sys.argv:
        return
    path = sys.argv[sys.argv.index("--socket") + 1]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    fd = sock.detach()
    CHANNEL[:] = [fd, fd]


def _check(ret, what):
    if ret != 0:
        raise OSError(ctypes.get_errno(), what)


def enter_namespaces():
    """In the first child: a new user, PID, mount and IPC namespace for this run only."""
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    write_id_maps()


def prepare_run(request):
    """In the program's process: private /work (local), files, limits, environment."""
    if not PLAIN:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
        size = f"size={request['workdir_mb']}m,mode=0755".encode()
        _check(libc.mount(b"tmpfs", b"/work", b"tmpfs", MS_NOSUID | MS_NODEV, size), "mount /work")
        _check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64m"), "mount /tmp")
        if os.path.isdir("/dev/shm"):  # shared by all runs of this worker otherwise
            _check(
                libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64m"),
                "mount /dev/shm",
            )
    else:
        os.setsid()
    if request.get("beside_peer"):  # shares no files with its peer (in Docker, /work is shared)
        os.chdir("/")
    else:
        for name, data in request["files"].items():
            path = os.path.join("/work", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o755)
        os.chdir("/work")
    limits = request["limits"]
    if resource is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize"], limits["fsize"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["nofile"], limits["nofile"]))
        if limits.get("data"):
            resource.setrlimit(resource.RLIMIT_DATA, (limits["data"], limits["data"]))
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": "/work", "LANG": "C.UTF-8"})


def run_python_inline(request):
    """Run the request's Python source as __main__ in this (forked) interpreter, like
    `python3 -I /work/<source>`.  The source comes from the request, not from the file
    (which a pair's main never gets, and a peer could rewrite)."""
    source_name = request["source"]
    sys.argv = [source_name]
    if not request.get("beside_peer"):  # nothing the peer can write is on the main's import path
        sys.path[0:0] = ["/work"]
    if "random" in sys.modules:  # not the zygote's state, shared by every fork
        sys.modules["random"].seed()
    sys.stdin = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="surrogateescape"
    )
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="surrogateescape"
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    code = 0
    try:
        program = request.get("compiled") or compile(request["files"][source_name], source_name, "exec")
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


def place_fds(fds):
    """Make fds[k] the program's fd k (0, 1, 2, and a pair's 3 and 4) and close the rest."""
    high = [os.dup2(fd, 100 + k) for k, fd in enumerate(fds)]  # the zygote's own fds are low
    for k, fd in enumerate(high):
        os.dup2(fd, k)
    os.closerange(len(fds), 4096)


def run_program(request, fds):
    """Body of the program's process; never returns."""
    try:
        if PLAIN:  # the zygote's SIGCHLD watch is not the program's
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        place_fds(fds)
        prepare_run(request)
        argv = request["argv"]
        if argv == ["<python-inline>"]:
            run_python_inline(request)
        os.execv(argv[0], argv)
    except BaseException as exc:
        try:
            os.write(2, f"sandbox: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(127)


def fork_into_namespaces(fds):
    """Fallback where raw clone is not available: fork, unshare, fork again (a holder
    process waits for the program and passes its status on)."""
    child = os.fork()
    if child == 0:  # namespace holder: waits for the program and passes its status on
        try:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            enter_namespaces()
            program = os.fork()
            if program == 0:
                run_child(fds)
            os.closerange(0, 4096)  # no pipe end may outlive the program in here
            _, status = os.waitpid(program, 0)
            os._exit(
                os.waitstatus_to_exitcode(status) % 256 if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            )
        except BaseException:
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


def run_child(fds):
    """A run's process, just forked by the forker: read this run's request (and nothing
    else: the forker never held any) from fds[0], then become the program on fds[1:]."""
    try:
        if PLAIN:
            drop_privileges()  # the forker is root; no run ever is
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        data = bytearray()
        while chunk := os.read(fds[0], 1 << 20):
            data += chunk
        request = marshal.loads(data)
        del data
    except BaseException:
        os._exit(127)
    run_program(request, fds[1:])


def spawn(fds):
    """In the forker: start one run's process on `fds` (see run_child); its pid.  Local: PID 1
    of its own user, PID, mount and IPC namespaces.  Docker: a plain fork."""
    child = clone_into_namespaces() if CLONE_SUPPORTED else -1
    if child == 0:  # PID 1 of the run's own namespaces
        try:
            write_id_maps()
        except BaseException:
            os._exit(126)
        run_child(fds)
    if child < 0 and PLAIN:
        child = os.fork()
        if child == 0:
            run_child(fds)
    elif child < 0:
        child = fork_into_namespaces(fds)
    return child


# The forker: a process forked from the zygote at start, before any request, that forks
# every run.  A run's memory is then the forker's (the interpreter and its preloaded
# modules) plus its own request, which it reads itself: never another run's program,
# files or input, nor, for a pair, the other program's.  (Forked from the zygote, which
# holds every request it relays, a run could find those in its own memory.)  The zygote
# sends it pipe ends over a socket (SCM_RIGHTS); it answers with the new pid, and with
# the exit status of each of its children as they end.  In Docker it stays root (with
# only CAP_SETUID / CAP_SETGID) so that no run can signal it; every run drops to the
# sandbox uid before it reads its request.
FORKER = [None, 0]  # zygote side: the socket, the forker's pid
EXITS = {}  # zygote side: exit statuses reported and not yet taken, by pid
SPAWNED, FAILED, EXITED = b"P", b"E", b"X"
PID_STATUS = struct.Struct(">ii")


def start_forker():
    parent_end, forker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            parent_end.close()
            forker_loop(forker_end)
        finally:
            os._exit(0)
    forker_end.close()
    FORKER[:] = [parent_end, pid]


def forker_loop(sock):
    keep = sock.fileno()
    os.closerange(0, keep)
    os.closerange(keep + 1, 4096)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_w)
    sel = selectors.DefaultSelector()
    sel.register(keep, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fd == wake_r:
                drain(wake_r)
                reaped = {}
                reap(reaped)
                for pid, status in reaped.items():
                    sock.send(EXITED + PID_STATUS.pack(pid, status))
                continue
            message, fds, _, _ = socket.recv_fds(sock, 16, 16)
            if not message:
                return  # the zygote is gone
            try:
                reply = SPAWNED + PID_STATUS.pack(spawn(fds), 0)
            except Exception as exc:
                reply = FAILED + f"{type(exc).__name__}: {exc}".encode()[:200]
            finally:
                for fd in fds:
                    os.close(fd)
            sock.send(reply)


def forker_message(deadline):
    """The forker's next message; OSError when it is gone or silent past the deadline."""
    sock = FORKER[0]
    if not select.select([sock], [], [], max(deadline - time.monotonic(), 0))[0]:
        raise OSError("the forker did not answer")
    message = sock.recv(256)
    if not message:
        raise OSError("the forker is gone")
    if message[:1] == EXITED:
        pid, status = PID_STATUS.unpack_from(message, 1)
        EXITS[pid] = status
    return message


TRUSTED_CODE = {}  # zygote side: compiled trusted programs (the caller's own), by source


def with_compiled_code(request):
    """A trusted Python program (ExecRequest.trusted: the caller's own code, a harness) is
    compiled here once and handed to each run as a code object, instead of compiled in
    every run.  Anything else is compiled in its run, under its limits."""
    if not request.get("trusted") or request["argv"] != ["<python-inline>"]:
        return request
    source = request["files"][request["source"]]
    key = (request["source"], source)
    if key not in TRUSTED_CODE:
        try:
            TRUSTED_CODE[key] = compile(source, request["source"], "exec")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return request  # the run compiles it and reports the error as usual
        if len(TRUSTED_CODE) > 64:
            TRUSTED_CODE.pop(next(iter(TRUSTED_CODE)))
    return {**request, "compiled": TRUSTED_CODE[key]}


def start_process(request, fds):
    """Have the forker start one process on `fds` and hand it `request`; its pid."""
    request = with_compiled_code(request)
    request_r, request_w = os.pipe()
    try:
        socket.send_fds(FORKER[0], [b"F"], [request_r, *fds])
    finally:
        os.close(request_r)
    try:
        deadline = time.monotonic() + 5.0
        while (message := forker_message(deadline))[:1] == EXITED:
            pass
        if message[:1] != SPAWNED:
            raise OSError(message[1:].decode(errors="replace"))
        pid = PID_STATUS.unpack_from(message, 1)[0]
        data = memoryview(marshal.dumps(request))
        try:
            while data:
                data = data[os.write(request_w, data) :]
        except OSError:  # it died before reading all: its exit status tells
            pass
        return pid
    finally:
        os.close(request_w)


def wait_exit(pid, deadline_s=5.0):
    """The exit status of a process the forker started (it reports each one)."""
    deadline = time.monotonic() + deadline_s
    while pid not in EXITS:
        forker_message(deadline)
    return EXITS.pop(pid)


def without(request, *keys):
    return {k: v for k, v in request.items() if k not in keys}


def start_run(request):
    """Start the program's process (and its peer's); return (pid, peer pid or None, stdin_w,
    stdout_r, stderr_r).

    A pair: the peer's stdin is fed by the main program's fd 3 and its stdout read on the
    main's fd 4; its stderr goes to /dev/null.  Only the main's stdout and stderr reach
    here: nothing the peer writes can end up in the result.  Each process gets only its
    own part of the request."""
    peer = request.get("peer")
    stdin_r, stdin_w = os.pipe()
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    child_ends = [stdin_r, stdout_w, stderr_w]
    child = peer_pid = None
    try:
        if peer is None:
            child = start_process(without(request, "stdin"), child_ends)
        else:
            calls_r, calls_w = os.pipe()
            child_ends += [calls_r, calls_w]
            replies_r, replies_w = os.pipe()
            child_ends += [replies_r, replies_w]
            null = os.open("/dev/null", os.O_WRONLY)
            child_ends.append(null)
            main_fds = (stdin_r, stdout_w, stderr_w, calls_w, replies_r)
            child = start_process(without(request, "stdin", "peer"), main_fds)
            peer_pid = start_process(peer, (calls_r, replies_w, null))
    except BaseException:  # no process and no pipe end of a run that did not start is kept
        for pid in (child, peer_pid):
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                wait_exit(pid)
        for fd in (stdin_w, stdout_r, stderr_r):
            os.close(fd)
        raise
    finally:
        for fd in child_ends:
            os.close(fd)
    return child, peer_pid, stdin_w, stdout_r, stderr_r


def serve(request, reader):
    """Run one program (or hold one session) and send its result, decided here, outside it.

    A session streams the program's stdout to the host as OUT frames and feeds it the
    STDIN frames the host sends while it runs; a plain run gets all of stdin at once
    and its stdout in the result.  Either way the host may end it early (KILL) and the
    deadline and output cap hold.  Returns False when the host is gone."""
    session = bool(request.get("session"))
    start = time.monotonic()
    child, peer, stdin_w, stdout_r, stderr_r = start_run(request)
    deadline = start + request["timeout_s"]
    cap = request["max_output"]
    sel = selectors.DefaultSelector()
    sel.register(stdout_r, selectors.EVENT_READ)
    sel.register(stderr_r, selectors.EVENT_READ)
    sel.register(reader.fd, selectors.EVENT_READ)
    forker_fd = FORKER[0].fileno()
    sel.register(forker_fd, selectors.EVENT_READ)  # exit statuses of the run's processes
    child_status = None
    os.set_blocking(stdin_w, False)
    pending = bytearray(request.get("stdin", b""))
    close_stdin = not session  # a plain run's stdin ends after its data
    stdin_open = True
    out, err = bytearray(), bytearray()
    out_total = 0
    timed_out = overflow = ended = host_gone = False
    open_streams = 2

    def feed():
        nonlocal stdin_open, pending
        while pending and stdin_open:
            try:
                n = os.write(stdin_w, pending[:65536])
            except BlockingIOError:
                break
            except OSError:  # the program closed its stdin: the rest is dropped
                pending = bytearray()
                break
            del pending[:n]
        if stdin_open and not pending and close_stdin:
            sel_unregister(stdin_w)
            os.close(stdin_w)
            stdin_open = False
        elif stdin_open:
            want = selectors.EVENT_WRITE if pending else 0
            registered = stdin_w in sel.get_map()
            if want and not registered:
                sel.register(stdin_w, selectors.EVENT_WRITE)
            elif not want and registered:
                sel.unregister(stdin_w)

    def sel_unregister(fd):
        if fd in sel.get_map():
            sel.unregister(fd)

    def take_frames():  # frames may already wait in the buffer, read with the request
        nonlocal pending, close_stdin, ended
        while (frame := reader.pop(before_request=True)) is not None:
            kind, payload = frame
            if kind == STDIN:
                pending += payload
            elif kind == EOF:
                close_stdin = True
            elif kind == KILL:
                ended = True
        if stdin_open:
            feed()

    take_frames()
    while open_streams and not (ended or host_gone):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        for key, _ in sel.select(remaining):
            fd = key.fd
            if fd == reader.fd:
                if not reader.fill():
                    host_gone = True
                    break
                take_frames()
            elif fd == stdin_w:
                feed()
            elif fd == forker_fd:
                forker_message(time.monotonic())
                if child_status is None and child in EXITS:
                    child_status = EXITS.pop(child)
                    if PLAIN:  # no PID namespace ends the run's children with it
                        kill_all()
            else:
                chunk = os.read(fd, 65536)
                if not chunk:
                    sel.unregister(fd)
                    os.close(fd)  # a zygote serves thousands of runs: every pipe end is closed
                    open_streams -= 1
                    continue
                if fd == stderr_r:
                    if len(err) <= cap:
                        err += chunk
                    continue
                out_total += len(chunk)
                if out_total > cap:
                    overflow = True
                    break
                if session:
                    send_frame(OUT, chunk)
                else:
                    out += chunk
        if overflow:
            break
    if child_status is None and (timed_out or overflow or ended or host_gone or open_streams):
        kill_process(child)  # the program dies with it (PDEATHSIG), and its PID namespace
    for key in list(sel.get_map().values()):
        sel.unregister(key.fd)
        if key.fd not in (reader.fd, forker_fd):
            os.close(key.fd)
    sel.close()
    if stdin_open:
        try:
            os.close(stdin_w)
        except OSError:
            pass
    if peer is not None and not PLAIN:  # PID 1 of its namespace: its whole tree goes with it
        kill_process(peer)
    if PLAIN:
        kill_all()  # every process of the run: none may hold the pids
    status = child_status if child_status is not None else wait_exit(child)
    if peer is not None:
        wait_exit(peer)
    EXITS.clear()  # every status of this run is in: none is left to be taken for a later pid
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    if host_gone:
        return False
    duration = time.monotonic() - start
    clean = clean_files() if PLAIN else True  # before the answer: a worker left unclean says so
    flags = (
        TIMED_OUT * timed_out
        | OVERFLOW * overflow
        | ENDED * ended
        | SETUP_FAILED * (exit_code in (126, 127) and err.startswith(b"sandbox: "))
        | UNCLEAN * (not clean)
    )
    out, err = bytes(out[: cap + 1]), bytes(err[: cap + 1])
    send_frame(RESULT, RESULT_HEAD.pack(exit_code, flags, duration, len(out), len(err)) + out + err)
    return clean  # an unclean worker ends: its container goes, and the host replaces it


def kill_process(pid):
    """SIGKILL one process of the run.  Docker: a process just forked may still be root for a
    moment (it drops to the sandbox uid first thing): try again."""
    for _ in range(1000):
        try:
            os.kill(pid, signal.SIGKILL)
            return
        except ProcessLookupError:
            return
        except PermissionError:
            time.sleep(0.001)


def drain(fd):
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def watch_children():
    """Docker: SIGCHLD wakes the zygote's select through a pipe (signal.set_wakeup_fd)."""
    global SIGCHLD_R
    SIGCHLD_R, write_end = os.pipe()
    os.set_blocking(SIGCHLD_R, False)
    os.set_blocking(write_end, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(write_end)


def kill_all():
    """Docker: end every other process of the sandbox uid (daemons of the run included;
    PID 1, this zygote, is spared by kill(-1), and the forker is root), until none is left
    but the forker, and reap the orphans (ours: we are PID 1; the forker reaps the runs).
    While rounds reap something (a fork bomb), they follow each other at once; a round
    that reaps nothing waits for the next SIGCHLD instead of spinning, which would burn
    (in kill(-1)'s walk over every task of the machine) the CPU that the dying processes
    need to exit."""
    reaped = {}
    deadline = time.monotonic() + 5.0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        before = len(reaped)
        reap(reaped)
        if not others_alive():
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        # processes the forker reaps, or a `docker exec`'s, send us no SIGCHLD: look again soon
        if len(reaped) == before and select.select([SIGCHLD_R], [], [], min(remaining, 0.001))[0]:
            drain(SIGCHLD_R)


def others_alive():
    """Docker: a process in the container (zombies included) other than this one and the forker."""
    spared = (1, FORKER[1])
    return any(name.isdigit() and int(name) not in spared for name in os.listdir("/proc"))


def clean_files():
    """Docker: empty the tmpfs the runs share (and the message queues); False when something
    could not be removed (the worker is then replaced)."""
    clean = True
    for top in CLEAN_DIRS:
        try:
            clean = empty_dir(top) and clean
        except OSError:
            clean = False
    return clean


def reap(reaped):
    """Collect every exited child (orphans of runs are ours: we are PID 1) into `reaped`."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reaped[pid] = status


def empty_dir(top):
    """Remove everything under `top`: iterative and relative to open directories, so no
    depth or path length stops it (a run may leave a tree 10,000 levels deep), and each
    directory is listed once.  True when `top` is empty afterwards.  The host uses it too
    (sandbox/_tree.py)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(top, flags)
    except OSError:
        return not os.path.isdir(top)
    stack = [(fd, "", [])]  # per open level: its fd, its name, the names left in it
    try:
        stack[0][2].extend(os.listdir(fd))
        while stack:
            fd, name, left = stack[-1]
            if left:
                entry = left.pop()
                try:
                    os.unlink(entry, dir_fd=fd)
                    continue
                except OSError:
                    pass
                child = os.open(entry, flags, dir_fd=fd)  # a directory, or the clean-up fails
                stack.append((child, entry, []))
                try:
                    os.fchmod(child, 0o700)
                except OSError:
                    pass
                stack[-1][2].extend(os.listdir(child))
                continue
            stack.pop()
            os.close(fd)
            if stack:
                os.rmdir(name, dir_fd=stack[-1][0])
        return True
    except OSError:
        return False
    finally:
        for fd, _, _ in stack:
            os.close(fd)


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


def drop_privileges():
    """Docker: the container starts as root with only CAP_SETUID/CAP_SETGID, so that this
    step can happen; changing uid clears every capability and makes the process
    non-dumpable, so a run of the same uid cannot ptrace it or read /proc/1/mem."""
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(SANDBOX_ID)
        os.setuid(SANDBOX_ID)


def main():
    global RUN_UID, RUN_GID
    if PLAIN:
        watch_children()
    else:
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a run that ends early: EPIPE, not our death
    RUN_UID, RUN_GID = os.getuid(), os.getgid()
    # Everything loaded so far is shared with every run: frozen, a run's garbage
    # collections skip it instead of writing to (and so copying) its pages.
    gc.collect()
    gc.freeze()
    start_forker()  # before any request; in Docker before dropping privileges (it stays root)
    if PLAIN:
        drop_privileges()
        connect_channel()
    reader = FrameReader(CHANNEL[0])
    send_frame(READY)
    while True:
        frame = reader.next()
        if frame is None:
            return
        kind, payload = frame
        if kind != REQUEST:  # a session's late STDIN / EOF / KILL after its program ended
            continue
        try:
            if not serve(marshal.loads(payload), reader):
                return
        except Exception as exc:  # report, keep serving
            send_frame(ERROR, f"{type(exc).__name__}: {exc}".encode())


if __name__ == "__main__":
    main()
