"""SandboxFusion's `/run_code` on rlvr's sandbox: request checks and the result mapping.

Honoured: code, language (python, cpp, bash), stdin, run_timeout, memory_limit_MB, files.
Accepted and not honoured: compile_timeout (rlvr's compile step has its own 30 s limit).
Refused with 422: fetch_files that is not empty (rlvr's sandbox returns no files), other languages.

Mapping of rlvr's verdicts: ok -> Finished, return code 0 (Success); runtime_error, memory_limit,
output_limit -> Finished with the program's return code (Failed); timeout -> TimeLimitExceeded
(Failed); compile_error -> compile_result Finished with the compiler's return code and no run_result
(Failed); sandbox_error -> Error (SandboxError).  `message` names rlvr's verdict when it is not ok.
"""

from __future__ import annotations

import base64
import binascii

from rlvr.errors import ConfigError
from rlvr.sandbox import ExecResult, Sandbox
from rlvr.sandbox.languages import LANGUAGES

from .schemas import CommandRunResult, RunCodeRequest, RunCodeResponse


def check_request(request: RunCodeRequest) -> dict[str, bytes]:
    """Refuse what cannot be honoured, naming the field; return the decoded files."""
    if request.language not in LANGUAGES:
        known = ", ".join(sorted(LANGUAGES))
        raise ConfigError(
            "language", f"{request.language!r} is not supported by rlvr's sandbox; known: {known}"
        )
    if request.fetch_files:
        raise ConfigError("fetch_files", "is not supported by rlvr's sandbox (no files come back); send []")
    if request.memory_limit_MB > 0 and not 16 <= request.memory_limit_MB <= 65536:
        raise ConfigError("memory_limit_MB", f"must be -1 or within 16..65536, got {request.memory_limit_MB}")
    files: dict[str, bytes] = {}
    for name, content in request.files.items():
        if content is None:
            continue
        try:
            files[name] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"files.{name}", "is not valid base64") from None
    return files


def run(sandbox: Sandbox, request: RunCodeRequest, files: dict[str, bytes]) -> RunCodeResponse:
    result = sandbox.run(
        request.code,
        request.language,
        request.stdin or "",
        files or None,
        timeout_s=request.run_timeout,
        memory_mb=request.memory_limit_MB if request.memory_limit_MB > 0 else None,
    )
    return to_sandbox_fusion(result, compiled=LANGUAGES[request.language].compile is not None)


def to_sandbox_fusion(result: ExecResult, compiled: bool) -> RunCodeResponse:
    if result.status == "compile_error":
        compile_result = _command("Finished", result)
        return RunCodeResponse(status="Failed", message="compile_error", compile_result=compile_result)
    compile_result = CommandRunResult(status="Finished", return_code=0) if compiled else None
    if result.status == "sandbox_error":
        return RunCodeResponse(
            status="SandboxError",
            message=result.stderr or "sandbox_error",
            compile_result=compile_result,
            run_result=_command("Error", result),
        )
    command_status = "TimeLimitExceeded" if result.status == "timeout" else "Finished"
    ok = result.status == "ok"
    return RunCodeResponse(
        status="Success" if ok else "Failed",
        message="" if ok else result.status,
        compile_result=compile_result,
        run_result=_command(command_status, result),
    )


def _command(status: str, result: ExecResult) -> CommandRunResult:
    return CommandRunResult(
        status=status,  # type: ignore[arg-type]
        execution_time=result.duration_s,
        return_code=result.exit_code,
        stdout=result.stdout,
        stderr=result.stderr,
    )
