"""Run one step of the GPU check: a command in its own process group, time-boxed, its output in a
log, its outcome recorded whatever happens, so that the next step always runs.

Standard library only: the check runs before (and despite) the project's own setup.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rlvr.log import get_logger

log = get_logger(__name__)

Status = Literal["ok", "failed", "timeout", "skipped"]
LOG_TAIL_LINES = 40


@dataclass
class Step:
    """What to run and how to read its result.

    `collect(step_dir)` turns the files the command wrote into the step's metrics; an exception
    there fails the step (a command that exits 0 without its result file did not succeed)."""

    name: str
    title: str
    command: list[str]
    timeout_s: float
    collect: Callable[[Path], dict[str, Any]] | None = None
    skip_reason: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    note: str | None = None


@dataclass
class StepResult:
    name: str
    title: str
    status: Status
    seconds: float
    timeout_s: float
    command: list[str]
    returncode: int | None = None
    error: str | None = None
    log: str | None = None
    log_tail: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    gpu_memory: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log (the end is where a failure explains itself)."""
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").rstrip("\n")
    return "\n".join(text.splitlines()[-lines:])


def stop_group(process: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM to the step's whole process group (engines spawn workers), SIGKILL after `grace_s`."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_step(step: Step, step_dir: Path, cwd: Path, grace_s: float = 20.0) -> StepResult:
    """Run `step` with its output in `step_dir/log.txt`; never raises for the step's own failures."""
    step_dir.mkdir(parents=True, exist_ok=True)
    log_path = step_dir / "log.txt"
    result = StepResult(
        step.name, step.title, "skipped", 0.0, step.timeout_s, step.command, log=str(log_path), note=step.note
    )
    if step.skip_reason:
        result.error = step.skip_reason
        log.info("%s: skipped (%s)", step.name, step.skip_reason)
        return result
    log.info("%s: %s (at most %.0f s)", step.name, step.title, step.timeout_s)
    result.status, result.error = _execute(step, step_dir, log_path, cwd, grace_s, result)
    if step.collect is not None:
        try:
            result.metrics = step.collect(step_dir)
        except Exception as error:  # noqa: BLE001 - any unreadable result fails this step only
            if result.status == "ok":
                result.status = "failed"
                result.error = f"its result could not be read: {type(error).__name__}: {error}"
        # a failed step's partial result (written before it failed) is kept too
    if result.status != "ok":
        result.log_tail = tail(log_path)
        last = (result.log_tail or "").strip().splitlines()[-1:]
        if result.status == "failed" and last and result.error and result.error.startswith("exit code"):
            result.error += f": {last[0].strip()[:300]}"  # usually the exception that ended it
    log.info(
        "%s: %s in %.1f s%s",
        step.name,
        result.status,
        result.seconds,
        f" ({result.error})" if result.error else "",
    )
    return result


def _execute(
    step: Step, step_dir: Path, log_path: Path, cwd: Path, grace_s: float, result: StepResult
) -> tuple[Status, str | None]:
    """Run the command; fills in its exit code and wall time, returns (status, error)."""
    started = time.monotonic()
    try:
        with log_path.open("w") as out:
            process = subprocess.Popen(
                step.command,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **step.env},
                start_new_session=True,
            )
            try:
                result.returncode = process.wait(timeout=step.timeout_s)
            except subprocess.TimeoutExpired:
                stop_group(process, grace_s)
                result.returncode = process.returncode
                return "timeout", f"did not finish within its time box of {step.timeout_s:.0f} s; stopped"
            finally:
                result.seconds = round(time.monotonic() - started, 2)
    except OSError as error:  # the command could not start (a missing interpreter, ...)
        result.seconds = round(time.monotonic() - started, 2)
        return "failed", f"could not start {step.command[0]}: {error}"
    _kill_leftovers(process.pid)
    if result.returncode != 0:
        return "failed", f"exit code {result.returncode}"
    return "ok", None


def _kill_leftovers(group: int) -> None:
    """Children the step left behind in its process group would hold GPU memory into the next step."""
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_json(path: Path) -> dict[str, Any]:
    """A step's result file; its absence is the step's failure, named."""
    if not path.exists():
        raise FileNotFoundError(f"{path} was not written")
    return json.loads(path.read_text())
