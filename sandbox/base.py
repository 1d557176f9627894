"""The `Sandbox` interface shared by all backends."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from rlvr.errors import ConfigError

from .health import Health, SandboxStats
from .languages import LANGUAGES
from .session import Session
from .types import ExecRequest, ExecResult, PeerProgram

_HEALTH_INIT = threading.Lock()


class Sandbox(BaseModel):
    """Runs untrusted code; knows nothing about tests or rewards. Fields are the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str] = "sandbox"

    timeout_s: float = Field(5.0, gt=0, le=600, description="Default wall-clock limit per run.")
    memory_mb: int = Field(512, ge=16, le=65536, description="Default memory limit per run.")
    health_streak: int = Field(
        5,
        ge=0,
        description="Timeouts in a row after a run cut short that make the pool replace its "
        "workers and retry the run once (0: never; a timeout whose program had ended always does).",
    )

    _health: Health | None = PrivateAttr(None)

    def run(
        self,
        code: str,
        language: str = "python",
        stdin: str = "",
        files: dict[str, bytes] | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        peer: PeerProgram | dict | None = None,
        trusted: bool = False,
    ) -> ExecResult:
        """Run one program; the result's status says how it ended.  `peer`: a second program
        connected to this one's fds 3 and 4 (see `PeerProgram`); this one must be Python
        and bring no `files`, and the result is this one's.  `trusted`: see
        `ExecRequest.trusted` (only the caller's own code)."""
        request = self._request(code, language, stdin, files, timeout_s, memory_mb)
        update: dict = {"trusted": True} if trusted else {}
        if peer is not None:
            update["peer"] = self._peer(peer, request)
        return self._run_checked(request.model_copy(update=update) if update else request)

    def _peer(self, peer: PeerProgram | dict, main: ExecRequest) -> PeerProgram:
        if main.language != "python":
            raise ConfigError("language", f"a program with a peer must be python, not {main.language!r}")
        if main.files:
            raise ConfigError("files", "a program with a peer takes no files (its peer may share /work)")
        try:
            program = peer if isinstance(peer, PeerProgram) else PeerProgram.model_validate(peer)
        except ValidationError as exc:
            raise ConfigError("peer", str(exc)) from None
        self._check_paths(program.files)
        return program

    def session(
        self,
        code: str,
        language: str = "python",
        files: dict[str, bytes] | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
    ) -> Session:
        """Start a program you talk to while it runs (see `rlvr.sandbox.session`): the same
        isolation and limits as `run`, `timeout_s` for the whole session.  Interpreted
        languages only (python, bash)."""
        request = self._request(code, language, "", files, timeout_s, memory_mb)
        if LANGUAGES[language].compile is not None:
            raise ConfigError("language", f"sessions run interpreted languages, not {language!r}")
        return self._open_session(request)

    def _request(
        self,
        code: str,
        language: str,
        stdin: str,
        files: dict[str, bytes] | None,
        timeout_s: float | None,
        memory_mb: int | None,
    ) -> ExecRequest:
        if language not in LANGUAGES:
            raise ConfigError("language", f"unknown {language!r}; known: {', '.join(sorted(LANGUAGES))}")
        self._check_paths(files)
        return ExecRequest(
            code=code,
            language=language,
            stdin=stdin,
            files=files,  # type: ignore[arg-type]
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
            memory_mb=self.memory_mb if memory_mb is None else memory_mb,
        )

    @staticmethod
    def _check_paths(files: dict[str, bytes] | None) -> None:
        for name in files or {}:
            parts = name.split("/")
            if not name or name.startswith("/") or ".." in parts or "" in parts:
                raise ConfigError("files", f"{name!r} must be a relative path inside the work directory")

    def stats(self) -> SandboxStats:
        """Runs, timeouts, suspect timeouts, recoveries and replaced workers so far."""
        return self._health_state().stats()

    def _health_state(self) -> Health:
        with _HEALTH_INIT:
            if self._health is None:
                self._health = Health(self.health_streak)
            return self._health

    def _run_checked(self, request: ExecRequest) -> ExecResult:
        """One run, retried once on fresh workers when its timeout is suspect (sandbox.health)."""
        health = self._health_state()
        result = self._run_one(request)
        if health.needs_recovery(result):
            replaced = self._replace_workers()
            result = self._run_one(request)
            health.recovered(replaced, result)
        return result

    def run_many(
        self, requests: Sequence[ExecRequest | dict], concurrency: int | None = None
    ) -> list[ExecResult]:
        """Run a batch concurrently; results in request order."""
        reqs = [r if isinstance(r, ExecRequest) else ExecRequest(**r) for r in requests]
        workers = concurrency or getattr(self, "pool_size", None) or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rlvr-sandbox") as pool:
            return list(pool.map(lambda r: self.run(**r.model_dump()), reqs))

    def _run_one(self, request: ExecRequest) -> ExecResult:
        """Run one validated request; each backend implements this."""
        raise NotImplementedError

    def _replace_workers(self) -> int:
        """Replace the pool's workers or containers (idle ones now, busy ones when they come
        back); how many.  Backends with a pool implement this."""
        return 0

    def _open_session(self, request: ExecRequest) -> Session:
        """Start one validated interactive request; each backend implements this."""
        raise NotImplementedError(f"the {self.name} sandbox has no sessions")


