"""The `swe` and `swe_similarity` verifiers and the `rlvr swe` commands, on the built-in suite."""

import json

import pytest
from typer.testing import CliRunner

from rlvr.benchmarks.swe.suite import make_suite
from rlvr.cli import app
from rlvr.verifiers import get_verifier, list_verifiers

UNRELATED = """diff --git a/minilib/__init__.py b/minilib/__init__.py
--- a/minilib/__init__.py
+++ b/minilib/__init__.py
@@ -1 +1,2 @@
 \"\"\"minilib: small helpers (the rlvr SWE suite's test subject).\"\"\"
+VERSION = "1.0"
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    return make_suite(tmp_path_factory.mktemp("suite"))


def test_registered():
    assert {"swe", "swe_similarity"} <= set(list_verifiers())


def test_swe_verifier_scores_by_resolution(suite):
    instances, repos = suite
    inst = instances[2]
    verifier = get_verifier("swe", repos_dir=str(repos))
    record = inst.model_dump()
    completions = [
        f"The median is wrong for even counts.\n```diff\n{inst.patch}```",  # gold, fenced
        "I could not find the bug.",  # no diff
        f"<patch>\n{UNRELATED}</patch>",  # applies, fixes nothing
    ]
    results = verifier.verify_batch(completions, [record, json.dumps(record), record], workers=2)
    assert [r.score for r in results] == [1.0, 0.0, 0.0]
    gold, none, wrong = results
    assert gold.details["apply_step"] == "git apply" and gold.correct
    assert set(gold.details["tests_status"]["FAIL_TO_PASS"].values()) == {"PASSED"}
    assert none.reason == "no_answer"
    assert wrong.reason == "mismatch" and wrong.details["tests_status"]["FAIL_TO_PASS"]
    assert (
        get_verifier("swe").verify("x", {"instance_id": "a"}).reason == "error"
    )  # bad record: an error, not a crash


def test_swe_similarity(suite):
    instances, _ = suite
    inst = instances[0]
    sim = get_verifier("swe_similarity")
    assert sim.verify(f"```diff\n{inst.patch}```", inst.model_dump()).score == 1.0
    assert sim.verify("no diff at all", inst.model_dump()).score == -1.0
    near = inst.patch.replace("max(0, width - len(suffix))", "width - len(suffix)")
    partial = sim.verify(near, inst.patch).score
    assert 0.5 < partial < 1.0
    both = sim.verify(inst.patch + instances[1].patch, inst.patch)  # an extra file scores 0 there
    assert both.score == pytest.approx(0.5) and both.details["per_file"]["minilib/intervals.py"] == 0.0
    assert sim.verify(instances[1].patch, inst.patch).score == 0.0


def test_cli_suite_eval_and_errors(tmp_path):
    runner = CliRunner()
    suite_dir = tmp_path / "suite"
    done = runner.invoke(app, ["swe", "suite", "--out", str(suite_dir)])
    assert done.exit_code == 0, done.output
    out = tmp_path / "run"
    args = [
        "swe",
        "eval",
        "--instances",
        str(suite_dir / "instances.jsonl"),
        "--predictions",
        "gold",
        "--repos",
        str(suite_dir / "repos"),
        "--out",
        str(out),
        "--workers",
        "2",
        "--ids",
        "rlvr-suite__minilib-1,rlvr-suite__minilib-3",
    ]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    report = json.loads((out / "report.json").read_text())
    assert report["resolved_ids"] == ["rlvr-suite__minilib-1", "rlvr-suite__minilib-3"]
    assert report["total_instances"] == 2
    bad = runner.invoke(app, [*args[:-2], "--ids", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output
    bad = runner.invoke(app, ["swe", "suite", "--out", str(suite_dir)])
    assert bad.exit_code == 2 and "exists" in bad.output
    bad = runner.invoke(app, [*args[:6], "--repos", str(tmp_path / "missing"), "--out", str(out)])
    assert bad.exit_code == 2 and "repos" in bad.output
