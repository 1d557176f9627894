"""Worker process of `rlvr.pool.DeadlinePool`: `python -m rlvr._worker SOCK_FD PROGRESS_FD MEMORY_MB [MODULE ...]`.

Runs each received item under a soft `setitimer` limit (this is the worker's
own main thread, so signals are safe here), publishes the current item and its
start time in a shared page, and sends results back in small batches.  Work stuck in C code ignores the signal; the parent then kills
this whole process.
"""

from __future__ import annotations

import importlib
import mmap
import os
import pickle
import resource
import signal
import struct
import sys
import time
from multiprocessing.connection import Connection

_PROGRESS = struct.Struct("qqd")  # must match rlvr.pool._PROGRESS
_FLUSH_S = 0.02


class _SoftTimeout(BaseException):
    """BaseException so that `except Exception` inside verifier code cannot swallow it."""


def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise _SoftTimeout


def _limit_memory(memory_mb: int) -> None:
    if memory_mb <= 0:
        return
    limit = memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def _dumps(seq: int, replies: list[tuple]) -> bytes:
    try:
        return pickle.dumps((seq, replies), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an unpicklable value or exception: send those items as errors
        safe = []
        for position, status, value, elapsed in replies:
            try:
                pickle.dumps(value)
            except Exception as exc:
                status, value = "error", RuntimeError(f"unpicklable result: {exc!r}")
            safe.append((position, status, value, elapsed))
        return pickle.dumps((seq, safe), protocol=pickle.HIGHEST_PROTOCOL)


def main(argv: list[str]) -> None:
    fd, progress_fd, memory_mb, modules = int(argv[0]), int(argv[1]), int(argv[2]), argv[3:]
    conn = Connection(fd)
    progress = mmap.mmap(progress_fd, _PROGRESS.size)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional module must not kill the pool
            pass
    _limit_memory(memory_mb)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    functions: dict[str, object] = {}
    while True:
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        _, seq, key, payload, arg_list, timeout_s = message
        if payload is not None:
            functions[key] = pickle.loads(payload)
        fn = functions[key]
        pending: list[tuple] = []
        last_flush = time.monotonic()
        for position, args in enumerate(arg_list):
            start = time.monotonic()
            if pending and start - last_flush > _FLUSH_S:
                conn.send_bytes(_dumps(seq, pending))
                pending, last_flush = [], start
            # tell the parent which item runs since when: it kills us if this one hangs in C
            _PROGRESS.pack_into(progress, 0, seq, position, start)
            pending.append((position, *_run_one(fn, args, timeout_s)))
        conn.send_bytes(_dumps(seq, pending))


def _run_one(fn, args: tuple, timeout_s: float) -> tuple[str, object, float]:
    start = time.perf_counter()
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout_s)
        try:
            value = fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return "ok", value, time.perf_counter() - start
    except _SoftTimeout:
        return "timeout", None, time.perf_counter() - start
    except MemoryError:
        return "error", MemoryError("memory limit reached"), time.perf_counter() - start
    except RecursionError:
        return "error", RecursionError("nesting too deep"), time.perf_counter() - start
    except Exception as exc:
        return "error", exc, time.perf_counter() - start


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
    finally:
        os._exit(0)
