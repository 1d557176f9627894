"""`rlvr train plot RUN`: reward and completion-length curves as PNG."""

from __future__ import annotations

from pathlib import Path

from .metrics import read_metrics


def plot_run(run: str | Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(run)
    steps = [r["step"] for r in rows]
    outputs = []
    for key, label in (("reward", "mean reward"), ("completion_length", "completion length (tokens)")):
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
    return outputs
