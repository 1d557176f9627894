"""The sandbox's health signal: counters, and when to replace the workers and retry a run.

A timeout verdict is suspect when the backend saw the program had already ended at the
deadline (its verdict was lost on the way, e.g. Docker reporting an exec's exit late), or
when `streak` timeouts in a row follow a run that was cut short (a hostile program may have
left a worker unusable).  Then the pool replaces its workers or containers and the run is
retried once: a reward that silently turns into a timeout is the worst failure a verifier
can have."""

from __future__ import annotations

import threading

from pydantic import BaseModel

from rlvr.log import get_logger

from .types import ExecResult

log = get_logger(__name__)
CUT_SHORT = ("timeout", "memory_limit", "output_limit", "sandbox_error")


class SandboxStats(BaseModel):
    """What one sandbox has done since it was made (`Sandbox.stats()`)."""

    runs: int = 0  # runs asked for (a retry is not counted again)
    timeouts: int = 0  # timeout verdicts returned
    suspect_timeouts: int = 0  # timeouts whose program had ended, or a streak after a hostile run
    recoveries: int = 0  # times the workers were replaced and a run retried
    replaced_workers: int = 0  # workers or containers replaced by those recoveries
    recovered_runs: int = 0  # retried runs that then came back with another verdict than timeout


class Health:
    """Thread-safe counters and the recovery rule of one sandbox."""

    def __init__(self, streak: int) -> None:
        self.streak = streak
        self._lock = threading.Lock()
        self._stats = SandboxStats()
        self._cut_short_run = 0  # runs cut short in a row, the latest included
        self._timeouts_run = 0  # timeouts in a row, the latest included

    def needs_recovery(self, result: ExecResult) -> bool:
        """Count a run's first result; True when its workers should be replaced and it retried."""
        with self._lock:
            self._stats.runs += 1
            self._count(result)
            ended = result.status == "timeout" and ended_at_deadline(result)
            streak = (
                self.streak > 0
                and self._timeouts_run >= self.streak
                and self._cut_short_run > self.streak  # a hostile run came before the streak
            )
            if not (ended or streak):
                return False
            self._stats.suspect_timeouts += 1
            self._cut_short_run = self._timeouts_run = 0
            why = "the program had ended at the deadline" if ended else f"{self.streak} timeouts in a row"
            log.warning("sandbox: suspect timeout (%s): replacing the workers and retrying the run", why)
            return True

    def recovered(self, replaced: int, retried: ExecResult) -> None:
        with self._lock:
            self._stats.recoveries += 1
            self._stats.replaced_workers += replaced
            self._stats.timeouts -= 1  # the first verdict is not returned; the retry's is
            self._count(retried)
            if retried.status != "timeout":
                self._stats.recovered_runs += 1

    def _count(self, result: ExecResult) -> None:
        timeout = result.status == "timeout"
        self._stats.timeouts += timeout
        self._cut_short_run = self._cut_short_run + 1 if result.status in CUT_SHORT else 0
        self._timeouts_run = self._timeouts_run + 1 if timeout else 0

    def stats(self) -> SandboxStats:
        with self._lock:
            return self._stats.model_copy()


def mark_ended(result: ExecResult) -> ExecResult:
    """Record that the backend saw the program had ended when its deadline passed."""
    result._ended_at_deadline = True
    return result


def ended_at_deadline(result: ExecResult) -> bool:
    return bool(getattr(result, "_ended_at_deadline", False))