def compile_failure(compiled: ExecResult) -> ExecResult:
    """The result of a failed compile step: the compiler's own failure is a compile_error;
    a timeout or limit keeps its status."""
    status = "compile_error" if compiled.status == "runtime_error" else compiled.status
    return compiled.model_copy(update={"status": status})


CPU_LIMIT_EXIT = 128 + 24  # killed by SIGXCPU: RLIMIT_CPU reached, threads on several cores used up the time


def classify(
    *,
    exit_code: int | None,
    stdout: bytes,
    stderr: bytes,
    duration_s: float,
    timed_out: bool,
    overflow: bool,
    oom: bool,
    cap: int,
    setup_error: str | None = None,
) -> ExecResult:
    """The one verdict ladder of every backend, decided from what the trusted side observed:
    timeout, output_limit, memory_limit, sandbox_error (the program never ran), then ok or
    runtime_error.  Output is decoded and cut at `cap` bytes per stream."""
    out = stdout[:cap].decode(errors="replace")
    err = stderr[:cap].decode(errors="replace")
    common = {
        "exit_code": exit_code,
        "stdout": out,
        "stderr": err,
        "duration_s": duration_s,
        "truncated": overflow,
    }
    if timed_out or exit_code == CPU_LIMIT_EXIT:
        status = "timeout"
    elif overflow:
        status = "output_limit"
    elif oom or (exit_code not in (None, 0) and _memory_error(err)):
        status = "memory_limit"
    elif setup_error is not None or exit_code is None:
        status = "sandbox_error"
        common["stderr"] = setup_error or err
    else:
        status = "ok" if exit_code == 0 else "runtime_error"
    return ExecResult(status=status, **common)


def classify_fields(fields: dict, cap: int, oom: bool) -> ExecResult:
    """`classify` for a zygote's decoded result; a program the caller ended early is a
    runtime_error, with a note in stderr."""
    if fields["ended"]:
        fields["stderr"] += b"\nsandbox: ended by the caller\n"
    return classify(
        exit_code=fields["exit_code"],
        stdout=fields["stdout"],
        stderr=fields["stderr"],
        duration_s=fields["duration_s"],
        timed_out=fields["timed_out"],
        overflow=fields["overflow"],
        oom=oom,
        cap=cap,
        setup_error=fields["setup_error"],
    )


def _memory_error(stderr: str) -> bool:
    """A Python MemoryError or a C++ std::bad_alloc, as the program's last words."""
    tail = stderr.strip().splitlines()[-1:] or [""]
    return tail[0].startswith("MemoryError") or "std::bad_alloc" in stderr[-2000:]
