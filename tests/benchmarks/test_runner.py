"""The benchmark runner end to end on a real (tiny) model through the HF engine: artifacts,
rescoring, resume after kill -9, refusals, code suites and custom specs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rlvr.benchmarks.majority import group_answers
from rlvr.benchmarks.runner import BenchConfig, load_suites, rescore, run_benchmarks, score_records
from rlvr.cli import app
from rlvr.engines import SamplingConfig
from rlvr.errors import ConfigError, InputFileError

DATA = Path(__file__).parent / "data"
RLVR = str(Path(sys.executable).with_name("rlvr"))


def _config(model, **changes):
    fields = dict(
        benchmarks=["arith"],
        model=model,
        engine="hf",
        engine_options={"batch_size": 4},
        sampling=SamplingConfig(samples_per_prompt=2, max_new_tokens=8),
        limit=5,
    )
    fields.update(changes)
    return BenchConfig(**fields)


@pytest.fixture(scope="module")
def finished_run(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    results = run_benchmarks(_config(tiny_model), out)
    return out, results


def test_a_run_writes_every_artifact(finished_run):
    out, results = finished_run
    for name in (
        "config.json",
        "samples.jsonl",
        "details.parquet",
        "results.json",
        "report.md",
        "lengths.png",
    ):
        assert (out / name).stat().st_size > 0, name
    config = json.loads((out / "config.json").read_text())
    assert config["datasets"]["arith"]["problems"] == 5 and config["datasets"]["arith"]["content_hash"]
    assert config["engine"]["engine"] == "hf" and config["versions"]["torch"]
    details = pd.read_parquet(out / "details.parquet")
    assert len(details) == 10 and set(details["sample"]) == {0, 1}
    assert {"completion", "extracted", "correct", "tokens", "finish_reason", "kind"} <= set(details.columns)
    assert (details["tokens"] <= 8).all()
    m = results["benchmarks"]["arith"]
    assert m["problems"] == 5 and {"avg@2", "pass@1", "pass@2", "maj@2"} <= set(m)
    assert m["avg@2"]["mean"] == pytest.approx(details["correct"].mean())
    assert m["lengths"]["mean_tokens"] == pytest.approx(details["tokens"].mean())
    assert "| arith | 5 | 2 |" in (out / "report.md").read_text()


def test_rescore_uses_the_saved_samples_and_the_current_verifiers(finished_run, tmp_path):
    out, _ = finished_run
    run = tmp_path / "copy"
    shutil.copytree(out, run)
    problems = load_suites(_config("unused"))[0].problems
    lines = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    answers = {p.id: p.answer for p in problems}
    first, second = lines[0], lines[1]
    for sample in first["samples"]:
        sample["text"] = f"so the answer is \\boxed{{{answers[first['problem_id']]}}}"
    second["samples"][1]["text"] = f"\\boxed{{{answers[second['problem_id']]}}}"
    (run / "samples.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    m = rescore(run)["benchmarks"]["arith"]
    assert m["avg@2"]["mean"] == pytest.approx((1 + 0.5) / 5)
    assert m["pass@2"]["mean"] == pytest.approx(2 / 5)
    assert m["pass@1"]["mean"] == pytest.approx(m["avg@2"]["mean"])
    details = pd.read_parquet(run / "details.parquet")
    assert details["correct"].sum() == 3


def test_a_problem_with_fewer_samples_fails_loudly(finished_run, tmp_path):
    out, _ = finished_run
    run = tmp_path / "short"
    shutil.copytree(out, run)
    lines = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    lines[2]["samples"] = lines[2]["samples"][:1]
    (run / "samples.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(ConfigError, match="exactly 2 samples"):
        rescore(run)


def test_resume_after_kill_9_loses_and_duplicates_nothing(tiny_model, tmp_path):
    out = tmp_path / "killed"
    cmd = [
        RLVR,
        "bench",
        "run",
        "arith",
        "--model",
        tiny_model,
        "--engine",
        "hf",
        "--samples-per-prompt",
        "2",
        "--max-new-tokens",
        "48",
        "--limit",
        "16",
        "--out",
        str(out),
        "-e",
        "batch_size=1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    samples = out / "samples.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not samples.exists() or samples.read_text().count("\n") < 3):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = samples.read_text().splitlines(keepends=True)
    complete = [line for line in before if line.endswith("\n")]
    assert 3 <= len(complete) < 16, "the run was not killed mid-way"
    with samples.open("a") as f:  # a torn last line, as a kill in the middle of a write leaves
        f.write('{"benchmark": "arith", "problem_id": "arith-15", "sam')
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    after = samples.read_text().splitlines(keepends=True)
    assert after[: len(complete)] == complete  # saved samples kept as they were, not regenerated
    ids = [json.loads(x)["problem_id"] for x in after]
    assert sorted(ids) == sorted(f"arith-{i}" for i in range(16))  # none lost, none twice
    assert all(len(json.loads(x)["samples"]) == 2 for x in after)
    assert len(pd.read_parquet(out / "details.parquet")) == 32


def test_resuming_with_other_settings_is_refused(finished_run, tiny_model):
    out, _ = finished_run
    with pytest.raises(ConfigError, match="sampling: differs from the run already in"):
        run_benchmarks(
            _config(tiny_model, sampling=SamplingConfig(samples_per_prompt=3, max_new_tokens=8)), out
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], "benchmark: unknown name 'nope'"),
        (["math500", "--data-dir", "/no/such/dir"], "--data-dir is not a directory"),
        ([str(DATA / "missing.yaml")], "benchmark spec file does not exist"),
    ],
)
def test_bad_input_gives_a_one_line_error(args, message, tmp_path):
    result = CliRunner().invoke(app, ["bench", "run", *args, "--model", "m", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output


def test_a_missing_column_is_named(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(f"path: {DATA / 'custom_rows.jsonl'}\nquestion_field: question\nanswer_field: a\n")
    with pytest.raises(InputFileError, match="no column 'question' for benchmark 'bad'"):
        load_suites(BenchConfig(benchmarks=[str(spec)], model="m"))
    # the old spellings still work for one release, with a warning naming the new one
    spec.write_text(f"path: {DATA / 'custom_rows.jsonl'}\nquestion_col: question\nanswer_col: a\n")
    with pytest.warns(DeprecationWarning, match="use 'question_field'"):
        with pytest.raises(InputFileError, match="no column 'question' for benchmark 'bad'"):
            load_suites(BenchConfig(benchmarks=[str(spec)], model="m"))
    spec.write_text("path: x.jsonl\nkind: essay\n")
    with pytest.raises(ConfigError, match="bad.yaml: kind"):
        load_suites(BenchConfig(benchmarks=[str(spec)], model="m"))


def test_a_custom_yaml_benchmark_needs_no_python():
    suite = load_suites(BenchConfig(benchmarks=[str(DATA / "custom_bench.yaml")], model="m"))[0]
    assert suite.name == "capitals_math" and suite.as_written
    assert [p.question for p in suite.problems] == [
        "Compute 2+3 and put the result in \\boxed{}.",
        "Compute 7*6 and put the result in \\boxed{}.",
    ]
    problems = {(suite.name, p.id): p for p in suite.problems}
    records = [
        {"benchmark": suite.name, "problem_id": "c1", "samples": [{"text": "\\boxed{5}"}, {"text": "6"}]}
    ]
    assert [r.correct for r in score_records(records, problems, 1)[(suite.name, "c1")]] == [True, False]


def test_arith_suites_do_not_take_the_restated_question_as_the_answer():
    """A policy trained on `What is 2 - 8?` learned to answer `The answer is 2 - 8.` (equal in value):
    the arith suites' verifier requires the evaluated number; other suites keep value equality."""
    suites = load_suites(BenchConfig(benchmarks=["arith_easy", "arith"], model="m", limit=5, split="test"))
    assert suites[0].source["verifier_options"] == {"require_evaluated": True}
    problems = {(s.name, p.id): p for s in suites for p in s.problems}
    records = []
    for suite in suites:
        for p in suite.problems:
            expression = p.question.removeprefix("What is ").removesuffix("?")
            samples = [{"text": f"The answer is {p.answer}."}, {"text": f"The answer is {expression}."}]
            records.append({"benchmark": suite.name, "problem_id": p.id, "samples": samples})
    scored = score_records(records, problems, 1)
    easy = [scored[("arith_easy", p.id)] for p in suites[0].problems]
    assert all([r.correct for r in results] == [True, False] for results in easy)
    assert {results[1].reason for results in easy} == {"not_evaluated"}
    assert all(scored[key][0].correct for key in scored)  # the evaluated answer always counts


