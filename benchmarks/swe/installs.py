"""The repository's install, done once per instance instead of once per evaluation.

`pip install -e .` of the base tree gives the same result for every patch that leaves the
packaging files alone, so it runs once per (environment, instance, base_commit) in the sandbox:
on a copy of the environment's venv kept in the cache, with the files the install wrote into the
tree (egg-info, a setuptools_scm version file, ...) kept next to it.  An evaluation then links
that venv read-only at RUN_VENV (its editable .pth / egg-link point at /work/repo, where each
evaluation's fresh tree is) and adds the kept files to the tree: no pip, no venv copy.

A patch that touches a packaging file or one of the kept files takes the full path (copy the
venv, install) so that what the install makes of the patched tree is what runs.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rlvr.log import get_logger
from rlvr.sandbox import Sandbox

from .envs import RUN_VENV, SANDBOX_VENV, _locked
from .records import SWEInstance
from .specs import EnvSpec

log = get_logger(__name__)
INSTALLS_RO = "/opt/rlvr/installs"  # every prepared install, read-only, in evaluation runs
INSTALLS_RW = "/opt/rlvr/installs-rw"  # the same directory, writable, in the preparing run only
PACKAGING_FILES = frozenset({"setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in"})


@dataclass(frozen=True)
class PreparedInstall:
    name: str  # directory under the installs root
    generated: dict[str, bytes]  # tree path -> content, written by the install

    def covers(self, changed: set[str]) -> bool:
        """True when the install of the base tree is also the install of a tree with `changed`."""
        return not (changed & PACKAGING_FILES or changed & set(self.generated))


def install_name(instance: SWEInstance, spec: EnvSpec) -> str:
    facts = [spec.install, spec.rendered_install_env(), spec.pre_install]
    digest = hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:8]
    return f"{instance.instance_id}-{instance.base_commit[:12]}-{digest}"


def prepare_script(spec: EnvSpec, name: str) -> str:
    """Copy the venv into the cache, install the base tree, keep what the install wrote there."""
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in spec.rendered_install_env().items())
    pre = "\n".join(spec.pre_install)
    target = f"{INSTALLS_RW}/{name}"
    return f"""set -eu
export HOME=/tmp LANG=C.UTF-8 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
export PYTHONDONTWRITEBYTECODE=1
rm -rf {target} && mkdir -p {target}
cp -a {SANDBOX_VENV} {target}/venv
ln -s {INSTALLS_RW}/{name}/venv {RUN_VENV}
export PATH={RUN_VENV}/bin:/usr/bin:/bin VIRTUAL_ENV={RUN_VENV}
cd /work/repo
{exports}
{pre}
touch /work/.rlvr-stamp
{spec.install} </dev/null
find . -path ./.git -prune -o -type f -newer /work/.rlvr-stamp -print0 | tar --null -T - -cf {target}/generated.tar
"""


def _read_generated(path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                files[member.name.removeprefix("./")] = handle.read()
    return files


def prepared_install(
    instance: SWEInstance,
    spec: EnvSpec,
    sandbox: Sandbox,
    base_files: Callable[[], dict[str, bytes]],
    timeout_s: float,
    memory_mb: int,
) -> PreparedInstall | None:
    """The instance's install, made on first use; None where this sandbox cannot share one or
    the install of the base tree fails (the evaluation then installs as it always did)."""
    root = getattr(sandbox, "installs_dir", None)
    if not root or not spec.install.strip():
        return None
    name = install_name(instance, spec)
    folder = Path(root) / name
    with _locked(Path(root) / f"{name}.lock"):
        if not (folder / "ready").exists():
            shutil.rmtree(folder, ignore_errors=True)
            run = sandbox.installer().run(  # type: ignore[attr-defined]
                prepare_script(spec, name),
                language="bash",
                files=base_files(),
                timeout_s=timeout_s,
                memory_mb=memory_mb,
            )
            if run.status != "ok" or run.exit_code != 0:
                tail = (run.stdout + run.stderr).strip().splitlines()[-10:]
                log.warning("%s: preparing the install failed (%s):\n%s", name, run.status, "\n".join(tail))
                shutil.rmtree(folder, ignore_errors=True)
                return None
            (folder / "ready").write_text(f"prepared in {run.duration_s:.1f} s\n")
    return PreparedInstall(name, _read_generated(folder / "generated.tar"))
