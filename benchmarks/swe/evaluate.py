"""Evaluating one prediction on one instance: tree, patches, sandboxed test run, grade.

record -> source tree at base_commit -> cached environment -> patch cascade -> guard ->
test_patch -> tests in the sandbox (no network) -> per-test results from the plugin's
nonce-tagged stream, cross-checked with the raw-log parser -> verdict.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from rlvr.log import get_logger
from rlvr.sandbox import Sandbox
from rlvr.sandbox._tree import remove_tree

from . import apply as patching
from .diffs import DiffParseError, files_to_test, touched_files
from .envs import RUN_VENV, SANDBOX_VENV
from .grading import LOG_PARSERS, grade, read_structured
from .installs import INSTALLS_RO, prepared_install
from .records import SWEInstance
from .source import checkout
from .specs import EnvSpec

log = get_logger(__name__)
PLUGIN = Path(__file__).with_name("rlvr_swe_result.py")
Outcome = Literal["resolved", "unresolved", "empty_patch", "error"]


class EvalSettings(BaseModel):
    timeout_s: float = Field(600.0, gt=0, le=600, description="Per instance: install + tests.")
    memory_mb: int = Field(4096, ge=256, le=65536)
    guard_tests: bool = Field(True, description="Undo model changes to test files and conftest.py.")
    repos_dir: Path | None = None
    cache_dir: Path
    work_parent: Path = Field(
        Path("/dev/shm"),
        description="Where each evaluation's tree is made (RAM: on a disk, the checkout's many small "
        "files cost most of a second); cache_dir/work when it is not writable.",
    )


class InstanceResult(BaseModel):
    """What `OUT/<instance_id>/report.json` holds."""

    instance_id: str
    model_name_or_path: str = "unknown"
    outcome: Outcome
    resolved: bool = False
    error: str | None = None
    patch_applied: bool = False
    apply_step: str | None = None
    guard: dict[str, list[str]] = Field(default_factory=dict)
    tests_status: dict[str, Any] = Field(default_factory=dict)
    results_source: str | None = None
    invalid_run: str | None = None
    parser_mismatches: list[dict[str, Any]] = Field(default_factory=list)
    forged_result_lines: int = 0
    sandbox_status: str | None = None
    exit_code: int | None = None
    test_wall_s: float | None = None
    install: Literal["prepared", "full", "none"] | None = None
    wall_s: float = 0.0


def run_script(spec: EnvSpec, test_files: list[str], prepared: str | None = None) -> str:
    """The bash program the sandbox runs: private venv copy, offline install, tests; or, with a
    prepared install (installs.py), its venv linked read-only and the tests."""
    exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in spec.rendered_install_env().items())
    pre = "\n".join(spec.pre_install)
    tests = " ".join(shlex.quote(f) for f in spec.test_targets(test_files))
    # the install writes into the venv: a private copy; with nothing to install the shared one will do
    copy = "cp -a" if spec.install.strip() else "ln -s"
    venv, install = SANDBOX_VENV, spec.install or "true"
    if prepared is not None:
        copy, venv, install = "ln -s", f"{INSTALLS_RO}/{prepared}/venv", "true  # prepared once"
    return f"""set -u
