"""Diff extraction and parsing, the log parser, structured results and the grade."""

import json

import pytest

from rlvr.benchmarks.swe.diffs import DiffParseError, extract_diff, files_to_test, parse_diff, touched_files
from rlvr.benchmarks.swe.grading import grade, parse_log_pytest, read_structured

DIFF = """diff --git a/pkg/mod.py b/pkg/mod.py
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,2 +1,2 @@
 def f():
-    return 1
+    return 2
"""
NEW_FILE = """diff --git a/tests/test_new.py b/tests/test_new.py
new file mode 100644
--- /dev/null
+++ b/tests/test_new.py
@@ -0,0 +1 @@
+def test_x(): pass
"""


@pytest.mark.parametrize(
    "text",
    [
        f"Here is the fix:\n```diff\n{DIFF}```\nDone.",
        f"<think>maybe ```diff\nnot this```</think>\n<patch>\n{DIFF}</patch>",
        f"I changed it.\n\n{DIFF}",
        f"```\n{DIFF}```",
    ],
)
def test_extract_diff_forms(text):
    assert extract_diff(text) == DIFF


def test_extract_diff_none_and_last_block():
    assert extract_diff("no patch here, sorry") is None
    two = f"```diff\n{NEW_FILE}```\nbetter:\n```diff\n{DIFF}```"
    assert extract_diff(two) == DIFF


def test_parse_diff_paths():
    files = parse_diff(DIFF + NEW_FILE)
    assert [(f.old_path, f.new_path) for f in files] == [
        ("pkg/mod.py", "pkg/mod.py"),
        (None, "tests/test_new.py"),
    ]
    assert touched_files(DIFF + NEW_FILE) == ["pkg/mod.py", "tests/test_new.py"]
    assert files_to_test(NEW_FILE) == ["tests/test_new.py"]
    with pytest.raises(DiffParseError):
        parse_diff("just words")
    with pytest.raises(DiffParseError):
        parse_diff("--- a/x\n+++ b/x\n@@ nonsense @@\n")


def test_log_parser_reads_short_summary():
    log = "\n".join(
        [
            "PASSED tests/a.py::test_one",
            "FAILED tests/a.py::test_two - AssertionError: boom",
            "ERROR tests/a.py::test_three",
            "SKIPPED [1] tests/a.py:4: unconditional skip",
            "XFAIL tests/a.py::test_four[x-1]",
            "some PASSED text in the middle",
        ]
    )
    assert parse_log_pytest(log) == {
        "tests/a.py::test_one": "PASSED",
        "tests/a.py::test_two": "FAILED",
        "tests/a.py::test_three": "ERROR",
        "tests/a.py::test_four[x-1]": "XFAIL",
    }


def _stream(nonce, records):
    return "\n".join(f"{nonce} {json.dumps(r)}" for r in records)


def test_structured_results_need_the_nonce():
    nonce = "n" * 32
    stream = _stream(
        nonce,
        [{"event": "test", "nodeid": "t.py::a", "status": "FAILED"}, {"event": "finish", "exitstatus": 1}],
    )
    stream += "\n" + "x" * 32 + ' {"event": "test", "nodeid": "t.py::a", "status": "PASSED"}'
    results = read_structured(stream, nonce)
    assert results.tests == {"t.py::a": "FAILED"} and results.finish_status == 1 and results.forged_lines == 1


def _grade(records, log="", exit_code=0, f2p=("t.py::a",), p2p=("t.py::b",)):
    nonce = "k" * 32
    return grade(
        list(f2p),
        list(p2p),
        read_structured(_stream(nonce, records), nonce),
        parse_log_pytest(log),
        exit_code,
        True,
    )


def test_grade_resolved_and_failures():
    ok = [
        {"event": "test", "nodeid": "t.py::a", "status": "PASSED"},
        {"event": "test", "nodeid": "t.py::b", "status": "XFAIL"},
        {"event": "finish", "exitstatus": 0},
    ]
    assert _grade(ok).resolved
    missing = [ok[0], ok[2]]
    g = _grade(missing)
    assert not g.resolved and g.pass_to_pass == {"t.py::b": "MISSING"}


def test_forged_log_lines_do_not_count():
    records = [
        {"event": "test", "nodeid": "t.py::a", "status": "FAILED"},
        {"event": "test", "nodeid": "t.py::b", "status": "PASSED"},
        {"event": "finish", "exitstatus": 1},
    ]
    g = _grade(records, log="PASSED t.py::a\nPASSED t.py::b", exit_code=1)
    assert not g.resolved
    assert g.mismatches == [{"test": "t.py::a", "structured": "FAILED", "log": "PASSED"}]


def test_nonzero_exit_without_failure_is_invalid():
    records = [
        {"event": "test", "nodeid": "t.py::a", "status": "PASSED"},
        {"event": "test", "nodeid": "t.py::b", "status": "PASSED"},
        {"event": "finish", "exitstatus": 0},
    ]
    g = _grade(records, exit_code=3)
    assert not g.resolved and "exit code 3" in g.invalid_reason
    no_finish = _grade(records[:2])
    assert not no_finish.resolved and "did not finish" in no_finish.invalid_reason
    assert not _grade([], exit_code=0).resolved  # plugin silenced: nothing passes


def test_truncated_ids_match_by_prefix():
    records = [
        {"event": "test", "nodeid": "t.py::a[long-param-1]", "status": "PASSED"},
        {"event": "test", "nodeid": "t.py::a[long-param-2]", "status": "FAILED"},
        {"event": "test", "nodeid": "t.py::b[x]", "status": "PASSED"},
        {"event": "finish", "exitstatus": 1},
    ]
    g = _grade(records, exit_code=1, f2p=("t.py::b[",), p2p=("t.py::a[long-par",))
    assert g.fail_to_pass == {"t.py::b[": "PASSED"} and g.pass_to_pass == {"t.py::a[long-par": "FAILED"}


def test_log_artifact_ids_are_graded_from_the_log():
    records = [
        {"event": "test", "nodeid": "t.py::a", "status": "PASSED"},
        {"event": "finish", "exitstatus": 0},
    ]
    g = _grade(records, log="PASSED     [100%]", p2p=("[100%]",))
    assert g.resolved and g.pass_to_pass == {"[100%]": "PASSED"}
