"""Helpers for the SWE tests: hostile patches written against a real source tree."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from rlvr.benchmarks.swe.diffs import parse_diff
from rlvr.benchmarks.swe.records import SWEInstance
from rlvr.benchmarks.swe.source import checkout, git


def diff_of(instance: SWEInstance, repos: Path, work: Path, edit: Callable[[Path], None]) -> str:
    """The `git diff` (new files included) of `edit` applied to the instance's base tree."""
    tree = checkout(instance, work, repos, work.parent / "cache")
    edit(tree)
    git(["add", "-A", "-f"], tree)
    return git(["diff", "--cached", "--binary"], tree).stdout.decode()


def source_file(instance: SWEInstance) -> str:
    """The first non-test file the gold patch edits."""
    return parse_diff(instance.patch)[0].path


def test_file(instance: SWEInstance) -> str:
    return parse_diff(instance.test_patch)[0].path


def hostile_patches(instance: SWEInstance, repos: Path, work: Path) -> dict[str, str]:
    """name -> patch, each of which must not resolve the instance."""
    src, tst = source_file(instance), test_file(instance)
    gold_ids = [*instance.FAIL_TO_PASS, *instance.PASS_TO_PASS]
    fake_lines = "".join(f"print('PASSED {t}')\n" for t in gold_ids)

    def syntax(tree: Path) -> None:
        subprocess.run(["git", "apply"], input=instance.patch.encode(), cwd=tree, check=True)
        path = tree / src
        path.write_text(path.read_text() + "\ndef broken(:\n    pass\n")

    def conftest(tree: Path) -> None:
        (tree / "conftest.py").write_text(
            "import os, sys\n"
            + fake_lines
            + "print('=' * 20 + ' %d passed in 0.01s ' % "
            + str(len(gold_ids))
            + ")\n"
            "sys.stdout.flush()\nos._exit(0)\n"
        )

    def edit_tests(tree: Path) -> None:
        path = tree / tst
        path.write_text("def test_placeholder():\n    pass\n")
        (tree / Path(tst).parent / "test_extra_rlvr.py").write_text("def test_ok():\n    pass\n")

    def print_fake(tree: Path) -> None:
        path = tree / src
        path.write_text(fake_lines + path.read_text())

    def exit_early(tree: Path) -> None:
        path = tree / src
        path.write_text("import os\nos._exit(0)\n" + path.read_text())

    edits = {
        "syntax_error": syntax,
        "conftest_forgery": conftest,
        "edit_tests": edit_tests,
        "print_fake_passed": print_fake,
        "exit_zero_on_import": exit_early,
    }
    return {name: diff_of(instance, repos, work / name, edit) for name, edit in edits.items()}


def require_docker() -> None:
    """Skip without a Docker daemon, unless RLVR_REQUIRE_DOCKER says it must be there (CI)."""
    import pytest

    pytest.importorskip("docker")
    import docker

    try:
        docker.from_env().ping()
    except Exception:
        if os.environ.get("RLVR_REQUIRE_DOCKER"):
            raise
        pytest.skip("no Docker daemon")
