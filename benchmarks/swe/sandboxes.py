"""The sandboxes a SWE test run uses: the project's own backends, with the environment in view.

Local: `LocalSandbox` (per-run mode) plus read-only binds of the interpreter installation and the
environment's virtualenv; nothing else of the host.  Docker: `DockerSandbox` on the environment's
image.  The repository travels as the run's files either way.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from rlvr.sandbox import Sandbox
from rlvr.sandbox.local import LocalSandbox

from .envs import SANDBOX_VENV, BuiltEnv, build_image


class EnvLocalSandbox(LocalSandbox):
    """LocalSandbox that also shows some host directories read-only (at the given paths)."""

    ro_binds: tuple[tuple[str, str], ...] = Field(default=(), description="(host path, sandbox path)")

    def _bwrap_args(self, workdir: Path | None, status_fd: int | None) -> list[str]:
        args = super()._bwrap_args(workdir, status_fd)
        extra = [item for src, dst in self.ro_binds for item in ("--ro-bind", src, dst)]
        at = args.index("--chdir")
        return [*args[:at], *extra, *args[at:]]


LIMITS = {"max_pids": 512, "max_output_bytes": 16 << 20}


def make_sandbox(env: BuiltEnv, backend: str, workers: int, memory_mb: int) -> Sandbox:
    if backend == "local":
        return EnvLocalSandbox(
            mode="per-run",
            memory_mb=memory_mb,
            max_file_mb=512,
            max_open_files=4096,
            ro_binds=((str(env.prefix), str(env.prefix)), (str(env.venv), SANDBOX_VENV)),
            **LIMITS,
        )
    if backend == "docker":
        from rlvr.sandbox.docker import DockerSandbox

        image = build_image(env)
        return DockerSandbox(
            image=image,
            pool_size=workers,
            memory_mb=memory_mb,
            workdir_mb=2048,
            cpus=1.0,
            prestart=False,
            **LIMITS,
        )
    raise ValueError(f"backend: unknown {backend!r}; use local or docker")