def test_code_suites_score_through_the_code_verifier(tmp_path):
    shutil.copy(DATA / "humaneval_sample.jsonl", tmp_path / "humaneval.jsonl")
    shutil.copy(DATA / "lcb_sample.jsonl", tmp_path / "livecodebench.jsonl")
    suites = load_suites(
        BenchConfig(benchmarks=["humaneval", "livecodebench"], model="m", data_dir=str(tmp_path))
    )
    problems = {(s.name, p.id): p for s in suites for p in s.problems}
    he = problems[("humaneval", "Sample/0")]
    assert he.answer["entry_point"] == "add" and "def check" in he.answer["test"]
    assert len(problems[("livecodebench", "s1")].answer["inputs"]) == 3  # public + plain-JSON private tests
    assert len(problems[("livecodebench", "s0")].answer["inputs"]) == 2  # compressed private tests skipped
    rows = [json.loads(x) for x in (DATA / "humaneval_sample.jsonl").open()]
    records = [
        {
            "benchmark": "humaneval",
            "problem_id": r["task_id"],
            "samples": [
                {"text": f"```python\n{r['prompt']}{r['canonical_solution']}```"},
                {"text": f"```python\n{r['prompt']}    return None\n```"},
            ],
        }
        for r in rows
    ]
    records.append(
        {
            "benchmark": "livecodebench",
            "problem_id": "s1",
            "samples": [
                {"text": "```python\nprint(input()[::-1])\n```"},
                {"text": "```python\nprint(input())\n```"},
            ],
        }
    )
    scored = score_records(records, problems, 2)
    for key, results in scored.items():
        assert [r.correct for r in results] == [True, False], key


def test_majority_groups_equal_answers():
    keys = group_answers(["\\frac{1}{2}", "0.5", "1/3", None, "\\dfrac12", "", "x+1"])
    assert keys == ["\\frac{1}{2}", "\\frac{1}{2}", "1/3", None, "\\frac{1}{2}", None, "x+1"]
