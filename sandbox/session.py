"""`Session`: a sandboxed program you talk to while it runs.

`Sandbox.session(code, ...)` starts the program in a pre-started worker (the
local zygote or a warm container's zygote) and returns a `Session`: `send`
writes to the program's stdin, `receive` / `readline` read its stdout as it
comes, `close` ends it and returns the `ExecResult` (stderr, exit code, status).
The run's limits hold for the whole session: `timeout_s` is wall clock from the
start, stdout is capped at `max_output_bytes` in total, memory and processes as
for `run`.  The worker enforces them, not the program.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._frames import EOF, ERROR, KILL, OUT, RESULT, STDIN, ZygoteLink, decode_result
from .types import ExecResult

HOST_GRACE_S = 5.0  # the worker itself must answer this long after the session's deadline


class Session:
    """One interactive run.  Not thread-safe: one caller talks to it."""

    def __init__(
        self,
        link: ZygoteLink,
        timeout_s: float,
        finish: Callable[[dict], ExecResult],
        release: Callable[[bool], None],
    ) -> None:
        self._link = link
        self._finish = finish
        self._release = release
        self.deadline = time.monotonic() + timeout_s
        self._pending = bytearray()  # received, not yet handed out
        self._result: ExecResult | None = None
        self._closed = False

    # -------------------------------------------------------------- talking
    @property
    def done(self) -> bool:
        """The program has ended (its result is known)."""
        return self._result is not None

    def send(self, data: bytes | str) -> None:
        """Write to the program's stdin; ignored once the program has ended."""
        if self._result is None and data:
            self._link.send(STDIN, data.encode() if isinstance(data, str) else data)

    def close_stdin(self) -> None:
        if self._result is None:
            self._link.send(EOF)

    def receive(self, timeout_s: float | None = None) -> bytes:
        """The next stdout bytes; b"" once the program has ended.  TimeoutError when nothing
        comes within `timeout_s` (default: until the session's deadline)."""
        if self._pending:
            data, self._pending = bytes(self._pending), bytearray()
            return data
        if self._result is not None:
            return b""
        chunk = self._next(self._wait_until(timeout_s))
        if chunk is None:
            raise TimeoutError("no output from the sandboxed program")
        return chunk

    def readline(self, timeout_s: float | None = None, max_bytes: int = 1 << 20) -> bytes:
        """One line, with its newline; what is left at the end (maybe b"") once the program
        has ended.  TimeoutError when no full line comes in time; ValueError when a line
        passes `max_bytes`."""
        until = self._wait_until(timeout_s)
        while True:
            end = self._pending.find(b"\n")
            if end >= 0:
                line = bytes(self._pending[: end + 1])
                del self._pending[: end + 1]
                return line
            if len(self._pending) > max_bytes:
                raise ValueError(f"a line of more than {max_bytes} bytes")
            if self._result is not None:
                line, self._pending = bytes(self._pending), bytearray()
                return line
            chunk = self._next(until)
            if chunk is None:
                raise TimeoutError("no full line from the sandboxed program")
            self._pending += chunk

    def close(self, grace_s: float = 1.0, wait: bool = True) -> ExecResult:
        """End the session: stdin is closed, the program gets `grace_s` to finish, then it is
        killed.  Returns how it ended; stdout holds what was never read.

        `wait=False`: the program is killed and the worker goes back to the pool at once;
        it finishes the kill and its cleanup while the caller moves on, and the next user
        of the worker skips this session's late frames.  The result then only says so."""
        if self._closed:
            assert self._result is not None
            return self._result
        self._closed = True
        if not wait and self._result is None and not self._link.gone:
            self._link.send(KILL)
            self._link.stale += 1
            self._result = ExecResult(
                status="runtime_error", stderr="sandbox: ended by the caller, result not awaited"
            )
            self._release(not self._link.gone)
            return self._result
        if self._result is None:
            self._link.send(EOF)
            end = min(time.monotonic() + grace_s, self.deadline)
            while self._result is None and self._next(end, keep=True) is not None:
                pass
        if self._result is None:
            self._link.send(KILL)
            end = time.monotonic() + 2.0
            while self._result is None and self._next(end, keep=True) is not None:
                pass
        healthy = self._result is not None and not self._link.gone
        if self._result is None:
            self._result = ExecResult(status="sandbox_error", stderr="the sandbox worker did not answer")
        self._release(healthy)
        return self._result

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(grace_s=0.0)

    # ------------------------------------------------------------- internal
    def _wait_until(self, timeout_s: float | None) -> float:
        limit = self.deadline + HOST_GRACE_S
        return limit if timeout_s is None else min(time.monotonic() + timeout_s, limit)

    def _next(self, until: float, keep: bool = False) -> bytes | None:
        """Stdout bytes from the next frame (b"" when the program ended); None on timeout.
        `keep` stores stdout in the unread buffer instead of returning it."""
        while True:
            frame = self._link.next_frame(until)
            if frame is None:
                if self._link.gone and self._result is None:
                    self._result = ExecResult(status="sandbox_error", stderr="the sandbox worker ended")
                    return b""
                if time.monotonic() >= self.deadline + HOST_GRACE_S and self._result is None:
                    self._link.gone = True  # a worker that misses its own deadline is replaced
                    self._result = ExecResult(status="sandbox_error", stderr="the sandbox worker hung")
                    return b""
                return None
            kind, payload = frame
            if kind == OUT:
                if keep:
                    self._pending += payload
                    continue
                return payload
            if kind == RESULT:
                fields = decode_result(payload)
                if fields["unclean"]:  # the worker ends after this result: not back to the pool
                    self._link.gone = True
                fields["stdout"] = bytes(self._pending) + fields["stdout"]
                self._result = self._finish(fields)
                return b""
            if kind == ERROR:
                self._result = ExecResult(status="sandbox_error", stderr=payload.decode(errors="replace"))
                return b""
