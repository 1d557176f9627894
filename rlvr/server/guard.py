"""An ASGI layer in front of the app: body size limit (413) and per-request metrics.

The body is read here, up to the limit, before the app sees it; the endpoints read whole bodies
anyway, so this costs nothing and an oversized body never reaches JSON parsing.  It is a plain
ASGI middleware (not `BaseHTTPMiddleware`) so that it adds no task per request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .metrics import ServerMetrics

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Guard:
    def __init__(self, app: Any, max_body_bytes: int, metrics: ServerMetrics, paths: set[str]) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.metrics = metrics
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope["path"] if scope["path"] in self.paths else "other"
        status = {"code": 500, "sent": False}

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
            await send(message)

        try:
            if scope["method"] in ("POST", "PUT", "PATCH"):
                body = await self._read_body(scope, receive, tracked_send)
                if body is None:
                    return
                receive = _replay(body, receive)
            await self.app(scope, receive, tracked_send)
        finally:
            self.metrics.requests.labels(path, str(status["code"])).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - start)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _error(send, 400, "Content-Length: not an integer")
                return None
            if size > self.max_body:
                await self._too_large(send)
                return None
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.metrics.client_gone.inc()
                return None
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body:
                await self._too_large(send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        self.metrics.rejected.labels("body_too_large").inc()
        await _error(send, 413, f"body: larger than this server's limit of {self.max_body} bytes")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls wait for the disconnect, as usual

    return replay


async def _error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
