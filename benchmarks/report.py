"""From scored samples to `details.parquet`, `results.json`, `report.md` and PNG plots."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from rlvr.errors import ConfigError

from .majority import group_answers, text_keys
from .metrics import avg_at_n, check_sample_counts, length_stats, maj_at_k, mean_with_error, pass_at_k

GROUP_COLUMNS = ("level", "subject", "kind", "difficulty")
MAJORITY_TIMEOUT_S = 10.0


def default_ks(n: int) -> list[int]:
    """1, 2, 4, … up to n, and n itself."""
    ks = [k for k in (2**i for i in range(20)) if k <= n]
    return ks if ks[-1] == n else [*ks, n]


def details_frame(suites: list, records: dict, scored: dict) -> pd.DataFrame:
    """One row per sample."""
    rows = []
    for suite in suites:
        for problem in suite.problems:
            key = (suite.name, problem.id)
            if key not in records:
                continue
            for i, (sample, result) in enumerate(zip(records[key]["samples"], scored[key])):
                row = {
                    "benchmark": suite.name,
                    "problem_id": problem.id,
                    "sample": i,
                    "completion": sample["text"],
                    "extracted": result.extracted,
                    "correct": bool(result.correct),
                    "score": result.score,
                    "reason": result.reason,
                    "tokens": sample["tokens"],
                    "finish_reason": sample["finish_reason"],
                }
                for column in GROUP_COLUMNS:
                    if column in problem.metadata:
                        row[column] = str(problem.metadata[column])
                rows.append(row)
    return pd.DataFrame(rows)


def majority_keys(details: pd.DataFrame, workers: int | None) -> list:
    """Vote keys per sample: answers grouped by mathematical equality, in the deadline pool."""
    from rlvr.pool import shared_pool

    groups = list(details.groupby(["benchmark", "problem_id"], sort=False))
    answers = [list(frame["extracted"]) for _, frame in groups]
    outcomes = shared_pool(workers).map(group_answers, [(a,) for a in answers], MAJORITY_TIMEOUT_S)
    keys = pd.Series(index=details.index, dtype=object)
    for (_, frame), batch, (status, value) in zip(groups, answers, outcomes):
        keys.loc[frame.index] = value if status == "ok" else text_keys(batch)
    return keys.tolist()


def benchmark_metrics(frame: pd.DataFrame, n: int, seed: int) -> dict[str, Any]:
    check_sample_counts(frame.groupby("problem_id").size().to_dict(), n)
    per_problem = frame.sort_values("sample").groupby("problem_id", sort=False)
    ks = default_ks(n)
    correct = {pid: g["correct"].tolist() for pid, g in per_problem}
    votes = {pid: g["vote"].tolist() for pid, g in per_problem}
    avg = mean_with_error([avg_at_n(c) for c in correct.values()], seed=seed)
    result: dict[str, Any] = {"problems": len(correct), "n": n, f"avg@{n}": avg}
    for k in ks:
        result[f"pass@{k}"] = mean_with_error([pass_at_k(n, sum(c), k) for c in correct.values()], seed=seed)
    for k in ks[1:]:
        result[f"maj@{k}"] = mean_with_error([maj_at_k(votes[p], correct[p], k) for p in correct], seed=seed)
    result["lengths"] = length_stats(frame["tokens"].tolist(), frame["finish_reason"].tolist())
    for column in GROUP_COLUMNS:
        if column in frame.columns and frame[column].notna().all():
            result.setdefault("by_group", {})[column] = (
                frame.groupby(column)["correct"].mean().round(4).to_dict()
            )
    return result


def write_outputs(
    out: Path, suites: list, records: dict, scored: dict, config, generation_s: float | None
) -> dict:
    details = details_frame(suites, records, scored)
    if details.empty:
        raise ConfigError("samples", f"{out}: no samples to score")
    details["vote"] = majority_keys(details, config.score_workers)
    details.drop(columns="vote").to_parquet(out / "details.parquet", index=False)
    missing = [f"{s.name}/{p.id}" for s in suites for p in s.problems if (s.name, p.id) not in records]
    if missing:
        raise ConfigError(
            "n",
            f"{len(missing)} problem(s) have no samples ({', '.join(missing[:5])}); "
            "run the same command again to finish them",
        )
    results = {
        "model": config.model,
        "engine": config.engine,
        "sampling": config.sampling.model_dump(mode="json"),
        "benchmarks": {
            s.name: benchmark_metrics(
                details[details["benchmark"] == s.name], config.sampling.samples_per_prompt, config.seed
            )
            for s in suites
        },
        "generation_s": generation_s,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    plots = write_plots(out, details)
    (out / "report.md").write_text(report_markdown(results, plots))
    return results


def results_rows(results: dict) -> list[dict[str, str]]:
    """The headline numbers, one row per benchmark (for the terminal table and report.md)."""
    rows = []
    for name, m in results["benchmarks"].items():
        n = m["n"]
        avg = m[f"avg@{n}"]
        row = {
            "benchmark": name,
            "problems": str(m["problems"]),
            "n": str(n),
            "avg@n ± se": f"{100 * avg['mean']:.1f} ± {100 * avg['stderr']:.1f}",
            "95% CI": f"[{100 * avg['ci_low']:.1f}, {100 * avg['ci_high']:.1f}]",
            f"pass@{n}": f"{100 * m[f'pass@{n}']['mean']:.1f}",
        }
        row[f"maj@{n}"] = f"{100 * m[f'maj@{n}']['mean']:.1f}" if f"maj@{n}" in m else "-"
        row["mean tokens"] = f"{m['lengths']['mean_tokens']:.0f}"
        row["truncated"] = f"{100 * m['lengths']['truncated_share']:.0f}%"
        rows.append(row)
    return rows


def report_markdown(results: dict, plots: list[str]) -> str:
    rows = results_rows(results)
    header = list(rows[0])
    lines = [
        f"# rlvr bench: {results['model']}",
        "",
        f"Engine `{results['engine']}`, sampling `{json.dumps(results['sampling'])}`. "
        "Scores in percent; avg@n is pass@1 averaged over the n samples, with its standard error "
        "over problems and a bootstrap 95% interval.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row[h] for h in header) + " |" for row in rows]
    for name, m in results["benchmarks"].items():
        ks = sorted(int(k.split("@")[1]) for k in m if k.startswith("pass@"))
        lines += ["", f"## {name}", "", "| k | pass@k | maj@k |", "|---|---|---|"]
        for k in ks:
            maj = m.get(f"maj@{k}")
            maj_text = "-" if maj is None else f"{100 * maj['mean']:.1f}"
            lines.append(f"| {k} | {100 * m[f'pass@{k}']['mean']:.1f} | {maj_text} |")
        for column, values in m.get("by_group", {}).items():
            lines += ["", f"Accuracy by {column}:", "", f"| {column} | accuracy |", "|---|---|"]
            lines += [f"| {g} | {100 * v:.1f} |" for g, v in values.items()]
    lines += [""] + [f"![{Path(p).stem}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def write_plots(out: Path, details: pd.DataFrame) -> list[str]:
    """Accuracy by level/subject per benchmark, and completion lengths (correct vs wrong)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, ax = plt.subplots(figsize=(7, 4))
    for correct, label in ((True, "correct"), (False, "wrong")):
        tokens = details.loc[details["correct"] == correct, "tokens"]
        if len(tokens):
            ax.hist(tokens, bins=30, alpha=0.6, label=label)
    ax.set_xlabel("completion tokens")
    ax.set_ylabel("samples")
    ax.legend()
    ax.set_title("Completion lengths")
    fig.tight_layout()
    fig.savefig(out / "lengths.png", dpi=100)
    plt.close(fig)
    written.append("lengths.png")
    for (bench, column), frame in _group_frames(details):
        accuracy = frame.groupby(column)["correct"].mean().sort_index()
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.bar([str(i) for i in accuracy.index], accuracy.values * 100)
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{bench}: accuracy by {column}")
        ax.tick_params(axis="x", labelrotation=30)
        fig.tight_layout()
        name = f"{bench}_by_{column}.png"
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(name)
    return written


def _group_frames(details: pd.DataFrame):
    for bench, frame in details.groupby("benchmark"):
        for column in ("level", "subject"):
            if column in frame.columns and frame[column].notna().all() and frame[column].nunique() > 1:
                yield (bench, column), frame
