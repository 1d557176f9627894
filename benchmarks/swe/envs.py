"""Building the test environments, once per (repo, version), from package registries only.

Local backend: a virtualenv made with an interpreter found on this machine (pyenv, uv-managed or
on PATH), with the spec's pins installed from PyPI; the sandbox sees it read-only and each run
works on its own copy.  Docker backend: an image `rlvr/swe-env:<key>` = the sandbox base image +
one layer holding the interpreter and that virtualenv at the same paths.
"""

from __future__ import annotations

import fcntl
import glob
import io
import os
import re
import shutil
import subprocess
import tarfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rlvr.errors import ConfigError
from rlvr.log import get_logger

from .specs import EnvSpec

log = get_logger(__name__)
SANDBOX_VENV = "/opt/rlvr/venv"  # where the sandbox sees the environment (read-only)
RUN_VENV = "/work/venv"  # each run's private copy
DEFAULT_CACHE = Path(os.environ.get("RLVR_SWE_CACHE", Path.home() / ".cache" / "rlvr" / "swe"))


class EnvBuildError(RuntimeError):
    """An environment could not be built (the message holds pip's last lines)."""


def find_python(version: str) -> Path:
    """An interpreter for `major.minor`: pyenv, uv-managed, then PATH."""
    home = Path.home()
    candidates = [
        *sorted(glob.glob(str(home / f".pyenv/versions/{version}.*/bin/python{version}")), reverse=True),
        *sorted(glob.glob(str(home / f".pyenv/versions/{version}/bin/python{version}"))),
        *sorted(
            glob.glob(str(home / f".local/share/uv/python/cpython-{version}.*/bin/python{version}")),
            reverse=True,
        ),
    ]
    which = shutil.which(f"python{version}")
    if which:
        candidates.append(which)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    raise ConfigError(
        "python", f"no Python {version} interpreter found (pyenv install {version}, or uv python install)"
    )


def interpreter_prefix(python: Path) -> Path:
    """The installation directory the sandbox must see (…/versions/3.9.18 for pyenv)."""
    real = python.resolve()
    return real.parent.parent


@dataclass(frozen=True)
class BuiltEnv:
    spec: EnvSpec
    venv: Path
    python: Path
    prefix: Path

    @property
    def image(self) -> str:
        return f"rlvr/swe-env:{self.spec.key.lower()}"


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_env(spec: EnvSpec, cache_dir: Path = DEFAULT_CACHE) -> BuiltEnv:
    """The virtualenv for `spec`, built on first use (PyPI downloads are cached too)."""
    root = cache_dir / "envs" / spec.key
    venv = root / "venv"
    stamp = root / "ready"
    python = find_python(spec.python)
    with _locked(cache_dir / "envs" / f"{spec.key}.lock"):
        if not stamp.exists():
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            start = time.monotonic()
            log.info("building environment %s with %s", spec.key, python)
            _check(subprocess.run([str(python), "-m", "venv", str(venv)], capture_output=True), "venv")
            requirements = [*spec.packages, *spec.build_packages]
            if requirements:
                env = {
                    **os.environ,
                    "PIP_CACHE_DIR": str(cache_dir / "pip"),
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                }
                # --use-pep517: an sdist (blinker 1.4) becomes a wheel whose modules pip byte-compiles, as
                # current pip does by default; a legacy `setup.py install` leaves no .pyc, and compiling
                # at import time under `filterwarnings = error` turns its invalid escapes into SyntaxErrors
                cmd = [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--use-pep517",
                    *requirements,
                ]
                _check(subprocess.run(cmd, capture_output=True, env=env), "pip install")
            _rewrite_shebangs(venv)
            stamp.write_text(f"built in {time.monotonic() - start:.1f} s\n")
    return BuiltEnv(spec, venv, python, interpreter_prefix(python))


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).decode(errors="replace").strip().splitlines()[-15:]
        raise EnvBuildError(f"{what} failed:\n" + "\n".join(tail))


def _rewrite_shebangs(venv: Path) -> None:
    """Console scripts point at the run's copy of the venv, where they will execute."""
    for script in (venv / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        if data.startswith(b"#!") and b"python" in data.split(b"\n", 1)[0]:
            first, _, rest = data.partition(b"\n")
            script.write_bytes(b"#!" + f"{RUN_VENV}/bin/python".encode() + b"\n" + rest)


# ------------------------------------------------------------------------- docker
def build_image(env: BuiltEnv, base_image: str = "rlvr/sandbox:bookworm") -> str:
    """`base_image` + one layer with the interpreter (same path as here) and the venv at
    SANDBOX_VENV; built once per environment, named by its key."""
    import docker

    client = docker.from_env()
    try:
        client.images.get(env.image)
        return env.image
    except docker.errors.ImageNotFound:
        pass
    libs = _shared_libraries(env.python)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        tar.add(str(env.prefix), arcname="interp", filter=_no_cache)
        # the venv keeps its byte-compiled files: compiling a pin at import time can warn (blinker 1.4's
        # invalid escapes), which a repository's `filterwarnings = error` turns into a collection error
        tar.add(str(env.venv), arcname="venv", filter=_readable)
        for lib in libs:
            tar.add(os.path.realpath(lib), arcname=f"libs/{Path(lib).name}")
        dockerfile = "\n".join(
            [
                f"FROM {base_image}",
                f"COPY interp {env.prefix}",
                f"COPY venv {SANDBOX_VENV}",
                "COPY libs /usr/local/lib/rlvr-swe/",
                "ENV LD_LIBRARY_PATH=/usr/local/lib/rlvr-swe",
                # the sandbox user must be able to walk to the interpreter (e.g. /root is 0700)
                "RUN chmod a+rx " + " ".join(str(p) for p in reversed(env.prefix.parents) if str(p) != "/"),
                "",
            ]
        ).encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    log.info("building image %s", env.image)
    client.images.build(fileobj=context, custom_context=True, tag=env.image, rm=True, network_mode="none")
    return env.image


def _no_cache(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    if "__pycache__" in info.name or info.name.endswith(".pyc"):
        return None
    return _readable(info)


def _readable(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """The container runs as an unprivileged user: everything readable."""
    info.mode |= 0o444 | (0o111 if info.isdir() or info.mode & 0o100 else 0)
    return info


def _shared_libraries(python: Path) -> list[str]:
    """The host libraries the interpreter and its extension modules link to, outside glibc."""
    targets = [str(python.resolve())]
    prefix = interpreter_prefix(python)
    targets += glob.glob(str(prefix / "lib" / "python*" / "lib-dynload" / "*.so"))
    found: set[str] = set()
    for target in targets:
        out = subprocess.run(["ldd", target], capture_output=True, text=True).stdout
        for match in re.finditer(r"=> (/\S+)", out):
            path = match.group(1)
            if not re.search(r"/(libc|libm|libpthread|libdl|librt|libutil|ld-linux)[.-]", path):
                found.add(path)
    return sorted(found)
