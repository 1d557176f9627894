"""`rlvr train CONFIG.yaml [-s key=value]…` and `rlvr train plot RUN`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rlvr.errors import RlvrError

from .common import console, key_values


def train(
    target: Annotated[
        str, typer.Argument(help="A config file (YAML/JSON), or `plot` to draw a run's curves.")
    ],
    run: Annotated[Path | None, typer.Argument(help="With `plot`: the run directory.")] = None,
    set_: Annotated[list[str], typer.Option("--set", "-s", help="Override a config field: KEY=VALUE.")] = [],  # noqa: B006
) -> None:
    """Train a policy with GRPO on verifiable rewards (see docs/trainer.md)."""
    if target == "plot":
        if run is None:
            raise RlvrError("plot: give the run directory, e.g. `rlvr train plot runs/grpo`")
        from rlvr.trainer.plot import plot_run

        for path in plot_run(run):
            console.print(f"wrote {path}")
        return
    from rlvr.trainer import GRPOConfig, GRPOTrainer

    config = GRPOConfig.from_file(target, **key_values(set_, "--set"))
    trainer = GRPOTrainer(config)
    try:
        history = trainer.train()
    finally:
        trainer.close()
    _summary(history, config.output_dir)


def _summary(history: list[dict], output_dir: str) -> None:
    if not history:
        console.print("nothing to do: the run had already reached its last step")
        return
    window = max(1, min(10, len(history) // 2))
    table = Table("", "reward", "completion length", "step time (s)")
    for label, part in (("first steps", history[:window]), ("last steps", history[-window:])):
        table.add_row(
            f"{label} ({len(part)})",
            f"{_mean(part, 'reward'):.3f}",
            f"{_mean(part, 'completion_length'):.1f}",
            f"{_mean(part, 'step_time_s'):.2f}",
        )
    console.print(table)
    console.print(f"metrics: {Path(output_dir) / 'metrics.jsonl'}")


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)
