"""Start and stop a `vllm serve` process (vLLM's OpenAI-compatible server) on a free local port.

The process gets its own session, so stopping it also stops the engine workers it spawned (they
outlive a plain kill of the parent and keep their memory). Its output goes to a log file whose
tail is in the error when it does not come up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from rlvr.errors import RlvrError


class ServerError(RlvrError):
    """A `vllm serve` process could not be started or answered with an error."""


class VLLMServeProcess:
    """A `vllm serve` child process on 127.0.0.1; healthy once the constructor returns."""

    def __init__(
        self, flags: dict[str, Any], env: dict[str, str] | None = None, timeout: float = 600
    ) -> None:
        """`flags` are `vllm serve` options by their Python names (`max_model_len=512` becomes
        `--max-model-len 512`; True is a bare flag, False and None are left out)."""
        port = free_port()
        command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
        command += cli_flags({**flags, "host": "127.0.0.1", "port": port})
        fd, self.log_path = tempfile.mkstemp(prefix="rlvr-vllm-serve-", suffix=".log")
        with os.fdopen(fd, "w") as log:
            self.process: subprocess.Popen | None = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while not _healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = Path(self.log_path).read_text(errors="replace")[-3000:]
                self.stop()
                raise ServerError(f"vllm serve did not start (log {self.log_path}):\n{tail}")
            time.sleep(1)

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after 30 s; stopping twice is harmless."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def cli_flags(flags: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in flags.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value not in (False, None):
            args += [flag, str(value)]
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
