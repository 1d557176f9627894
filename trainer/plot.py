"""`rlvr train plot RUN`: reward and completion-length curves, and the evaluations, as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .metrics import read_metrics


def plot_run(run: str | Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(run)
    rows = [r for r in records if r.get("kind") != "eval"]
    evals = [r for r in records if r.get("kind") == "eval"]
    outputs = []
    steps = [r["step"] for r in rows]
    for key, label in (("reward", "mean reward"), ("completion_length", "completion length (tokens)")):
        if not rows:
            break
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(steps, [r[key] for r in rows], marker=".", label=label)
        for component in sorted(k for k in rows[0] if k.startswith(f"{key}/")):
            ax.plot(steps, [r.get(component, float("nan")) for r in rows], label=component.split("/", 1)[1])
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = Path(run) / f"{key}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        outputs.append(path)
    if evals:
        outputs.append(plot_evals(evals, Path(run) / "eval.png", plt))
    return outputs


def plot_evals(evals: list[dict[str, Any]], path: Path, plt: Any) -> Path:
    """Held-out accuracy per benchmark with its 95% interval, and the training reward's
    components (format …) on the same completions, in a second panel."""
    steps = [r["step"] for r in evals]
    names = sorted(
        {k.split("/")[1] for r in evals for k in r if k.startswith("eval/") and k.endswith("/accuracy")}
    )
    fig, (acc_ax, comp_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name in names:
        mean = [r.get(f"eval/{name}/accuracy", float("nan")) for r in evals]
        low = [m - r.get(f"eval/{name}/ci_low", m) for m, r in zip(mean, evals)]
        high = [r.get(f"eval/{name}/ci_high", m) - m for m, r in zip(mean, evals)]
        acc_ax.errorbar(steps, mean, yerr=[low, high], marker="o", capsize=3, label=name)
        answered = [r.get(f"eval/{name}/answered", float("nan")) for r in evals]
        comp_ax.plot(steps, answered, marker="s", linestyle="--", label=f"{name}: an answer found")
        for key in sorted({k for r in evals for k in r if k.startswith(f"eval/{name}/reward/")}):
            component = key.rsplit("/", 1)[1]
            comp_ax.plot(
                steps, [r.get(key, float("nan")) for r in evals], marker="o", label=f"{name}: {component}"
            )
    acc_ax.set_title("held-out accuracy (95% interval)")
    comp_ax.set_title("format: answers found; the reward's components")
    for ax in (acc_ax, comp_ax):
        ax.set_xlabel("step")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
