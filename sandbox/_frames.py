"""The host's side of the zygote protocol (`sandbox/_zygote.py` is the other side).

Frames both ways: a 4-byte payload length, a kind byte, the payload.  Requests
go to the zygote as `marshal` data (trusted direction: the host writes them);
what comes back is never unmarshalled: raw stdout chunks, and results in a fixed
binary layout, so a zygote whose sandbox misbehaves cannot feed the host a
crafted object.  Transports: pipes (local backend) and Docker's attach socket
(multiplexed stream, demultiplexed here).
"""

from __future__ import annotations

import marshal
import os
import selectors
import socket
import struct
import time
from typing import Protocol

from .languages import LANGUAGES
from .types import ExecRequest

HEADER = struct.Struct(">IB")
REQUEST, STDIN, EOF, KILL = ord("Q"), ord("I"), ord("E"), ord("K")
READY, OUT, RESULT, ERROR = ord("Y"), ord("O"), ord("R"), ord("X")
RESULT_HEAD = struct.Struct(">iBdII")
TIMED_OUT, OVERFLOW, SETUP_FAILED, ENDED, UNCLEAN = 1, 2, 4, 8, 32
MAX_FRAME = 64 << 20  # a larger length means a broken stream, not a real frame


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self, timeout_s: float) -> bytes | None:
        """Some bytes; b"" at end of stream; None when nothing came within `timeout_s`."""
        ...

    def close(self) -> None: ...


class PipeTransport:
    """The local zygote's stdin and stdout pipes."""

    def __init__(self, write_fd: int, read_fd: int) -> None:
        self.write_fd, self.read_fd = write_fd, read_fd
        os.set_blocking(read_fd, False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(read_fd, selectors.EVENT_READ)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.write_fd, view) :]

    def read(self, timeout_s: float) -> bytes | None:
        if not self._sel.select(max(timeout_s, 0)):
            return None
        try:
            return os.read(self.read_fd, 1 << 20)
        except BlockingIOError:
            return None

    def close(self) -> None:
        self._sel.close()


class SocketTransport:
    """A connected unix socket (the Docker zygote's direct channel)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setblocking(True)
        self._sel = selectors.DefaultSelector()
        self._sel.register(sock, selectors.EVENT_READ)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout_s: float) -> bytes | None:
        if not self._sel.select(max(timeout_s, 0)):
            return None
        return self.sock.recv(1 << 20)

    def close(self) -> None:
        self._sel.close()
        try:
            self.sock.close()
        except OSError:
            pass


class DockerAttachTransport(SocketTransport):
    """A container's stdin/stdout through the daemon's attach socket (stdout frames
    carry an 8-byte header: stream, 0, 0, 0, size)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self._raw = bytearray()

    def read(self, timeout_s: float) -> bytes | None:
        out = bytearray()
        deadline = time.monotonic() + max(timeout_s, 0)
        while not out:
            remaining = deadline - time.monotonic()
            if not self._sel.select(max(remaining, 0)):
                return None
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return b""
            self._raw += chunk
            while len(self._raw) >= 8:
                stream, size = self._raw[0], struct.unpack(">I", self._raw[4:8])[0]
                if len(self._raw) < 8 + size:
                    break
                if stream == 1:
                    out += self._raw[8 : 8 + size]
                del self._raw[: 8 + size]
        return bytes(out)


class ZygoteLink:
    """Framed messages to and from one zygote over a transport."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._buf = bytearray()
        self.gone = False  # the zygote's stream ended (it exited or was killed)
        # results still to come for requests nobody waits for (sessions closed without
        # waiting): the zygote answers in order, so their frames come first and are skipped
        self.stale = 0

    def send(self, kind: int, payload: bytes = b"") -> bool:
        try:
            self.transport.write(HEADER.pack(len(payload), kind) + payload)
            return True
        except OSError:
            self.gone = True
            return False

    def request(self, message: dict) -> bool:
        return self.send(REQUEST, marshal.dumps(message))

    def next_frame(self, deadline: float) -> tuple[int, bytes] | None:
        """The next frame, or None at the deadline or when the stream ended (`gone`)."""
        while True:
            if len(self._buf) >= HEADER.size:
                size, kind = HEADER.unpack_from(self._buf)
                if size > MAX_FRAME:
                    self.gone = True
                    return None
                end = HEADER.size + size
                if len(self._buf) >= end:
                    payload = bytes(self._buf[HEADER.size : end])
                    del self._buf[:end]
                    if self.stale and kind in (OUT, RESULT, ERROR):
                        self.stale -= kind != OUT
                        continue
                    return kind, payload
            if self.gone:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                chunk = self.transport.read(remaining)
            except OSError:
                chunk = b""
            if chunk is None:
                continue
            if not chunk:
                self.gone = True
                continue
            self._buf += chunk

    def close(self) -> None:
        self.gone = True
        self.transport.close()


def decode_result(payload: bytes) -> dict:
    """A RESULT frame as the fields `classify` takes (stdout and stderr as bytes)."""
    exit_code, flags, duration, n_out, n_err = RESULT_HEAD.unpack_from(payload)
    body = payload[RESULT_HEAD.size :]
    stderr = body[n_out : n_out + n_err]
    return {
        "exit_code": exit_code,
        "stdout": body[:n_out],
        "stderr": stderr,
        "duration_s": duration,
        "timed_out": bool(flags & TIMED_OUT),
        "overflow": bool(flags & OVERFLOW),
        "ended": bool(flags & ENDED),
        "setup_error": stderr.decode(errors="replace") if flags & SETUP_FAILED else None,
        # the worker could not clean up after the run: it ends, and must not be reused
        "unclean": bool(flags & UNCLEAN),
    }


def build_request(
    request: ExecRequest, *, max_output: int, workdir_mb: int, limits: dict[str, int], session: bool = False
) -> dict:
    """One zygote request for a validated run request (both backends' zygotes take the same).
    Python runs inline in the forked zygote (no interpreter start)."""
    message = {
        **_program(request.language, request.code, request.files),
        "trusted": request.trusted,
        "stdin": request.stdin.encode(),
        "timeout_s": request.timeout_s,
        "max_output": max_output,
        "workdir_mb": workdir_mb,
        "limits": limits,
        "session": session,
    }
    if request.peer is not None:
        peer = request.peer
        message["peer"] = {
            **_program(peer.language, peer.code, peer.files),
            "trusted": peer.trusted,
            "workdir_mb": workdir_mb,
            "limits": limits,
        }
        message["beside_peer"] = True
    return message


def _program(language: str, code: str, files: dict | None) -> dict:
    """What the zygote needs to start one program: its files, argv and source name."""
    spec = LANGUAGES[language]
    source, run = spec.source, spec.run
    all_files = {source: code.encode(), **(files or {})}
    argv = ["<python-inline>"] if run[:2] == ("/usr/bin/python3", "-I") else list(run)
    return {
        "files": {
            name: data if isinstance(data, bytes) else str(data).encode() for name, data in all_files.items()
        },
        "argv": argv,
        "source": source,
    }
