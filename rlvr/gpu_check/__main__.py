"""`python -m rlvr.gpu_check [OUT]`: run the GPU check's steps one after another, each time-boxed,
and write OUT/gpu_check.json and OUT/gpu_check.md after every step (a check stopped half-way
still leaves what it measured). `scripts/gpu_check.sh` is the way in; it returns early without a GPU.

argparse, not typer: this runs with any python3, before the project's environment exists.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from .gpu_memory import MemorySampler, gpu_processes, nvidia_smi_command
from .report import write_report
from .runner import run_step
from .steps import MEASURE_BUDGET_S, PREPARATION, TIMEOUTS, Plan, build_steps

ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m rlvr.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path(os.environ.get("OUT") or "runs/gpu_check"))
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "runs" / "gpu_check_work",
        help="big outputs (bench runs, checkpoints), kept out of OUT so that OUT holds four files",
    )
    parser.add_argument(
        "--python", default=str(ROOT / ".venv" / "bin" / "python"), help="the project's python"
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--skip-setup", action="store_true", help="use the environment as it is")
    parser.add_argument("--only", help=f"comma-separated steps to run, of: {', '.join(TIMEOUTS)}")
    parser.add_argument(
        "--timeout", action="append", default=[], metavar="STEP=SECONDS", help="change a step's time box"
    )
    return parser.parse_args(argv)


def timeouts(pairs: list[str]) -> dict[str, float]:
    parsed = {}
    for pair in pairs:
        name, _, seconds = pair.partition("=")
        if name not in TIMEOUTS:
            raise SystemExit(f"--timeout {pair}: unknown step {name!r}; steps: {', '.join(TIMEOUTS)}")
        try:
            parsed[name] = float(seconds)
        except ValueError:
            raise SystemExit(f"--timeout {pair}: {seconds!r} is not a number of seconds") from None
    return parsed


def machine() -> dict[str, Any]:
    try:
        listed = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listed = ""
    return {
        "gpus": [line.strip() for line in listed.splitlines() if line.strip()],
        "cpu_count": os.cpu_count(),
    }


def pack_logs(work: Path, out: Path) -> Path:
    """Each step's log and small result files in one archive beside the report (a device machine
    returns only a few files)."""
    archive = out / "logs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(work.glob("*/*")):
            if path.is_file() and path.stat().st_size < 5 * 2**20:
                tar.add(path, arcname=str(path.relative_to(work)))
            elif path.is_dir():  # a run folder: its logs and JSON only
                for inner in sorted(path.rglob("*")):
                    if (
                        inner.suffix in (".json", ".jsonl", ".md", ".txt", ".log")
                        and inner.stat().st_size < 5 * 2**20
                    ):
                        tar.add(inner, arcname=str(inner.relative_to(work)))
    return archive


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="gpu_check %(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = parse_args(argv)
    out = args.out.resolve()
    work = args.work.resolve()
    plan = Plan(
        root=ROOT, work=work, python=args.python, data=args.data_dir.resolve(), skip_setup=args.skip_setup
    )
    steps = build_steps(plan, timeouts(args.timeout))
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        unknown = wanted - set(TIMEOUTS)
        if unknown:
            raise SystemExit(
                f"--only: unknown step(s) {', '.join(sorted(unknown))}; steps: {', '.join(TIMEOUTS)}"
            )
        steps = [s for s in steps if s.name in wanted]
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "sample": False,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "preparation": list(PREPARATION),
        "measure_budget_s": sum(s.timeout_s for s in steps if s.name not in PREPARATION),
        "steps": [],
    }
    if report["measure_budget_s"] > MEASURE_BUDGET_S:
        logging.warning("the measuring steps' time boxes add up to %.0f s", report["measure_budget_s"])
    sampler = MemorySampler(nvidia_smi_command(), raw_log=out / "nvidia_smi.csv").start()
    began = time.monotonic()
    try:
        for step in steps:
            shutil.rmtree(plan.step_dir(step.name), ignore_errors=True)  # no stale result is read
            start = time.monotonic()
            result = run_step(step, plan.step_dir(step.name), ROOT)
            if result.status != "skipped":
                result.gpu_memory = sampler.window(start, time.monotonic())
                left = gpu_processes()
                if left:
                    result.gpu_memory["left_running"] = left
            report["steps"].append(result.to_dict())
            report["total_s"] = round(time.monotonic() - began, 1)
            write_report(report, out)
    finally:
        sampler.stop()
        report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        report["total_s"] = round(time.monotonic() - began, 1)
        if sampler.error:
            report["gpu_memory_sampler_error"] = sampler.error
        json_path, md_path = write_report(report, out)
        if work.exists():
            pack_logs(work, out)
    failed = [s["name"] for s in report["steps"] if s["status"] in ("failed", "timeout")]
    sys.stdout.write(md_path.read_text())
    sys.stdout.write(f"\nwrote {json_path} and {md_path}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
