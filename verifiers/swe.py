"""SWE rewards: `swe` runs the instance's tests on the patch; `swe_similarity` is SWE-RL's cheap
reward (no execution).  The completion holds a diff (```diff fence, <patch> tags or a bare
unified diff); the answer is the instance record (a dict, its JSON, or a `SWEInstance`)."""

from __future__ import annotations

import difflib
import json
import threading
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from rlvr.errors import ConfigError
from rlvr.types import VerifyResult

from .base import Verifier

_SANDBOXES: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def _instance(answer: Any):
    from rlvr.benchmarks.swe.records import SWEInstance, parse_instance

    if isinstance(answer, SWEInstance):
        return answer
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError:
            raise ConfigError("answer", "must be a SWE instance record (dict or JSON)") from None
    if not isinstance(answer, dict):
        raise ConfigError("answer", f"must be a SWE instance record, got {type(answer).__name__}")
    return parse_instance(answer, "answer")


class SWEVerifier(Verifier):
    """1.0 iff the patch resolves the instance: every FAIL_TO_PASS and PASS_TO_PASS test passes
    in a sandboxed run (see docs/swe.md); details say how it applied and each test's status."""

    name: ClassVar[str] = "swe"

    timeout_s: float = Field(900.0, gt=0, description="Hard limit per item (environment build excluded).")
    backend: str = Field("local", pattern="^(local|docker)$")
    repos_dir: str | None = Field(None, description="Offline sources (see `rlvr swe eval --repos`).")
    cache_dir: str | None = None
    spec_dirs: tuple[str, ...] = ()
    test_timeout_s: float = Field(600.0, gt=0, le=600)
    memory_mb: int = Field(4096, ge=256)
    guard_tests: bool = True

    def check(self, completion: str, answer: Any) -> VerifyResult:
        from rlvr.benchmarks.swe.diffs import extract_diff
        from rlvr.benchmarks.swe.envs import DEFAULT_CACHE, build_env
        from rlvr.benchmarks.swe.evaluate import EvalSettings, evaluate_instance
        from rlvr.benchmarks.swe.sandboxes import make_sandbox
        from rlvr.benchmarks.swe.specs import spec_for

        try:  # errors travel back as results: ConfigError does not survive pickling
            instance = _instance(answer)
            spec = spec_for(instance, self.spec_dirs)
        except ConfigError as exc:
            return VerifyResult.failure("error", error=str(exc))
        patch = extract_diff(completion)
        if patch is None:
            return VerifyResult.failure("no_answer", outcome="empty_patch")
        cache = Path(self.cache_dir) if self.cache_dir else DEFAULT_CACHE
        try:
            with _LOCK:
                key = (spec.key, self.backend)
                if key not in _SANDBOXES:
                    _SANDBOXES[key] = make_sandbox(build_env(spec, cache), self.backend, 1, self.memory_mb)
                sandbox = _SANDBOXES[key]
        except Exception as exc:
            return VerifyResult.failure("error", error=f"environment: {type(exc).__name__}: {exc}")
        settings = EvalSettings(
            timeout_s=self.test_timeout_s,
            memory_mb=self.memory_mb,
            guard_tests=self.guard_tests,
            repos_dir=Path(self.repos_dir) if self.repos_dir else None,
            cache_dir=cache,
        )
        result = evaluate_instance(instance, patch, spec, sandbox, settings)
        details = {
            "outcome": result.outcome,
            "apply_step": result.apply_step,
            "install": result.install,
            "tests_status": result.tests_status,
            "invalid_run": result.invalid_run,
            "error": result.error,
            "wall_s": result.wall_s,
            "test_wall_s": result.test_wall_s,
        }
        reason = None if result.resolved else ("error" if result.outcome == "error" else "mismatch")
        return VerifyResult(
            score=1.0 if result.resolved else 0.0,
            correct=result.resolved,
            extracted=patch[:2000],
            reason=reason,
            details=details,
        )


def _changes(patch: str) -> dict[str, str]:
    """path -> the change's hunk bodies (line numbers dropped: they shift between patches)."""
    from rlvr.benchmarks.swe.diffs import parse_diff

    out: dict[str, str] = {}
    for f in parse_diff(patch):
        body = "\n".join(line for line in f.lines if not line.startswith("@@"))
        out[f.path] = out.get(f.path, "") + body
    return out


class SWESimilarityVerifier(Verifier):
    """SWE-RL's reward: per file, difflib similarity of predicted vs gold change (a file edited
    on one side only scores 0), averaged over the union of files; -1 for no parseable patch."""

    name: ClassVar[str] = "swe_similarity"

    def check(self, completion: str, answer: Any) -> VerifyResult:
        from rlvr.benchmarks.swe.diffs import DiffParseError, extract_diff

        gold_patch = (
            answer if isinstance(answer, str) and answer.lstrip().startswith(("diff", "---")) else None
        )
        if gold_patch is None:
            gold_patch = _instance(answer).patch
        patch = extract_diff(completion)
        try:
            predicted = _changes(patch) if patch else None
        except DiffParseError:
            predicted = None
        if not predicted:
            return VerifyResult(
                score=-1.0, correct=False, reason="format", details={"error": "no parseable diff"}
            )
        gold = _changes(gold_patch)
        per_file = {}
        for path in sorted(set(predicted) | set(gold)):
            if path in predicted and path in gold:
                per_file[path] = difflib.SequenceMatcher(
                    None, predicted[path], gold[path], autojunk=False
                ).ratio()
            else:
                per_file[path] = 0.0
        score = sum(per_file.values()) / len(per_file)
        return VerifyResult(
            score=score,
            correct=score == 1.0,
            extracted=patch[:2000],
            reason=None if score == 1.0 else "mismatch",
            details={"per_file": per_file},
        )
