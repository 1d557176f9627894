"""Real SWE-bench Lite instances from ../shared (read there, never copied): pytest-dev__pytest-5227,
the fastest, on the local backend.  Gold resolves, empty is empty_patch, and no hostile patch
resolves; a gold check follows each hostile one."""

import random

import pytest
from swe_helpers import hostile_patches

from rlvr.benchmarks.swe.envs import DEFAULT_CACHE, build_env
from rlvr.benchmarks.swe.evaluate import EvalSettings, evaluate_instance
from rlvr.benchmarks.swe.records import load_instances
from rlvr.benchmarks.swe.sandboxes import make_sandbox
from rlvr.benchmarks.swe.specs import spec_for

pytestmark = pytest.mark.slow


def test_pytest_5227_local(shared_data, tmp_path):
    swe = shared_data / "swe"
    inst = load_instances(swe / "instances.jsonl", ids=["pytest-dev__pytest-5227"])[0]
    spec = spec_for(inst)
    sandbox = make_sandbox(build_env(spec), "local", 1, 4096)
    settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=swe / "repos", timeout_s=300)
    assert evaluate_instance(inst, "", spec, sandbox, settings).outcome == "empty_patch"
    gold = evaluate_instance(inst, inst.patch, spec, sandbox, settings)
    assert gold.outcome == "resolved", gold
    assert gold.tests_status["counts"]["FAIL_TO_PASS"] == {"success": 3, "failure": 0}
    hostile = list(hostile_patches(inst, swe / "repos", tmp_path).items())
    random.Random(5227).shuffle(hostile)
    for name, patch in hostile[:3]:
        result = evaluate_instance(inst, patch, spec, sandbox, settings)
        assert result.outcome == "unresolved" and not result.resolved, (name, result)
    assert evaluate_instance(inst, inst.patch, spec, sandbox, settings).outcome == "resolved"


def test_flask_4045_gold_local(shared_data):
    """blinker 1.4 (an sdist) must come byte-compiled: flask's `filterwarnings = error` turns the
    invalid escapes that compiling it at import time warns about into a SyntaxError in conftest."""
    swe = shared_data / "swe"
    inst = load_instances(swe / "instances.jsonl", ids=["pallets__flask-4045"])[0]
    spec = spec_for(inst)
    sandbox = make_sandbox(build_env(spec), "local", 1, 4096)
    settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=swe / "repos", timeout_s=300)
    gold = evaluate_instance(inst, inst.patch, spec, sandbox, settings)
    assert gold.outcome == "resolved", gold
    assert gold.tests_status["counts"]["PASS_TO_PASS"] == {"success": 50, "failure": 0}
