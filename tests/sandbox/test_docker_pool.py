"""Docker-specific behaviour: leftover containers of crashed processes are found and removed."""

import os

import pytest
from conftest import docker_sandbox

from rlvr.sandbox.docker import LABEL, DockerSandbox


@pytest.mark.slow
def test_leftovers_of_dead_processes_are_removed():
    sandbox = docker_sandbox()  # skips where no daemon or image is available
    client = sandbox._client
    dead_pid = 2**22 + 12345  # above pid_max: no such process
    orphan = client.containers.run(
        sandbox.image, ["sleep", "60"], detach=True, network_mode="none", labels={LABEL: str(dead_pid)}
    )
    mine = client.containers.run(
        sandbox.image, ["sleep", "60"], detach=True, network_mode="none", labels={LABEL: str(os.getpid())}
    )
    try:
        assert DockerSandbox.remove_leftovers() >= 1
        ids = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
        assert orphan.id not in ids and mine.id in ids
    finally:
        for c in (orphan, mine):
            try:
                c.remove(force=True)
            except Exception:
                pass
