"""What crosses the sandbox boundary: a run request and its result."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

Status = Literal[
    "ok", "runtime_error", "compile_error", "timeout", "memory_limit", "output_limit", "sandbox_error"
]
Language = Literal["python", "cpp", "bash"]


class ExecRequest(BaseModel):
    """One program to run; the arguments of `Sandbox.run`."""

    model_config = ConfigDict(frozen=True)

    code: str
    language: Language = "python"
    stdin: str = ""
    files: dict[str, bytes] | None = None
    timeout_s: float = Field(5.0, gt=0, le=600)
    memory_mb: int = Field(512, ge=16, le=65536)


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
