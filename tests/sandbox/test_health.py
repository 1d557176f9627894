"""The health signal: a suspect timeout makes the pool replace its workers and retry the run
once, and `Sandbox.stats()` counts it.  Real backends; the only fake is the injected fault."""

import shutil

import pytest
from sandbox_conftest import docker_sandbox

import rlvr.sandbox.docker as docker_backend
from rlvr.sandbox import get_sandbox
from rlvr.sandbox.health import Health, ended_at_deadline, mark_ended
from rlvr.sandbox.types import ExecResult

LOOP = "while True:\n    pass\n"


def test_the_streak_rule():
    health = Health(streak=2)
    timeout, ok, oom = (
        ExecResult(status="timeout"),
        ExecResult(status="ok"),
        ExecResult(status="memory_limit"),
    )
    # timeouts of a program that always loops, with nothing hostile before them: no recovery
    assert [health.needs_recovery(timeout) for _ in range(2)] == [False, False]
    assert health.needs_recovery(ok) is False
    # a run cut short, then 2 timeouts in a row: the second one is suspect
    assert [health.needs_recovery(r) for r in (oom, timeout, timeout)] == [False, False, True]
    health.recovered(replaced=3, retried=ok)
    # a timeout whose program had ended is suspect at once
    assert health.needs_recovery(mark_ended(ExecResult(status="timeout"))) is True
    health.recovered(replaced=1, retried=timeout)
    stats = health.stats()
    assert (stats.runs, stats.suspect_timeouts, stats.recoveries, stats.replaced_workers) == (7, 2, 2, 4)
    assert (stats.recovered_runs, stats.timeouts) == (1, 4)  # verdicts returned: a retry replaces the first
    assert Health(streak=0).needs_recovery(timeout) is False
    assert not ended_at_deadline(ExecResult(status="timeout"))


@pytest.mark.slow
def test_local_pool_recovers_after_a_streak_of_timeouts():
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    sandbox = get_sandbox("local", pool_size=1, health_streak=2)
    try:
        assert sandbox.run(LOOP, timeout_s=0.5).status == "timeout"  # the hostile run
        workers = sandbox.worker_pids()
        assert sandbox.run(LOOP, timeout_s=0.5).status == "timeout"
        assert sandbox.stats().recoveries == 0
        # the second timeout after the hostile run: workers replaced, the run retried (and it
        # really loops, so the retry times out too)
        assert sandbox.run(LOOP, timeout_s=0.5).status == "timeout"
        stats = sandbox.stats()
        assert (stats.runs, stats.recoveries, stats.suspect_timeouts, stats.recovered_runs) == (3, 1, 1, 0)
        assert stats.replaced_workers == 1 and stats.timeouts == 3
        assert set(sandbox.worker_pids()).isdisjoint(workers)  # a new worker serves now
        r = sandbox.run("print(input()[::-1])", stdin="abc")
        assert (r.status, r.stdout) == ("ok", "cba\n")
    finally:
        sandbox.close()


@pytest.mark.slow
def test_docker_timeout_of_a_finished_program_is_retried(monkeypatch):
    """Injected fault: the container's worker reports the deadline passed although the program
    had exited by itself (as when an exit is reported late).  The backend sees that the program
    ended before any kill, the container is replaced, and the retried run's true verdict comes back."""
    docker_sandbox()  # skips where no daemon or image is available (unless CI requires Docker)
    real = docker_backend.decode_result
    injected = []

    def late_result(payload):
        fields = real(payload)
        if not injected:
            injected.append(fields["stdout"])
            fields["timed_out"] = True
        return fields

    sandbox = get_sandbox("docker", pool_size=1)
    try:
        sandbox.run("print(1)")
        first = set(sandbox.containers())
        monkeypatch.setattr(docker_backend, "decode_result", late_result)
        r = sandbox.run("print(input()[::-1])", stdin="abc")
        assert injected == [b"cba\n"]  # the fault was injected on a run that had finished
        assert (r.status, r.stdout) == ("ok", "cba\n")
        stats = sandbox.stats()
        assert (stats.runs, stats.timeouts, stats.suspect_timeouts, stats.recoveries) == (2, 0, 1, 1)
        assert stats.recovered_runs == 1 and stats.replaced_workers == 1
        assert first.isdisjoint(sandbox.containers())  # the container was replaced
        # a real timeout stays a timeout, with no recovery
        assert sandbox.run(LOOP, timeout_s=1.0).status == "timeout"
        assert sandbox.stats().recoveries == 1
    finally:
        sandbox.close()
