"""Evaluating many predictions: environments once per (repo, version), instances in parallel,
a resumable output directory and SWE-bench's run report.

OUT/report.json   SWE-bench's report fields (counts, *_ids, schema_version)
OUT/<id>/         patch.diff, apply.log, test_output.txt, report.json
An instance whose OUT/<id>/report.json exists for the same patch is not run again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlvr.errors import ConfigError
from rlvr.log import get_logger
from rlvr.sandbox import Sandbox

from .envs import DEFAULT_CACHE, BuiltEnv, build_env
from .evaluate import EvalSettings, InstanceResult, evaluate_instance
from .records import Prediction, SWEInstance, empty_predictions, gold_predictions, load_predictions
from .sandboxes import make_sandbox
from .specs import EnvSpec, spec_for

log = get_logger(__name__)
SCHEMA_VERSION = 2


def resolve_predictions(predictions: str | Path | dict[str, Prediction], instances: Sequence[SWEInstance]):
    if isinstance(predictions, dict):
        return predictions
    if str(predictions) == "gold":
        return gold_predictions(instances)
    if str(predictions) == "empty":
        return empty_predictions(instances)
    return load_predictions(predictions)


def _previous(out_dir: Path, prediction: Prediction) -> InstanceResult | None:
    """A finished result of the same patch from an earlier (maybe interrupted) run."""
    folder = out_dir / prediction.instance_id
    try:
        if (folder / "patch.diff").read_text(encoding="utf-8") != (prediction.model_patch or ""):
            return None
        return InstanceResult.model_validate_json((folder / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValidationError, ValueError):
        return None


class _Environments:
    """Built environments and their sandboxes, made on first need, shared by the workers."""

    def __init__(self, backend: str, workers: int, memory_mb: int, cache_dir: Path) -> None:
        self.backend, self.workers, self.memory_mb, self.cache_dir = backend, workers, memory_mb, cache_dir
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._made: dict[str, tuple[BuiltEnv, Sandbox] | Exception] = {}

    def get(self, spec: EnvSpec) -> tuple[BuiltEnv, Sandbox]:
        with self._lock:
            lock = self._locks.setdefault(spec.key, threading.Lock())
        with lock:
            if spec.key not in self._made:
                try:
                    env = build_env(spec, self.cache_dir)
                    self._made[spec.key] = (
                        env,
                        make_sandbox(env, self.backend, self.workers, self.memory_mb),
                    )
                except Exception as exc:  # every instance of this environment reports it
                    self._made[spec.key] = exc
            made = self._made[spec.key]
        if isinstance(made, Exception):
            raise made
        return made

    def close(self) -> None:
        for made in self._made.values():
            if not isinstance(made, Exception):
                close = getattr(made[1], "close", None)
                if close is not None:
                    close()


def evaluate(
    instances: Sequence[SWEInstance],
    predictions: str | Path | dict[str, Prediction],
    out_dir: str | Path,
    *,
    backend: str = "local",
    workers: int = 1,
    repos_dir: str | Path | None = None,
    cache_dir: str | Path = DEFAULT_CACHE,
    spec_dirs: tuple[str, ...] = (),
    timeout_s: float = 600.0,
    memory_mb: int = 4096,
    guard_tests: bool = True,
    run_id: str = "rlvr",
    on_result: Callable[[InstanceResult], None] | None = None,
) -> dict[str, Any]:
    """Evaluate predictions on instances; returns (and writes) the run report."""
    if backend not in ("local", "docker"):
        raise ConfigError("backend", f"unknown {backend!r}; use local or docker")
    if workers < 1:
        raise ConfigError("workers", f"must be at least 1, got {workers}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    preds = resolve_predictions(predictions, instances)
    settings = EvalSettings(
        timeout_s=timeout_s,
        memory_mb=memory_mb,
        guard_tests=guard_tests,
        repos_dir=Path(repos_dir) if repos_dir is not None else None,
        cache_dir=Path(cache_dir),
    )
    if settings.repos_dir is not None and not settings.repos_dir.is_dir():
        raise ConfigError("repos", f"{settings.repos_dir} is not a directory")
    todo = [i for i in instances if i.instance_id in preds]
    results: dict[str, InstanceResult] = {}
    envs = _Environments(backend, workers, memory_mb, settings.cache_dir)

    def one(instance: SWEInstance) -> InstanceResult:
        prediction = preds[instance.instance_id]
        previous = _previous(out, prediction)
        if previous is not None:
            return previous
        name = prediction.model_name_or_path
        try:
            patch = prediction.model_patch
            if patch and patch.strip():
                spec = spec_for(instance, spec_dirs)
                _, sandbox = envs.get(spec)
            else:
                spec, sandbox = None, None  # empty patches need no environment
            return evaluate_instance(
                instance, patch, spec, sandbox, settings, out / instance.instance_id, name
            )  # type: ignore[arg-type]
        except Exception as exc:
            result = InstanceResult(
                instance_id=instance.instance_id,
                model_name_or_path=name,
                outcome="error",
                error=f"{type(exc).__name__}: {exc}",
            )
            folder = out / instance.instance_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "patch.diff").write_text(prediction.model_patch or "", encoding="utf-8")
            (folder / "report.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
            return result

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rlvr-swe") as pool:
            for result in pool.map(one, todo):
                results[result.instance_id] = result
                log.info(
                    "%s: %s%s",
                    result.instance_id,
                    result.outcome,
                    f" ({result.error})" if result.error else "",
                )
                if on_result is not None:
                    on_result(result)
                (out / "report.json").write_text(
                    json.dumps(make_report(instances, preds, results, run_id), indent=2)
                )
    finally:
        envs.close()
    report = make_report(instances, preds, results, run_id)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    return report


def make_report(
    instances: Sequence[SWEInstance],
    predictions: dict[str, Prediction],
    results: dict[str, InstanceResult],
    run_id: str = "rlvr",
) -> dict[str, Any]:
    """SWE-bench's run report: counts and id lists, plus per-instance wall times."""
    ids = [i.instance_id for i in instances]
    by = {
        k: sorted(r.instance_id for r in results.values() if r.outcome == k)
        for k in ("resolved", "unresolved", "empty_patch", "error")
    }
    completed = sorted(by["resolved"] + by["unresolved"])
    finished = set(completed) | set(by["empty_patch"]) | set(by["error"])
    submitted = sorted(i for i in ids if i in predictions)
    return {
        "total_instances": len(ids),
        "submitted_instances": len(submitted),
        "completed_instances": len(completed),
        "resolved_instances": len(by["resolved"]),
        "unresolved_instances": len(by["unresolved"]),
        "empty_patch_instances": len(by["empty_patch"]),
        "error_instances": len(by["error"]),
        "completed_ids": completed,
        "incomplete_ids": sorted(i for i in ids if i not in finished),
        "empty_patch_ids": by["empty_patch"],
        "submitted_ids": submitted,
        "resolved_ids": by["resolved"],
        "unresolved_ids": by["unresolved"],
        "error_ids": by["error"],
        "errors": {r.instance_id: r.error for r in results.values() if r.outcome == "error"},
        "wall_s": {r.instance_id: r.wall_s for r in results.values()},
        "run_id": run_id,
        "schema_version": SCHEMA_VERSION,
    }
