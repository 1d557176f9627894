"""What crosses the sandbox boundary: a run request and its result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

Status = Literal[
    "ok", "runtime_error", "compile_error", "timeout", "memory_limit", "output_limit", "sandbox_error"
]
Language = Literal["python", "cpp", "bash"]


TRUSTED_DOC = (
    "Python code of the caller's own, the same in many runs (a test harness), never a model's: "
    "the worker compiles it once, outside the run's limits, and gives each run the compiled code."
)


class PeerProgram(BaseModel):
    """A second program run beside a Python program, in its own sandboxed process: its stdin
    is what the main program writes to fd 3, its stdout is what the main program reads on
    fd 4, its stderr is dropped.  It sees none of the main program's input, output, files
    or memory, and it ends when the main program ends.  The pair shares the run's limits.

    Made for tests that call untrusted code: the tests (main) hold the verdict and talk to
    the candidate (peer) over the two pipes, with no host round trip per call."""

    model_config = ConfigDict(frozen=True)

    code: str
    language: Literal["python", "bash"] = "python"
    files: dict[str, bytes] | None = None
    trusted: bool = Field(False, description=TRUSTED_DOC)


class ExecRequest(BaseModel):
    """One program to run; the arguments of `Sandbox.run`."""

    model_config = ConfigDict(frozen=True)

    code: str
    language: Language = "python"
    stdin: str = ""
    files: dict[str, bytes] | None = None
    timeout_s: float = Field(5.0, gt=0, le=600)
    memory_mb: int = Field(512, ge=16, le=65536)
    peer: PeerProgram | None = None
    trusted: bool = Field(False, description=TRUSTED_DOC)


class ExecResult(BaseModel):
    """How a run ended, decided by the trusted parent, never by the program itself."""

    status: Status
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    truncated: bool = False  # stdout or stderr was cut at the output limit
    # set by a backend that saw the program had already ended at the deadline (sandbox.health)
    _ended_at_deadline: bool = PrivateAttr(False)
