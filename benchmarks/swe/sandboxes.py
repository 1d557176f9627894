"""The sandboxes a SWE test run uses: the project's own backends, with the environment in view.

Local: `LocalSandbox` (per-run mode) plus read-only binds of the interpreter installation and the
environment's virtualenv; nothing else of the host.  Docker: `DockerSandbox` on the environment's
image.  The repository travels as the run's files either way.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PrivateAttr

from rlvr.sandbox import Sandbox
from rlvr.sandbox.local import LocalSandbox

from .envs import SANDBOX_VENV, BuiltEnv, build_image
from .installs import INSTALLS_RO, INSTALLS_RW


class EnvLocalSandbox(LocalSandbox):
    """LocalSandbox that also shows some host directories (at the given paths): read-only, and in
    the sandbox that prepares per-instance installs, the installs directory writable."""

    ro_binds: tuple[tuple[str, str], ...] = Field(default=(), description="(host path, sandbox path)")
    rw_binds: tuple[tuple[str, str], ...] = Field(default=(), description="(host path, sandbox path)")
    installs_dir: str = Field("", description="Host directory of prepared installs (installs.py).")
    _installer: EnvLocalSandbox | None = PrivateAttr(None)

    def _bwrap_args(self, workdir: Path | None, status_fd: int | None) -> list[str]:
        args = super()._bwrap_args(workdir, status_fd)
        extra = [item for src, dst in self.ro_binds for item in ("--ro-bind", src, dst)]
        extra += [item for src, dst in self.rw_binds for item in ("--bind", src, dst)]
        at = args.index("--chdir")
        return [*args[:at], *extra, *args[at:]]

    def installer(self) -> EnvLocalSandbox:
        """The same sandbox with the installs directory writable (for installs.prepared_install)."""
        if self._installer is None:
            self._installer = EnvLocalSandbox(
                **{**self.model_dump(), "rw_binds": ((self.installs_dir, INSTALLS_RW),)}
            )
        return self._installer

    def close(self) -> None:
        if self._installer is not None:
            self._installer.close()
        super().close()


LIMITS = {"max_pids": 512, "max_output_bytes": 16 << 20}


def make_sandbox(env: BuiltEnv, backend: str, workers: int, memory_mb: int) -> Sandbox:
    if backend == "local":
        installs = env.venv.parent / "installs"
        installs.mkdir(exist_ok=True)
        return EnvLocalSandbox(
            mode="per-run",
            memory_mb=memory_mb,
            max_file_mb=512,
            max_open_files=4096,
            ro_binds=(
                (str(env.prefix), str(env.prefix)),
                (str(env.venv), SANDBOX_VENV),
                (str(installs), INSTALLS_RO),
            ),
            installs_dir=str(installs),
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
