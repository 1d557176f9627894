"""Real SWE-bench Lite instances from ../shared (read there, never copied): pytest-dev__pytest-5227,
the fastest, on the local backend.  Gold resolves, empty is empty_patch, and no hostile patch
resolves; a gold check follows each hostile one."""

import random
import subprocess

import pytest
from swe_helpers import diff_of, hostile_patches, require_docker, source_file

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
    assert gold.install == "prepared"  # the install of the base tree, made once, linked read-only
    assert gold.tests_status["counts"]["FAIL_TO_PASS"] == {"success": 3, "failure": 0}
    hostile = list(hostile_patches(inst, swe / "repos", tmp_path).items())
    random.Random(5227).shuffle(hostile)
    for name, patch in hostile[:3]:
        result = evaluate_instance(inst, patch, spec, sandbox, settings)
        assert result.outcome == "unresolved" and not result.resolved, (name, result)
    assert evaluate_instance(inst, inst.patch, spec, sandbox, settings).outcome == "resolved"


def test_pytest_5227_prepared_install_is_shared_read_only(shared_data, tmp_path):
    """A patch cannot write into the install that later evaluations share; a patch to a packaging
    file is installed afresh (the prepared install is of the base tree)."""
    swe = shared_data / "swe"
    inst = load_instances(swe / "instances.jsonl", ids=["pytest-dev__pytest-5227"])[0]
    spec = spec_for(inst)
    env = build_env(spec)
    sandbox = make_sandbox(env, "local", 1, 4096)
    settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=swe / "repos", timeout_s=300)
    src = source_file(inst)
    poison = (
        "import os as _os, site as _site\n"
        "try:\n"
        "    open(_os.path.join(_site.getsitepackages()[0], 'zz_rlvr_poison.pth'), 'w')"
        ".write('import os; os._exit(0)\\n')\n"
        "except OSError:\n"
        "    pass\n"
    )

    def poison_venv(tree):
        subprocess.run(["git", "apply"], input=inst.patch.encode(), cwd=tree, check=True)
        path = tree / src
        path.write_text(path.read_text() + poison)  # after any __future__ import

    def touch_setup(tree):
        subprocess.run(["git", "apply"], input=inst.patch.encode(), cwd=tree, check=True)
        with open(tree / "setup.py", "a") as handle:
            handle.write("# touched by the patch\n")

    poisoned = evaluate_instance(
        inst, diff_of(inst, swe / "repos", tmp_path / "p", poison_venv), spec, sandbox, settings
    )
    assert poisoned.install == "prepared" and poisoned.outcome == "resolved", poisoned
    assert not list((env.venv.parent / "installs").rglob("zz_rlvr_poison.pth"))
    setup = evaluate_instance(
        inst, diff_of(inst, swe / "repos", tmp_path / "s", touch_setup), spec, sandbox, settings
    )
    assert setup.install == "full" and setup.outcome == "resolved", setup


@pytest.mark.parametrize("backend", ["local", "docker"])
def test_flask_4045_gold(shared_data, backend):
    """blinker 1.4 (an sdist) must come byte-compiled: flask's `filterwarnings = error` turns the
    invalid escapes that compiling it at import time warns about into a SyntaxError in conftest.
    On Docker the image must keep the venv's .pyc files (it dropped them, and flask failed there)."""
    if backend == "docker":
        require_docker()
    swe = shared_data / "swe"
    inst = load_instances(swe / "instances.jsonl", ids=["pallets__flask-4045"])[0]
    spec = spec_for(inst)
    sandbox = make_sandbox(build_env(spec), backend, 1, 4096)
    settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=swe / "repos", timeout_s=300)
    try:
        gold = evaluate_instance(inst, inst.patch, spec, sandbox, settings)
    finally:
        sandbox.close()
    assert gold.outcome == "resolved", gold
    assert gold.install == ("prepared" if backend == "local" else "full"), gold
    assert gold.tests_status["counts"]["PASS_TO_PASS"] == {"success": 50, "failure": 0}


def test_pytest_5227_docker(shared_data, tmp_path):
    """The same instance on the Docker backend (image = sandbox image + interpreter + venv; the
    install runs in every evaluation there): gold resolves, forged and broken patches do not."""
    require_docker()
    swe = shared_data / "swe"
    inst = load_instances(swe / "instances.jsonl", ids=["pytest-dev__pytest-5227"])[0]
    spec = spec_for(inst)
    sandbox = make_sandbox(build_env(spec), "docker", 1, 4096)
    settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=swe / "repos", timeout_s=300)
    try:
        gold = evaluate_instance(inst, inst.patch, spec, sandbox, settings)
        assert gold.outcome == "resolved" and gold.install == "full", gold
        hostile = hostile_patches(inst, swe / "repos", tmp_path)
        for name in ("conftest_forgery", "syntax_error", "print_fake_passed"):
            result = evaluate_instance(inst, hostile[name], spec, sandbox, settings)
            assert result.outcome == "unresolved" and not result.resolved, (name, result)
    finally:
        sandbox.close()
