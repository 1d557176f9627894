"""The shipped environment specs cover SWE-bench Lite, and the non-pytest runners' logs parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlvr.benchmarks.swe.diffs import files_to_test
from rlvr.benchmarks.swe.envs import find_python
from rlvr.benchmarks.swe.evaluate import run_script
from rlvr.benchmarks.swe.grading import LOG_PARSERS
from rlvr.benchmarks.swe.records import load_instances
from rlvr.benchmarks.swe.runner_logs import parse_log_django, parse_log_sympy
from rlvr.benchmarks.swe.specs import SHIPPED, all_specs, spec_for

# The interpreters the project supports (issue 18: pyenv 2.7 and 3.6-3.13 on the dev machine).
SUPPORTED_PYTHONS = {"2.7", *(f"3.{minor}" for minor in range(6, 14))}
CHECKED = {("pallets/flask", "2.0"), ("pytest-dev/pytest", "4.4"), ("pytest-dev/pytest", "5.4")}


def _lite(shared_data: Path):
    return load_instances(shared_data / "swe" / "lite_records.jsonl")


def test_every_lite_version_has_a_spec_with_a_known_python(shared_data):
    instances = _lite(shared_data)
    assert len({i.instance_id for i in instances}) == 297  # Lite minus the three held back for checks
    pairs = {(i.repo, i.version) for i in instances}
    assert len({r for r, _ in pairs}) == 12
    for inst in instances:
        spec = spec_for(inst)  # the real loader: raises ConfigError if a (repo, version) is missing
        assert spec.python in SUPPORTED_PYTHONS, (inst.repo, inst.version, spec.python)
        assert spec.log_parser in LOG_PARSERS
        # pytest runs get the structured plugin; other runners rely on their log parser alone
        assert spec.structured == (spec.log_parser == "pytest" and not spec.test_cmd.startswith("tox"))
    assert {(r, v) for (r, v), s in all_specs().items() if s.checked} >= CHECKED
    unchecked = [s for (r, v), s in all_specs().items() if (r, v) in pairs and (r, v) not in CHECKED]
    assert unchecked and not any(s.checked for s in unchecked)


@pytest.mark.skipif(not (Path.home() / ".pyenv" / "versions").is_dir(), reason="no pyenv interpreters here")
def test_lite_pythons_are_installed_here(shared_data):
    for python in sorted({spec_for(i).python for i in _lite(shared_data)}):
        assert find_python(python).is_file()


def test_django_log_parser():
    log = "\n".join(
        [
            "Testing against Django installed in '/testbed/django'",
            "test_path (model_fields.test_filepathfield.FilePathFieldTests) ... ok",
            "test_callable_path (model_fields.test_filepathfield.FilePathFieldTests) ... FAIL",
            "test_err (delete.tests.FastDeleteTests.test_err) ... ERROR",
            "test_skip (delete.tests.FastDeleteTests) ... skipped 'Database has feature(s) x'",
            "test_xf (delete.tests.FastDeleteTests) ... expected failure",
            "test_alter_field (migrations.test_optimizer.OptimizerTests)",
            "AlterField should optimize into AddField. ... ok",
            "test_noisy (utils_tests.test_x.T) ... some output the test printed",
            "ok",
            "test_late (utils_tests.test_x.T) ... ok",
            "======================================================================",
            "ERROR: test_late (utils_tests.test_x.T)",
            "----------------------------------------------------------------------",
            "Ran 9 tests in 0.1s",
        ]
    )
    assert parse_log_django(log) == {
        "test_path (model_fields.test_filepathfield.FilePathFieldTests)": "PASSED",
        "test_callable_path (model_fields.test_filepathfield.FilePathFieldTests)": "FAILED",
        "test_err (delete.tests.FastDeleteTests.test_err)": "ERROR",
        "test_skip (delete.tests.FastDeleteTests)": "SKIPPED",
        "test_xf (delete.tests.FastDeleteTests)": "XFAIL",
        "AlterField should optimize into AddField.": "PASSED",
        "test_noisy (utils_tests.test_x.T)": "PASSED",
        "test_late (utils_tests.test_x.T)": "ERROR",
    }


def test_sympy_log_parser():
    log = "\n".join(
        [
            "============================= test process starts ==============================",
            "sympy/printing/tests/test_latex.py[5] ",
            "test_printmethod ok",
            "test_latex_basic F",
            "test_latex_functions E",
            "test_latex_xfail f",
            "test_latex_slow s",
            "test_latex_garbled printed stuff ok",
            "________________________________________________________________________________",
            "_____________ sympy/printing/tests/test_latex.py:test_latex_garbled _____________",
            "tests finished: 1 passed, 1 failed, 1 skipped, 1 expected to fail, 1 exceptions",
        ]
    )
    assert parse_log_sympy(log) == {
        "test_printmethod": "PASSED",
        "test_latex_basic": "FAILED",
        "test_latex_functions": "ERROR",
        "test_latex_xfail": "XFAIL",
        "test_latex_slow": "SKIPPED",
        "test_latex_garbled": "FAILED",
    }


def test_spec_files_cite_their_source():
    for name in ("django__django", "sympy__sympy", "astropy__astropy", "sphinx-doc__sphinx"):
        head = (SHIPPED / f"{name}.yaml").read_text().split("\nrepo:", 1)[0]
        assert "df7b6b610b60fc12a55949c99d795050670fa80a" in head and "checked: false" in head


def test_django_runs_module_labels_and_pytest_runs_paths(shared_data):
    by_id = {i.instance_id: i for i in load_instances(shared_data / "swe" / "lite_records.jsonl")}
    django, requests = by_id["django__django-11179"], by_id["psf__requests-2317"]
    script = run_script(spec_for(django), files_to_test(django.test_patch))
    assert script.rstrip().endswith("--settings=test_sqlite --parallel 1 delete.tests")
    files = files_to_test(requests.test_patch)
    assert run_script(spec_for(requests), files).rstrip().endswith("pytest -rA " + " ".join(files))
