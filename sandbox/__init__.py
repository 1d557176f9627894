"""Sandboxes: run untrusted code with no network, bounded resources and no view of the host.

from rlvr.sandbox import get_sandbox
sb = get_sandbox("local")
sb.run("print(input()[::-1])", stdin="abc").stdout   # 'cba\\n'
"""

from __future__ import annotations

from rlvr.registry import Registry

from .base import Sandbox
from .local import LocalSandbox
from .types import ExecRequest, ExecResult, PeerProgram

SANDBOXES: Registry[Sandbox] = Registry("sandbox", entry_point_group="rlvr.sandboxes")
SANDBOXES.register("local", LocalSandbox)


def _docker(**options: object) -> Sandbox:
    from .docker import DockerSandbox  # imported on use: the docker SDK is an optional extra

    return DockerSandbox(**options)


SANDBOXES.register("docker", _docker)


def get_sandbox(name: str = "local", **defaults: object) -> Sandbox:
    """A sandbox backend by name (`local`, `docker`), with default limits as options."""
    return SANDBOXES.get(name, **defaults)


__all__ = ["ExecRequest", "ExecResult", "LocalSandbox", "PeerProgram", "Sandbox", "get_sandbox"]
