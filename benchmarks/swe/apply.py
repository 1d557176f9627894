"""Applying a model patch the way the SWE-bench harness does, and undoing what it must not change.

Cascade: `git apply`, `git apply --3way`, `git apply --reject`, `patch --forward --fuzz=5`; the tree
is reset between steps so a half-applied step leaves nothing behind.  `*.orig` / `*.rej` files the
cascade itself produced are removed (as the harness does, they are never part of the change).
Then the guard: every file test_patch touches goes back to the base version, and files the model
created under test directories, and any `conftest.py` it added or changed, are removed/restored
(so a patch cannot plant or rewrite the tests that judge it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .source import git

STEPS: list[tuple[str, list[str]]] = [
    ("git apply", ["git", "apply", "--verbose"]),
    ("git apply --3way", ["git", "apply", "--verbose", "--3way"]),
    ("git apply --reject", ["git", "apply", "--verbose", "--reject"]),
    ("patch --fuzz=5", ["patch", "--batch", "--forward", "--fuzz=5", "-p1", "--no-backup-if-mismatch"]),
]
TEST_DIRS = {"test", "tests", "testing"}


@dataclass
class ApplyOutcome:
    applied: bool
    step: str | None
    log: str
    changed: list[str] = field(default_factory=list)  # paths the model patch changed, added or removed
    removed_by_guard: list[str] = field(default_factory=list)
    restored_by_guard: list[str] = field(default_factory=list)


def _reset(tree: Path) -> None:
    git(["reset", "-q", "--hard", "HEAD"], tree)
    git(["clean", "-q", "-fdx"], tree)


def _status(tree: Path) -> dict[str, str]:
    """path -> porcelain status code of every change against HEAD, untracked files included."""
    out = git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"], tree).stdout
    changes: dict[str, str] = {}
    for entry in out.decode(errors="surrogateescape").split("\0"):
        if len(entry) > 3:
            changes[entry[3:]] = entry[:2]
    return changes


def _run(cmd: list[str], tree: Path, patch_file: Path) -> tuple[int, str]:
    import subprocess

    args = [*cmd, "-i", str(patch_file)] if cmd[0] == "patch" else [*cmd, str(patch_file)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tree), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(args, cwd=tree, capture_output=True, env=env, timeout=120)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def apply_patch(tree: Path, patch: str, patch_file: Path) -> ApplyOutcome:
    """Try each step of the cascade in turn; the first that exits 0 wins."""
    patch_file.write_text(patch, encoding="utf-8", errors="surrogateescape")
    logs: list[str] = []
    for name, cmd in STEPS:
        code, output = _run(cmd, tree, patch_file)
        logs.append(f"$ {name}\n{output.strip()}\n-> exit {code}")
        if code == 0:
            _drop_leftovers(tree)
            changed = sorted(_status(tree))
            if not changed:
                logs.append("the patch applied but changed nothing")
            return ApplyOutcome(True, name, "\n".join(logs), changed)
        _reset(tree)
    return ApplyOutcome(False, None, "\n".join(logs))


def _drop_leftovers(tree: Path) -> None:
    """Remove the *.orig / *.rej files that the cascade made (untracked, so not the model's)."""
    for path, code in _status(tree).items():
        if code == "??" and path.endswith((".orig", ".rej")):
            (tree / path).unlink(missing_ok=True)


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return (
        any(p in TEST_DIRS for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name == "conftest.py"
    )


def guard_tests(tree: Path, outcome: ApplyOutcome, test_patch_files: list[str]) -> None:
    """Undo the model's changes to anything that judges it: files test_patch touches, new files
    under test directories, and conftest.py anywhere."""
    base_files = set(git(["ls-files", "-z"], tree).stdout.decode(errors="surrogateescape").split("\0"))
    protected = set(test_patch_files)
    for path in outcome.changed:
        created = path not in base_files
        if path in protected or PurePosixPath(path).name == "conftest.py" or (created and is_test_path(path)):
            if created:
                target = tree / path
                if target.is_symlink() or target.is_file():
                    target.unlink()
                outcome.removed_by_guard.append(path)
            else:
                git(["checkout", "HEAD", "--", path], tree)
                outcome.restored_by_guard.append(path)


def apply_test_patch(tree: Path, test_patch: str, patch_file: Path) -> tuple[bool, str]:
    patch_file.write_text(test_patch, encoding="utf-8", errors="surrogateescape")
    code, output = _run(["git", "apply", "--verbose"], tree, patch_file)
    return code == 0, f"$ git apply test_patch\n{output.strip()}\n-> exit {code}"


def escaping_symlinks(tree: Path) -> list[str]:
    """Symlinks in the tree that point outside it (a patch may add mode-120000 entries)."""
    bad = []
    root = tree.resolve()
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                target = (path.parent / os.readlink(path)).resolve()
                if root not in target.parents and target != root:
                    bad.append(str(path.relative_to(tree)))
        dirnames[:] = [d for d in dirnames if d != ".git"]
    return bad
