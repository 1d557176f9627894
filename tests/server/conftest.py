"""A real uvicorn server on a free loopback port, in a thread of the test process.

`tests/server` goes on sys.path before any pool starts, so that pool workers can import the
failure-injection verifiers in `rlvr_fault_verifiers`.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Test modules import helpers from here by this name: several test folders have a conftest.py,
# and the plain name `conftest` means whichever of them was imported last.
sys.modules["server_conftest"] = sys.modules[__name__]

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app, port: int | None = None) -> Iterator[str]:
    """Serve `app` over real HTTP until the block ends; yields the base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def math_server() -> Iterator[str]:
    """The math and math+format specs on two workers, with a token."""
    from rlvr.server import create_app

    app = create_app(["math", "math=1.0,format=0.2"], workers=2, max_queue=256, token="s3cret")
    with running(app) as url:
        yield url


AUTH = {"Authorization": "Bearer s3cret"}


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            return float(line.split()[-1])
    return 0.0