export HOME=/tmp LANG=C.UTF-8 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
export PYTHONDONTWRITEBYTECODE=1
{copy} {venv} {RUN_VENV} || {{ echo "rlvr: cannot copy the environment" >&2; exit 97; }}
export PATH={RUN_VENV}/bin:/usr/bin:/bin VIRTUAL_ENV={RUN_VENV}
cd /work/repo || exit 98
{exports}
{pre}
echo ">>>>> rlvr: install"
{install} </dev/null 2>&1 | tail -n 30
echo ">>>>> rlvr: tests"
export PYTHONPATH=/work/.rlvr PYTEST_PLUGINS=rlvr_swe_result
exec {spec.test_cmd} {tests}
"""


def _tree_files(tree: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree)
        if rel.parts[0] == ".git" or path.is_symlink() or not path.is_file():
            continue
        files[f"repo/{rel.as_posix()}"] = path.read_bytes()
    return files


def evaluate_instance(
    instance: SWEInstance,
    model_patch: str | None,
    spec: EnvSpec,
    sandbox: Sandbox,
    settings: EvalSettings,
    out_dir: Path | None = None,
    model_name: str = "unknown",
) -> InstanceResult:
    """Evaluate one prediction; every failure becomes this instance's `error`, never an exception."""
    start = time.monotonic()
    base = {"instance_id": instance.instance_id, "model_name_or_path": model_name}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "patch.diff").write_text(model_patch or "", encoding="utf-8")
    if not model_patch or not model_patch.strip():
        return InstanceResult(**base, outcome="empty_patch", wall_s=time.monotonic() - start)
    work = Path(tempfile.mkdtemp(prefix=f"{instance.instance_id}-", dir=_work_root(settings)))
    logs: list[str] = []
    try:
        result = _evaluate(instance, model_patch, spec, sandbox, settings, work, logs, base, out_dir)
    except Exception as exc:  # one instance's failure must not end the run
        log.exception("%s: evaluation failed", instance.instance_id)
        result = InstanceResult(**base, outcome="error", error=f"{type(exc).__name__}: {exc}")
    finally:
        remove_tree(work)  # the tests ran there: a tree too deep for shutil.rmtree is possible
    if out_dir is not None:
        (out_dir / "apply.log").write_text("\n".join(logs) + "\n", encoding="utf-8")
    result.wall_s = round(time.monotonic() - start, 3)
    if out_dir is not None:
        (out_dir / "report.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return result


def _work_root(settings: EvalSettings) -> Path:
    if os.access(settings.work_parent, os.W_OK):
        return settings.work_parent
    root = settings.cache_dir / "work"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _evaluate(
    instance: SWEInstance,
    model_patch: str,
    spec: EnvSpec,
    sandbox: Sandbox,
    settings: EvalSettings,
    work: Path,
    logs: list[str],
    base: dict[str, str],
    out_dir: Path | None,
) -> InstanceResult:
    try:
        touched_files(model_patch)
    except DiffParseError as exc:
        logs.append(f"not a unified diff: {exc}")
        return InstanceResult(**base, outcome="error", error=f"model_patch is not a unified diff: {exc}")
    tree = checkout(instance, work / "repo", settings.repos_dir, settings.cache_dir)
    prepared = prepared_install(
        instance, spec, sandbox, lambda: _tree_files(tree), settings.timeout_s, settings.memory_mb
    )
    applied = patching.apply_patch(tree, model_patch, work / "model.diff")
    logs.append(applied.log)
    if not applied.applied:
        return InstanceResult(**base, outcome="error", error="the patch does not apply (every step failed)")
    test_patch_files = touched_files(instance.test_patch)
    if settings.guard_tests:
        patching.guard_tests(tree, applied, test_patch_files)
        if applied.removed_by_guard or applied.restored_by_guard:
            logs.append(f"guard: removed {applied.removed_by_guard}, restored {applied.restored_by_guard}")
    ok, test_log = patching.apply_test_patch(tree, instance.test_patch, work / "test.diff")
    logs.append(test_log)
    common = {
        **base,
        "patch_applied": True,
        "apply_step": applied.step,
        "guard": {"removed": applied.removed_by_guard, "restored": applied.restored_by_guard},
    }
    if not ok:
        return InstanceResult(
            **common, outcome="error", error="test_patch does not apply after the model patch"
        )
    escaping = patching.escaping_symlinks(tree)
    if escaping:
        return InstanceResult(**common, outcome="error", error=f"symlinks leave the tree: {escaping[:5]}")
    files = _tree_files(tree)
    files[".rlvr/rlvr_swe_result.py"] = PLUGIN.read_bytes()
    changed = {*touched_files(model_patch), *test_patch_files}
    if prepared is not None and prepared.covers(changed):
        files.update({f"repo/{path}": data for path, data in prepared.generated.items()})
        common["install"] = "prepared"
    else:
        prepared = None
        common["install"] = "full" if spec.install.strip() else "none"
    nonce = secrets.token_hex(16)
    test_files = files_to_test(instance.test_patch)
    run = sandbox.run(
        run_script(spec, test_files, prepared.name if prepared is not None else None),
        language="bash",
        stdin=nonce + "\n",
        files=files,
        timeout_s=settings.timeout_s,
        memory_mb=settings.memory_mb,
    )
    if out_dir is not None:
        (out_dir / "test_output.txt").write_text(
            run.stdout + "\n" + _without_nonce(run.stderr, nonce), encoding="utf-8"
        )
    common.update(sandbox_status=run.status, exit_code=run.exit_code, test_wall_s=round(run.duration_s, 3))
    if run.status in ("timeout", "memory_limit", "output_limit", "sandbox_error"):
        reason = {
            "timeout": f"time limit of {settings.timeout_s:g} s exceeded",
            "memory_limit": f"memory limit of {settings.memory_mb} MiB exceeded",
            "output_limit": "the test output exceeded the output limit",
            "sandbox_error": f"the sandbox failed: {run.stderr.strip()[:300]}",
        }[run.status]
        return InstanceResult(**common, outcome="error", error=reason)
    structured = read_structured(run.stderr, nonce)
    parser = LOG_PARSERS[spec.log_parser]
    graded = grade(
        instance.FAIL_TO_PASS,
        instance.PASS_TO_PASS,
        structured,
        parser(run.stdout),
        run.exit_code,
        require_structured=spec.structured,
    )
    return InstanceResult(
        **common,
        outcome="resolved" if graded.resolved else "unresolved",
        resolved=graded.resolved,
        tests_status={
            "FAIL_TO_PASS": graded.fail_to_pass,
            "PASS_TO_PASS": graded.pass_to_pass,
            "counts": graded.counts(),
            "collect_errors": structured.collect_errors,
        },
        results_source=graded.source,
        invalid_run=graded.invalid_reason,
        parser_mismatches=graded.mismatches,
        forged_result_lines=structured.forged_lines,
    )


def _without_nonce(stderr: str, nonce: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith(nonce))


def dump(result: InstanceResult) -> str:
    return json.dumps(result.model_dump(), sort_keys=True)
