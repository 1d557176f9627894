import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rlvr import log
from rlvr.cli import app
from rlvr.scoring import score_file

EXAMPLE = Path(__file__).parents[1] / "examples" / "completions.jsonl"
runner = CliRunner()


def test_score_example_jsonl(tmp_path):
    out = tmp_path / "scored.jsonl"
    result = runner.invoke(app, ["score", str(EXAMPLE), "-V", "math", "-V", "format=0.2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.open()]
    source = [json.loads(x) for x in EXAMPLE.open()]
    assert len(rows) == len(source)
    assert all({"reward", "correct", "extracted", "reason"} <= set(r) for r in rows)
    assert rows[0]["reward"] == pytest.approx(1.2) and rows[0]["correct"] is True
    assert "mean reward" in result.output and "rows/s" in result.output


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_round_trip(tmp_path, suffix):
    df = pd.DataFrame({"output": [r"\boxed{2}", r"\boxed{3}"], "gold": ["2", "2"]})
    src = tmp_path / f"in{suffix}"
    df.to_csv(src, index=False) if suffix == ".csv" else df.to_parquet(src)
    out = tmp_path / f"out{suffix}"
    result = runner.invoke(
        app, ["score", str(src), "--completion-field", "output", "--answer-field", "gold", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert scored["reward"].tolist() == [1.0, 0.0]
    assert scored["reason"].tolist()[1] == "mismatch"


@pytest.mark.parametrize(
    "args, message",
    [
        (["score", "missing.jsonl"], "missing.jsonl: no such file"),
        (["score", str(EXAMPLE), "--answer-field", "gold"], "no column 'gold' (set by --answer-field)"),
        (["score", str(EXAMPLE), "--completion-field", "out"], "no column 'out' (set by --completion-field)"),
        (["score", str(EXAMPLE), "-V", "nope"], "unknown name 'nope'"),
        (["score", "data.txt"], "unknown file type '.txt'"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_2(args, message, tmp_path):
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    result = runner.invoke(app, ["score", str(bad)])
    assert result.exit_code == 2 and "cannot read as parquet" in result.output


def test_an_interrupted_run_keeps_what_it_scored(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"completion": f"\\boxed{{{i}}}", "answer": str(i)}) + "\n" for i in range(10))
    )
    out = tmp_path / "out.jsonl"
    calls = []

    def interrupt_after_first_chunk(n: int) -> None:  # failure injection
        calls.append(n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_file(src, out, ["math"], chunk_rows=4, on_progress=interrupt_after_first_chunk)
    kept = [json.loads(x) for x in out.open()]
    assert len(kept) == 4 and all(r["correct"] for r in kept)


def test_list_verifiers():
    result = runner.invoke(app, ["verifiers"])
    assert result.exit_code == 0 and {"math", "format", "language"} <= set(result.output.split())


def test_output_flags_go_anywhere_and_debug_shows_the_traceback(tmp_path):
    from rlvr.cli.common import Settings

    for args in (["-q", "score", "missing.jsonl"], ["score", "missing.jsonl", "-vv"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "missing.jsonl: no such file" in result.output
        assert "Traceback" not in result.output
    assert Settings.verbosity == 2
    result = runner.invoke(app, ["score", "missing.jsonl", "--debug"])
    assert result.exit_code != 0 and "no such file" in str(result.exception)
    assert "error:" not in result.output  # the exception itself goes up, with its traceback
    Settings.debug, Settings.verbosity = False, 0
    log.configure(0)  # third-party loggers back to WARNING for the rest of the session


def test_old_option_spellings_still_work_with_a_warning(tmp_path):
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["score", str(EXAMPLE), "--answer-col", "answer", "-o", str(out)])
    assert result.exit_code == 0 and "--answer-col is deprecated; use --answer-field" in result.output


def test_train_set_errors_name_the_option(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model: m\n")
    result = runner.invoke(app, ["train", str(config), "-s", "learning_rate=-1"])
    assert result.exit_code == 2 and "--set learning_rate" in result.output
    result = runner.invoke(app, ["train", str(config), "-s", "no_such_field=1"])
    assert result.exit_code == 2 and "--set no_such_field" in result.output
    result = runner.invoke(app, ["train", str(config), "-s", "oops"])
    assert result.exit_code == 2 and "--set: expected KEY=VALUE, got 'oops'" in result.output
    config.write_text("model: m\nsteps: 0\n")
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 2 and f"{config}: steps" in result.output


def test_results_fit_an_80_column_terminal(shared_data, tmp_path, monkeypatch):
    from rlvr.cli import tables

    results = {
        "benchmarks": {
            name: {
                "n": 4,
                "problems": 8,
                "avg@4": {"mean": 0.25, "stderr": 0.1, "ci_low": 0.1, "ci_high": 0.4},
                "pass@4": {"mean": 0.5},
                "maj@4": {"mean": 0.25},
                "lengths": {"mean_tokens": 120.0, "truncated_share": 0.5},
            }
            for name in ("arith", "math500", "aime24", "gpqa_diamond")
        }
    }
    monkeypatch.setattr(tables.console, "width", 80)
    with tables.console.capture() as captured:
        tables.print_results(results, "rlvr bench: a model")
    lines = captured.get().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("gpqa_diamond" in line for line in lines) and any("avg@n ± se" in line for line in lines)
