"""Docker-specific behaviour: leftover containers of crashed processes are found and removed."""

import pytest
from sandbox_conftest import docker_sandbox

from rlvr.sandbox.docker import LABEL, DockerSandbox, _owner, _pid_namespace


@pytest.mark.slow
def test_leftovers_of_dead_processes_are_removed():
    sandbox = docker_sandbox()  # skips where no daemon or image is available
    client = sandbox._client
    dead_pid = 2**22 + 12345  # above pid_max: no such process
    orphan = client.containers.run(
        sandbox.image,
        ["sleep", "60"],
        detach=True,
        network_mode="none",
        labels={LABEL: f"{dead_pid}@{_pid_namespace()}"},
    )
    # a dead PID of another pid namespace may name a live process there: kept
    foreign = client.containers.run(
        sandbox.image,
        ["sleep", "60"],
        detach=True,
        network_mode="none",
        labels={LABEL: f"{dead_pid}@pid:[1]"},
    )
    mine = client.containers.run(
        sandbox.image, ["sleep", "60"], detach=True, network_mode="none", labels={LABEL: _owner()}
    )
    try:
        assert DockerSandbox.remove_leftovers() >= 1
        ids = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
        assert orphan.id not in ids and mine.id in ids and foreign.id in ids
    finally:
        for c in (orphan, foreign, mine):
            try:
                c.remove(force=True)
            except Exception:
                pass


@pytest.mark.slow
def test_the_run_after_an_output_flood_is_not_a_timeout():
    """A run cut at the output cap used to leave the rest of its output in containerd's
    pipes; the exit of the container's next exec was then reported seconds late, and that
    harmless run came back as a timeout with its output there (issue 14)."""
    sandbox = DockerSandbox(pool_size=1)
    flood = "import sys\nchunk = 'x' * 1024 * 1024\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
    try:
        for i in range(6):
            assert sandbox.run(flood, timeout_s=2.0).status == "output_limit"
            r = sandbox.run(f"print({i})", timeout_s=2.0)
            assert (r.status, r.stdout) == ("ok", f"{i}\n"), f"round {i}: {r}"
    finally:
        sandbox.close()


@pytest.mark.slow
def test_attach_channel_runs_and_sessions():
    """channel="attach" (for a daemon on another machine: no bind-mounted socket) talks to
    the same zygote through the daemon's attach stream."""
    docker_sandbox()  # skips where no daemon or image is available
    sandbox = DockerSandbox(pool_size=1, channel="attach")
    try:
        assert sandbox.run("print(input()[::-1])", stdin="abc").stdout == "cba\n"
        s = sandbox.session(
            "import sys\nfor line in sys.stdin:\n    print(line.upper(), end='', flush=True)\n"
        )
        for word in ("one", "two\x10\x11"):  # ctrl-p ctrl-q: no detach without a tty
            s.send(word + "\n")
            assert s.readline() == (word.upper() + "\n").encode()
        assert s.close().status == "ok"
    finally:
        sandbox.close()
