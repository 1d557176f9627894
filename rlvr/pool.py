"""A process pool with a hard deadline on every item, usable from any thread.

Why not `concurrent.futures.ProcessPoolExecutor`: it cannot stop one stuck
item (a sympy power tower spends minutes in C code where no signal reaches),
it breaks the whole pool when a worker dies, and with `spawn`/`forkserver` it
re-imports the caller's `__main__` in every worker.  Here each worker is a
plain `python -m rlvr._worker` subprocess talking over a socket pair:

* items travel in chunks and results come back in batches (cheap IPC: the
  parent stays nearly idle, so N workers give close to N times one), while
  each worker writes which item it is on, and since when, into a shared page;
* inside the worker a soft limit (`setitimer`) interrupts Python-level work
  without losing the warm process;
* the parent kills a worker whose current item passes `timeout_s + grace_s`
  (work stuck in C), reports that item as timed out, hands the rest of the
  chunk to other workers and starts a replacement.

One dispatcher thread per pool owns the sockets; callers only wait on futures,
so any number of threads may submit concurrently.
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import itertools
import math
import mmap
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from socket import socketpair
from typing import Any

from rlvr.log import get_logger

DEFAULT_GRACE_S = 0.5
STARTUP_GRACE_S = 30.0  # a worker that is not up after this long counts against its first item
DEFAULT_MEMORY_MB = 4096

log = get_logger(__name__)


_PROGRESS = struct.Struct("qqd")  # chunk id, position in chunk, start time (CLOCK_MONOTONIC)
_FLUSH_S = 0.02  # a worker sends finished results at least this often, and at each chunk end


class _Batch:
    """The results of one `submit_many` call, filled in by the dispatcher thread."""

    def __init__(self, n: int) -> None:
        self.outcomes: list[tuple[str, Any] | None] = [None] * n
        self.remaining = n
        self.done = threading.Event()
        if n == 0:
            self.done.set()

    def put(self, index: int, outcome: tuple[str, Any]) -> None:
        if self.outcomes[index] is None:
            self.outcomes[index] = outcome
            self.remaining -= 1
            if self.remaining == 0:
                self.done.set()

    def wait(self) -> list[tuple[str, Any]]:
        self.done.wait()
        return self.outcomes  # type: ignore[return-value]


@dataclass
class _Chunk:
    batch: _Batch
    fn_key: str
    fn_payload: bytes
    timeout_s: float
    indices: list[int]
    args: list[tuple]
    seq: int = 0
    reported: set[int] = field(default_factory=set)


@dataclass
class _Worker:
    proc: subprocess.Popen
    conn: Connection
    progress: mmap.mmap
    known_fns: set[str] = field(default_factory=set)
    #: chunks sent and not finished, in the order the worker runs them (two in flight
    #: so that the worker never waits for the parent between chunks)
    chunks: collections.deque[_Chunk] = field(default_factory=collections.deque)
    front_since: float = 0.0  # when chunks[0] became the one the worker should be on
    spawned: float = field(default_factory=time.monotonic)
    #: messages for the worker; a sender thread writes them, because a write blocks while the
    #: worker is busy and its socket buffer is full, and the dispatcher must never block
    outbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    def start_sender(self) -> None:
        threading.Thread(target=self._send_loop, name="rlvr-pool-sender", daemon=True).start()

    def _send_loop(self) -> None:
        while (message := self.outbox.get()) is not None:
            try:
                self.conn.send_bytes(message)
            except Exception:  # the worker died or was killed: the dispatcher sees EOF and replaces it
                return

    def current(self) -> tuple[int, float]:
        """(position in the front chunk, start time) of the item the worker is on now."""
        seq, position, started = _PROGRESS.unpack_from(self.progress, 0)
        if seq != self.chunks[0].seq:  # the worker has not begun this chunk yet
            if seq == 0:  # it has begun no chunk: still starting (imports take seconds on a busy machine),
                # and no item's clock runs until it is up or STARTUP_GRACE_S has passed
                return 0, min(time.monotonic(), max(self.front_since, self.spawned + STARTUP_GRACE_S))
            return 0, self.front_since
        return position, started

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.outbox.put(None)
        self.conn.close()
        self.proc.wait()
        self.progress.close()


def _payload(fn: Callable) -> tuple[str, bytes]:
    try:
        data = pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # lambdas, closures, classes defined in __main__ of a notebook
        raise TypeError(
            f"{fn!r} cannot be sent to a worker process ({exc}); define it at module level "
            "in an importable module"
        ) from exc
    return hashlib.blake2b(data, digest_size=16).hexdigest(), data


class DeadlinePool:
    """`workers` subprocesses that run `fn(*args)` per item, each under a hard deadline.

    Outcomes per item: `("ok", value)`, `("timeout", elapsed_s)`, `("crash", message)`,
    `("error", exception)`.
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        memory_mb: int | None = DEFAULT_MEMORY_MB,
        grace_s: float = DEFAULT_GRACE_S,
        preload: Sequence[str] = ("rlvr.verifiers",),
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers: must be at least 1, got {workers}")
        self.size = workers
        self.memory_mb = memory_mb
        self.grace_s = grace_s
        self.preload = list(preload)
        self._pid = os.getpid()
        self._queue: collections.deque[_Chunk] = collections.deque()
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._closed = False
        self.replaced_workers = 0  # killed on a deadline or found dead, and started again
        self._workers: list[_Worker] = [self._start_worker() for _ in range(workers)]
        self._thread = threading.Thread(target=self._dispatch_loop, name="rlvr-deadline-pool", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public
    def submit_many(self, fn: Callable, arg_tuples: Sequence[tuple], timeout_s: float) -> _Batch:
        """Queue `fn(*args)` for every tuple; `.wait()` on the result gives the outcomes in order."""
        if self._closed:
            raise RuntimeError("DeadlinePool is closed")
        key, payload = _payload(fn)
        batch = _Batch(len(arg_tuples))
        per_chunk = max(1, min(256, math.ceil(len(arg_tuples) / (self.size * 4))))
        with self._lock:
            for start in range(0, len(arg_tuples), per_chunk):
                stop = min(start + per_chunk, len(arg_tuples))
                args = [tuple(a) for a in arg_tuples[start:stop]]
                self._queue.append(_Chunk(batch, key, payload, timeout_s, list(range(start, stop)), args))
        self._wake()
        return batch

    def map(self, fn: Callable, arg_tuples: Sequence[tuple], timeout_s: float) -> list[tuple[str, Any]]:
        """Run every item and wait; outcomes in input order."""
        return self.submit_many(fn, arg_tuples, timeout_s).wait()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    @property
    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers]

    # ---------------------------------------------------------------- internal
    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    def _start_worker(self) -> _Worker:
        parent_sock, child_sock = socketpair()
        progress_fd = os.memfd_create("rlvr-progress")
        os.ftruncate(progress_fd, _PROGRESS.size)
        progress = mmap.mmap(progress_fd, _PROGRESS.size)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        cmd = [sys.executable, "-m", "rlvr._worker", str(child_sock.fileno()), str(progress_fd)]
        cmd += [str(self.memory_mb or 0), *self.preload]
        proc = subprocess.Popen(
            cmd,
            pass_fds=[child_sock.fileno(), progress_fd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own process group: killpg reaches anything it spawned
        )
        child_sock.close()
        os.close(progress_fd)
        worker = _Worker(proc=proc, conn=Connection(parent_sock.detach()), progress=progress)
        worker.start_sender()
        return worker

    def _give_work(self, worker: _Worker, in_flight: int) -> None:
        while len(worker.chunks) < in_flight:
            with self._lock:
                if not self._queue:
                    return
                chunk = self._queue.popleft()
            chunk.seq = next(self._seq)
            payload = None if chunk.fn_key in worker.known_fns else chunk.fn_payload
            message = ("run", chunk.seq, chunk.fn_key, payload, chunk.args, chunk.timeout_s)
            if not worker.chunks:
                worker.front_since = time.monotonic()
            worker.chunks.append(chunk)
            worker.outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            worker.known_fns.add(chunk.fn_key)

    def _replace(self, worker: _Worker, failed_position: int | None, failure: tuple[str, Any] | None) -> None:
        """Kill `worker`; give `failure` to the front chunk's item at `failed_position`;
        requeue every unreported item of its chunks."""
        worker.kill()
        self.replaced_workers += 1
        reason = failure[0] if failure is not None else "exited"
        log.debug(
            "pool worker %s replaced (%s); %d replaced so far",
            worker.proc.pid,
            reason,
            self.replaced_workers,
        )
        if worker.chunks and failed_position is not None and failure is not None:
            front = worker.chunks[0]
            if failed_position < len(front.args):
                front.batch.put(front.indices[failed_position], failure)
                front.reported.add(failed_position)
        for chunk in reversed(worker.chunks):
            rest = [k for k in range(len(chunk.args)) if k not in chunk.reported]
            if rest:
                retry = _Chunk(
                    chunk.batch,
                    chunk.fn_key,
                    chunk.fn_payload,
                    chunk.timeout_s,
                    [chunk.indices[k] for k in rest],
                    [chunk.args[k] for k in rest],
                )
                with self._lock:
                    self._queue.appendleft(retry)
        idx = self._workers.index(worker)
        if self._closed:
            self._workers.pop(idx)
        else:
            self._workers[idx] = self._start_worker()

    def _on_message(self, worker: _Worker) -> None:
        try:
            raw = worker.conn.recv_bytes()
        except (EOFError, OSError):
            if not worker.chunks:
                self._replace(worker, None, None)
                return
            position, started = worker.current()
            message = f"worker exited after {time.monotonic() - started:.2f}s on this item"
            self._replace(worker, position, ("crash", message))
            return
        seq, replies = pickle.loads(raw)
        if not worker.chunks or seq != worker.chunks[0].seq:
            return
        chunk = worker.chunks[0]
        for position, status, value, elapsed in replies:
            outcome = (status, elapsed) if status == "timeout" else (status, value)
            chunk.batch.put(chunk.indices[position], outcome)
            chunk.reported.add(position)
        if len(chunk.reported) == len(chunk.args):
            worker.chunks.popleft()
            worker.front_since = time.monotonic()

    def _dispatch_loop(self) -> None:
        while not self._closed:
            for in_flight in (1, 2):  # first one chunk to every idle worker, then a second each
                for w in list(self._workers):
                    self._give_work(w, in_flight)
            now = time.monotonic()
            next_deadline = math.inf
            for w in list(self._workers):
                if not w.chunks:
                    continue
                position, started = w.current()
                deadline = max(started, w.front_since) + w.chunks[0].timeout_s + self.grace_s
                if now >= deadline and position not in w.chunks[0].reported:
                    self._replace(w, position, ("timeout", now - started))
                    next_deadline = now
                else:
                    next_deadline = min(next_deadline, max(deadline, now + 0.01))
            timeout = None if next_deadline == math.inf else max(0.0, next_deadline - time.monotonic())
            conns = {w.conn: w for w in self._workers}
            for ready in wait([*conns, self._wake_r], timeout=timeout):
                if ready == self._wake_r:
                    os.read(self._wake_r, 4096)
                elif ready in conns:
                    self._on_message(conns[ready])
        for w in self._workers:
            w.kill()
        with self._lock:
            pending = list(self._queue)
            self._queue.clear()
        for chunk in pending:
            for index in chunk.indices:
                chunk.batch.put(index, ("error", RuntimeError("pool closed")))
        os.close(self._wake_r)
        os.close(self._wake_w)


# ---------------------------------------------------------------- shared pools
_shared: dict[int, DeadlinePool] = {}
_shared_lock = threading.Lock()


def shared_pool(workers: int | None = None) -> DeadlinePool:
    """A process-wide pool of `workers` (default: CPU count, at most 8), created once."""
    n = workers or min(8, os.cpu_count() or 1)
    with _shared_lock:
        pool = _shared.get(n)
        if pool is None or pool._pid != os.getpid() or pool._closed:  # after fork: start afresh
            pool = DeadlinePool(n)
            _shared[n] = pool
        return pool


@atexit.register
def _close_shared() -> None:
    for pool in list(_shared.values()):
        if pool._pid == os.getpid():
            pool.close()
