"""SWE instances as benchmark problems: `rlvr bench run swe-lite` (or `swe-verified`, or a file of
records) with SWE-bench's "oracle" retrieval.

The question is the issue text plus the current contents of every file the gold patch edits, read
from the source tree at base_commit (`--repos DIR`, or GitHub); the answer is the instance record,
which the `swe` verifier evaluates the generated patch against, as `rlvr swe eval` does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from rlvr.errors import InputFileError

from ..schema import BenchmarkSpec, Problem
from .diffs import parse_diff
from .envs import DEFAULT_CACHE
from .records import SWEInstance, load_instances
from .source import checkout

SWE_FIELDS = frozenset({"instance_id", "base_commit", "patch", "test_patch", "FAIL_TO_PASS"})


def oracle_prompt(instance: SWEInstance, tree: Path) -> str:
    """Issue text and the files the gold patch edits (as they are at base_commit), numbered."""
    parts = [f"<issue>\n{instance.problem_statement.strip()}\n</issue>", "<code>"]
    for diff in parse_diff(instance.patch):
        path = diff.old_path
        if path is None or not (tree / path).is_file():
            continue  # a file the gold patch creates: nothing to show
        text = (tree / path).read_text(encoding="utf-8", errors="replace")
        numbered = "\n".join(f"{n} {line}" for n, line in enumerate(text.splitlines(), 1))
        parts.append(f"[start of {path}]\n{numbered}\n[end of {path}]")
    parts.append("</code>")
    return "\n".join(parts)


def swe_problems(
    spec: BenchmarkSpec,
    data_dir: str | Path | None,
    limit: int | None,
    repos_dir: str | Path | None,
    cache_dir: Path = DEFAULT_CACHE,
) -> list[Problem]:
    """The first `limit` instances of the benchmark, each with its oracle prompt."""
    source: str | Path | None = spec.path
    if source is None and data_dir is not None:
        found = [Path(data_dir) / n for n in spec.local_files if (Path(data_dir) / n).is_file()]
        if not found:
            raise InputFileError(
                f"{data_dir}: no file for benchmark {spec.name!r} (looked for {', '.join(spec.local_files)})"
            )
        source = found[0]
    if source is None:
        source = spec.hub_id or spec.name
    instances = load_instances(source, split=spec.hub_split)[:limit]
    repos = Path(repos_dir) if repos_dir is not None else None
    problems = []
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # many small files: RAM is ~5x faster
    work = Path(tempfile.mkdtemp(prefix="rlvr-swe-oracle-", dir=shm))
    try:
        for inst in instances:
            tree = checkout(inst, work / "repo", repos, cache_dir)
            problems.append(
                Problem(
                    id=inst.instance_id,
                    question=oracle_prompt(inst, tree),
                    answer=inst.model_dump(mode="json"),
                    verifier="swe",
                    metadata={"repo": inst.repo, "version": inst.version, "kind": "swe"},
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return problems
