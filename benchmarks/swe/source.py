"""Source trees at an instance's base commit, from local repositories, archives or GitHub.

`--repos DIR` holds, per repository, a git repository named `owner__name` or `owner__name.git`
(bare or not), or, per instance, `<instance_id>.tar.gz` holding the tree at base_commit.
Without DIR the repository is cloned from GitHub once into the cache and reused.
Every tree handed out is a fresh git repository whose HEAD is the base tree, so that
`git apply --3way` and `git status` work the same whatever the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from rlvr.errors import ConfigError
from rlvr.log import get_logger

from .records import SWEInstance

log = get_logger(__name__)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "rlvr",
    "GIT_AUTHOR_EMAIL": "rlvr@localhost",
    "GIT_COMMITTER_NAME": "rlvr",
    "GIT_COMMITTER_EMAIL": "rlvr@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(
    args: list[str], cwd: Path, check: bool = True, input: bytes | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, input=input)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc


class SourceError(RuntimeError):
    """The source tree of an instance cannot be produced."""


def find_local_source(instance: SWEInstance, repos_dir: Path) -> Path | None:
    """The archive or repository for this instance in DIR, or None."""
    archive = repos_dir / f"{instance.instance_id}.tar.gz"
    if archive.is_file():
        return archive
    for name in (instance.repo_dirname, instance.repo_dirname + ".git"):
        candidate = repos_dir / name
        if candidate.is_dir():
            return candidate
    return None


def checkout(instance: SWEInstance, dest: Path, repos_dir: Path | None, cache_dir: Path) -> Path:
    """A fresh git working tree of `instance` at base_commit in `dest` (created)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    source = find_local_source(instance, repos_dir) if repos_dir is not None else None
    if repos_dir is not None and source is None:
        raise SourceError(
            f"{repos_dir} has neither {instance.instance_id}.tar.gz nor a repository "
            f"{instance.repo_dirname}[.git]"
        )
    if source is None:
        source = _github_mirror(instance, cache_dir)
    if source.is_file():
        _extract(source, dest)
    else:
        _export_commit(source, instance.base_commit, dest)
    git(["init", "-q"], dest)
    git(["add", "-A", "-f"], dest)
    git(["commit", "-q", "--no-verify", "--allow-empty", "-m", f"base {instance.base_commit}"], dest)
    return dest


def _extract(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        top = {m.name.split("/", 1)[0] for m in members if m.name not in (".", "")}
        try:
            tar.extractall(dest, filter="data")
        except TypeError:  # Python < 3.12 without extraction filters
            tar.extractall(dest)  # noqa: S202 — archives come from the user's --repos directory
    # an archive holding one folder `name/...` is unpacked into its contents
    if len(top) == 1:
        only = dest / next(iter(top))
        if only.is_dir() and not (dest / ".git").exists() and len(list(dest.iterdir())) == 1:
            for child in only.iterdir():
                child.rename(dest / child.name)
            only.rmdir()


def _export_commit(repo: Path, commit: str, dest: Path) -> None:
    """Write the tree of `commit` into `dest` (works for bare and non-bare repositories)."""
    git_dir = repo if (repo / "HEAD").is_file() and not (repo / ".git").exists() else repo / ".git"
    archive = subprocess.run(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit],
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )
    if archive.returncode != 0:
        raise SourceError(f"{repo}: no commit {commit}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def _github_mirror(instance: SWEInstance, cache_dir: Path) -> Path:
    """A bare clone of the repository from GitHub, made once and fetched as needed."""
    mirror = cache_dir / "repos" / f"{instance.repo_dirname}.git"
    if not mirror.exists():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        url = f"https://github.com/{instance.repo}.git"
        log.info("cloning %s (once, into %s)", url, mirror)
        proc = subprocess.run(["git", "clone", "--bare", "-q", url, str(mirror)], capture_output=True)
        if proc.returncode != 0:
            raise SourceError(f"cannot clone {url}: {proc.stderr.decode(errors='replace').strip()}")
    has = subprocess.run(["git", f"--git-dir={mirror}", "cat-file", "-e", instance.base_commit + "^{commit}"])
    if has.returncode != 0:
        subprocess.run(["git", f"--git-dir={mirror}", "fetch", "-q", "origin", instance.base_commit])
    return mirror


def require_repos_dir(path: Path | None) -> Path | None:
    if path is not None and not path.is_dir():
        raise ConfigError("repos", f"{path} is not a directory")
    return path
