"""The GPU check's outputs: gpu_check.json (everything, for machines) and a short gpu_check.md (one
table row per step, then each failure with its error and the end of its log).

Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlvr.log import get_logger

log = get_logger(__name__)

FAILURE_TAIL_LINES = 15
SAMPLE_BANNER = "> **SAMPLE, not a measurement**: {note}"


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write both files (atomically: a check killed mid-write leaves the previous ones whole)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "gpu_check.json", out / "gpu_check.md"
    for path, text in zip(paths, (json.dumps(report, indent=2) + "\n", render_markdown(report))):
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_text(text)
        partial.replace(path)
    return paths


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# GPU check, {report.get('started', '?')}", ""]
    if report.get("sample"):
        lines += [SAMPLE_BANNER.format(note=report.get("note", "hand-written")), ""]
    lines += _machine(report) + [""]
    steps = report.get("steps", [])
    measured = sum(s["seconds"] for s in steps if s["name"] not in report.get("preparation", []))
    budget = report.get("measure_budget_s")
    lines.append(
        f"Measuring steps took {measured:.0f} s"
        + (f" (their time boxes add up to {budget:.0f} s)" if budget else "")
        + f"; the whole check {report.get('total_s', 0):.0f} s."
    )
    lines += ["", "| step | status | time (s) | result | peak GPU memory |", "|---|---|---|---|---|"]
    for step in steps:
        lines.append(
            f"| {step['name']} | {_status(step)} | {step['seconds']:.1f} | "
            f"{_cell(summary(step))} | {_cell(memory(step))} |"
        )
    notes = [s for s in steps if s.get("note")]
    if notes:
        lines += ["", "Notes:"] + [f"- {s['name']}: {s['note']}" for s in notes]
    failures = [s for s in steps if s["status"] in ("failed", "timeout")]
    for step in failures:
        lines += ["", f"## {step['name']}: {step['status']}", "", f"{step.get('error') or ''}".strip()]
        log_tail = (step.get("log_tail") or "").splitlines()[-FAILURE_TAIL_LINES:]
        if log_tail:
            lines += ["", f"End of its log ({step.get('log')}):", "", "```", *log_tail, "```"]
    return "\n".join(lines) + "\n"


def _machine(report: dict[str, Any]) -> list[str]:
    machine = report.get("machine", {})
    gpus = machine.get("gpus") or ["no GPU listed"]
    env = next((s["metrics"] for s in report.get("steps", []) if s["name"] == "env" and s["metrics"]), {})
    versions = env.get("versions", {})
    installed = ", ".join(f"{k} {v}" for k, v in versions.items() if v)
    return [
        f"GPU: {'; '.join(gpus)}. CPU cores: {machine.get('cpu_count', '?')}.",
        *([f"Versions: {installed}."] if installed else []),
    ]


def _status(step: dict[str, Any]) -> str:
    return {"ok": "ok", "failed": "**FAILED**", "timeout": "**TIMEOUT**", "skipped": "skipped"}[
        step["status"]
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def memory(step: dict[str, Any]) -> str:
    """nvidia-smi's whole-device peak in the step's window; the step's own torch peak where it has one."""
    parts = []
    device = step.get("gpu_memory", {})
    if "peak_used_mib" in device:
        parts.append(f"{device['peak_used_mib'] / 1024:.1f} GiB device")
    torch_peak = step.get("metrics", {}).get("torch_memory", {}).get("max_allocated_mib")
    if torch_peak is not None:
        parts.append(f"{torch_peak / 1024:.1f} GiB torch")
    left = device.get("left_running")
    if left:
        parts.append(f"{len(left)} GPU process(es) left running")
    return ", ".join(parts) or "-"


def summary(step: dict[str, Any]) -> str:
    """The step's headline numbers; its error when it did not succeed."""
    if step["status"] != "ok":
        return step.get("error") or ""
    describe = SUMMARIES.get("train" if step["name"].startswith("train_") else step["name"])
    if describe is None or not step.get("metrics"):
        return ""
    try:
        return describe(step["metrics"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
        log.warning("%s: metrics not summarised (%s)", step["name"], error)
        return "see gpu_check.json"


def _env(m: dict[str, Any]) -> str:
    cuda = m["cuda"]
    return f"{cuda.get('device', 'no CUDA device')}, CUDA {cuda.get('torch_cuda')}, vLLM platform {m.get('vllm_platform')}"


def _bench(m: dict[str, Any]) -> str:
    scores = ", ".join(f"{k} {v:.3f}" for k, v in m.items() if k.startswith("avg@"))
    return (
        f"{m['tokens_per_s']:.0f} generated tokens/s ({m['generated_tokens']} tokens, "
        f"{m['completions']} completions, {m['generation_s']:.1f} s generating); {scores}"
    )


def _overhead(m: dict[str, Any]) -> str:
    seconds = m["seconds"]
    return (
        f"rlvr/bare = {m['rlvr_over_bare']:.3f} (bare {seconds['bare']:.1f} s, rlvr {seconds['rlvr']:.1f} s)"
    )


def _verify_math(m: dict[str, Any]) -> str:
    rates = {int(w): r["median"] for w, r in m["rlvr_pairs_s"].items()}
    most = max(rates)
    return (
        f"{rates[most]:.0f} pairs/s with {most} workers (1 worker: {rates[1]:.0f}; "
        f"math-verify: {m['math_verify_pairs_s']['median']:.0f})"
    )


def _sandbox(m: dict[str, Any]) -> str:
    return (
        f"{m['local_runs_s']:.0f} local sandbox runs/s on {m['cpu_count']} cores "
        f"(plain subprocess {m['plain_runs_s']:.0f}/s); code verifier {m['code_programs_s']:.1f} programs/s"
    )


def _train(m: dict[str, Any]) -> str:
    split = m["step_split_s"]
    # without a separate reward time the trainer's rollout time includes the scoring
    labels = {"rollout": "rollout" if split.get("reward") is not None else "rollout+reward"}
    parts = " + ".join(
        f"{labels.get(name, name)} {split[name]:.2f}"
        for name in ("rollout", "reward", "train", "sync")
        if split.get(name) is not None
    )
    check = m["sync_check"]
    verdict = "ok" if check["ok"] else "**MISMATCH**"
    return (
        f"{m['steps']} steps, {m['dtype']}; step {split['step']:.2f} s = {parts}; sync check {verdict} "
        f"(gap {check['gap_resynced']:.2g} after sync, {check['gap_stale']:.2g} stale, tolerance {check['tolerance']:g})"
    )


SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "env": _env,
    "bench": _bench,
    "overhead": _overhead,
    "verify_math": _verify_math,
    "sandbox": _sandbox,
    "train": _train,
}
