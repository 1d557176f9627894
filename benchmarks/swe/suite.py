"""A built-in SWE suite, written by this project: one small library, bugs injected one at a time
(SWE-smith style), each with a test that catches it.  Generated on the fly into a git repository
(fixed dates, so the commits are the same everywhere); no network.

instances, repos_dir = make_suite(tmp_path)   # then evaluate(instances, "gold", out, repos_dir=repos_dir)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .records import SWEInstance

REPO = "rlvr-suite/minilib"
VERSION = "1.0"

LIBRARY = {
    "minilib/__init__.py": '"""minilib: small helpers (the rlvr SWE suite\'s test subject)."""\n',
    "minilib/text.py": '''"""Text helpers."""

import re


def slugify(text):
    """Lower-case words joined by single dashes."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def truncate(text, width, suffix="..."):
    """At most `width` characters, ending in `suffix` when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - len(suffix))] + suffix
''',
    "minilib/intervals.py": '''"""Interval arithmetic on closed integer intervals."""


def merge(intervals):
    """Merge overlapping or touching intervals, sorted by start."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(item) for item in merged]
''',
    "minilib/stats.py": '''"""Descriptive statistics."""


def mean(values):
    values = list(values)
    if not values:
        raise ValueError("mean of an empty sequence")
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    count = len(ordered)
    if count == 0:
        raise ValueError("median of an empty sequence")
    middle = count // 2
    if count % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
''',
    "tests/test_text.py": """from minilib.text import slugify, truncate


def test_slugify_words():
    assert slugify("Hello, World!") == "hello-world"


def test_truncate_short_text_unchanged():
    assert truncate("abc", 10) == "abc"
""",
    "tests/test_intervals.py": """from minilib.intervals import merge


def test_merge_overlapping():
    assert merge([(5, 8), (1, 3), (2, 4)]) == [(1, 4), (5, 8)]


def test_merge_empty():
    assert merge([]) == []
""",
    "tests/test_stats.py": """import pytest

from minilib.stats import mean, median


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_median_odd():
    assert median([3, 1, 2]) == 2


@pytest.mark.parametrize("func", [mean, median])
def test_empty_raises(func):
    with pytest.raises(ValueError):
        func([])
""",
}

# (instance suffix, file, correct text, buggy text, test file, new test, its id, issue text)
BUGS = [
    (
        "truncate-width",
        "minilib/text.py",
        "    return text[: max(0, width - len(suffix))] + suffix\n",
        "    return text[:width] + suffix\n",
        "tests/test_text.py",
        '\n\ndef test_truncate_respects_width():\n    assert truncate("abcdefghij", 6) == "abc..."\n',
        "tests/test_text.py::test_truncate_respects_width",
        "truncate() returns strings longer than `width`: truncate('abcdefghij', 6) gives 'abcdef...'.",
    ),
    (
        "merge-touching",
        "minilib/intervals.py",
        "        if merged and start <= merged[-1][1]:\n",
        "        if merged and start < merged[-1][1]:\n",
        "tests/test_intervals.py",
        "\n\ndef test_merge_touching():\n    assert merge([(1, 3), (3, 5)]) == [(1, 5)]\n",
        "tests/test_intervals.py::test_merge_touching",
        "merge() keeps touching intervals apart: merge([(1, 3), (3, 5)]) should be [(1, 5)].",
    ),
    (
        "median-even",
        "minilib/stats.py",
        "    return (ordered[middle - 1] + ordered[middle]) / 2\n",
        "    return ordered[middle]\n",
        "tests/test_stats.py",
        "\n\ndef test_median_even():\n    assert median([4, 1, 3, 2]) == 2.5\n",
        "tests/test_stats.py::test_median_even",
        "median() of an even number of values returns the upper middle value instead of the mean of the two.",
    ),
]
PASS_TO_PASS = [
    "tests/test_text.py::test_slugify_words",
    "tests/test_text.py::test_truncate_short_text_unchanged",
    "tests/test_intervals.py::test_merge_overlapping",
    "tests/test_intervals.py::test_merge_empty",
    "tests/test_stats.py::test_mean",
    "tests/test_stats.py::test_median_odd",
    "tests/test_stats.py::test_empty_raises[mean]",
    "tests/test_stats.py::test_empty_raises[median]",
]
_ENV = {
    "GIT_AUTHOR_NAME": "rlvr",
    "GIT_AUTHOR_EMAIL": "rlvr@localhost",
    "GIT_COMMITTER_NAME": "rlvr",
    "GIT_COMMITTER_EMAIL": "rlvr@localhost",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **_ENV, "HOME": str(repo)}
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def make_suite(dest: Path) -> tuple[list[SWEInstance], Path]:
    """Write the suite's repository under `dest/repos/` and return (instances, repos_dir)."""
    repos = Path(dest) / "repos"
    repo = repos / REPO.replace("/", "__")
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _write(repo, LIBRARY)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "minilib")
    instances = []
    for number, (name, path, good, bad, test_file, new_test, test_id, issue) in enumerate(BUGS, 1):
        _git(repo, "checkout", "-q", "-b", f"bug/{name}", "main")
        source = (repo / path).read_text()
        assert good in source, name
        (repo / path).write_text(source.replace(good, bad))
        _git(repo, "commit", "-q", "-am", f"inject bug {name}")
        base = _git(repo, "rev-parse", "HEAD").strip()
        (repo / path).write_text(source)
        patch = _git(repo, "diff", "--", path)
        _git(repo, "checkout", "-q", "--", path)
        (repo / test_file).write_text((repo / test_file).read_text() + new_test)
        test_patch = _git(repo, "diff", "--", test_file)
        _git(repo, "checkout", "-q", "--", test_file)
        instances.append(
            SWEInstance(
                instance_id=f"rlvr-suite__minilib-{number}",
                repo=REPO,
                base_commit=base,
                patch=patch,
                test_patch=test_patch,
                problem_statement=issue,
                version=VERSION,
                FAIL_TO_PASS=[test_id],
                PASS_TO_PASS=[t for t in PASS_TO_PASS if t.startswith(test_file + "::")],
                environment_setup_commit=base,
            )
        )
    _git(repo, "checkout", "-q", "main")
    return instances, repos
