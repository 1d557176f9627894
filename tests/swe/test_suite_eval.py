"""The whole SWE path on the built-in suite (offline, seconds): gold resolves, nothing hostile does.

Hostile patches run first in a seeded random order, each followed by a gold check on the same
sandbox, on the local backend and on Docker."""

import json
import random

import pytest
from swe_helpers import hostile_patches, require_docker

from rlvr.benchmarks.swe.envs import DEFAULT_CACHE, build_env
from rlvr.benchmarks.swe.evaluate import EvalSettings, evaluate_instance
from rlvr.benchmarks.swe.harness import evaluate
from rlvr.benchmarks.swe.sandboxes import make_sandbox
from rlvr.benchmarks.swe.specs import spec_for
from rlvr.benchmarks.swe.suite import make_suite


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("suite")
    instances, repos = make_suite(root)
    return instances, repos, root


def test_suite_is_deterministic_and_well_formed(suite, tmp_path):
    instances, _, _ = suite
    again, _ = make_suite(tmp_path)
    assert [i.base_commit for i in instances] == [i.base_commit for i in again]
    for inst in instances:
        assert inst.FAIL_TO_PASS and inst.PASS_TO_PASS and inst.patch.startswith("diff --git")


def test_gold_empty_and_garbage_in_one_run(suite, tmp_path):
    instances, repos, _ = suite
    preds = {
        instances[0].instance_id: {
            "instance_id": instances[0].instance_id,
            "model_patch": "this is not a diff",
        },
        instances[1].instance_id: {
            "instance_id": instances[1].instance_id,
            "model_patch": instances[1].patch,
        },
        instances[2].instance_id: {"instance_id": instances[2].instance_id, "model_patch": ""},
    }
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in preds.values()))
    out = tmp_path / "out"
    report = evaluate(instances, path, out, workers=2, repos_dir=repos)
    a, b, c = (i.instance_id for i in instances)
    assert report["error_ids"] == [a] and "not a unified diff" in report["errors"][a]
    assert report["resolved_ids"] == [b] and report["empty_patch_ids"] == [c]
    assert report["completed_instances"] == 1 and report["total_instances"] == 3
    assert report["schema_version"] == 2 and report["incomplete_ids"] == []
    for name in ("patch.diff", "apply.log", "test_output.txt", "report.json"):
        assert (out / b / name).is_file()
    detail = json.loads((out / b / "report.json").read_text())
    assert detail["apply_step"] == "git apply" and detail["results_source"] == "structured"
    assert set(detail["tests_status"]["FAIL_TO_PASS"].values()) == {"PASSED"}
    # resume: a second run redoes nothing (the reports are not rewritten)
    stamp = (out / b / "report.json").stat().st_mtime_ns
    again = evaluate(instances, path, out, workers=2, repos_dir=repos)
    assert again["resolved_ids"] == [b] and (out / b / "report.json").stat().st_mtime_ns == stamp


def _adversarial(backend, suite, tmp_path):
    instances, repos, root = suite
    inst = instances[0]
    spec = spec_for(inst)
    sandbox = make_sandbox(build_env(spec), backend, 1, 2048)
    settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=repos, timeout_s=120)
    hostile = list(hostile_patches(inst, repos, tmp_path / "patches").items())
    random.Random(18).shuffle(hostile)
    try:
        for name, patch in hostile:
            result = evaluate_instance(inst, patch, spec, sandbox, settings)
            assert result.outcome == "unresolved", (name, result)
            assert result.patch_applied, (name, result.error)
            gold = evaluate_instance(inst, inst.patch, spec, sandbox, settings)
            assert gold.outcome == "resolved", (name, gold)
        unguarded = settings.model_copy(update={"guard_tests": False})
        patches = dict(hostile)
        forged = evaluate_instance(inst, patches["conftest_forgery"], spec, sandbox, unguarded)
        assert forged.outcome == "unresolved" and "did not finish" in forged.invalid_run, forged
        edited = evaluate_instance(inst, patches["edit_tests"], spec, sandbox, unguarded)
        assert not edited.resolved and "test_patch does not apply" in edited.error, edited
    finally:
        close = getattr(sandbox, "close", None)
        if close:
            close()


def test_hostile_patches_local(suite, tmp_path):
    _adversarial("local", suite, tmp_path)


def test_hostile_patches_docker(suite, tmp_path):
    require_docker()
    _adversarial("docker", suite, tmp_path)
