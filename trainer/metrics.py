"""Per-step metrics: one JSON line each in OUTPUT_DIR/metrics.jsonl, TensorBoard / W&B when asked
for and installed, and a rich progress bar with the latest reward."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .config import GRPOConfig


class MetricsLog:
    def __init__(self, config: GRPOConfig) -> None:
        self.directory = Path(config.output_dir)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "config.json").write_text(config.model_dump_json(indent=2))
        self.path = self.directory / "metrics.jsonl"
        self.writers: list[Any] = []
        if "tensorboard" in config.report_to:
            from torch.utils.tensorboard import SummaryWriter

            self.writers.append(SummaryWriter(str(self.directory / "tensorboard")))
        self.wandb = None
        if "wandb" in config.report_to:
            import wandb

            self.wandb = wandb.init(config=config.model_dump(), dir=str(self.directory))

    def records(self) -> list[dict[str, Any]]:
        """The lines written so far (a resumed run's included)."""
        return read_metrics(self.directory) if self.path.exists() else []

    def write(self, metrics: dict[str, Any], example: str | None = None) -> None:
        record = {**metrics, **({"example": example[:2000]} if example is not None else {})}
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")  # one write: a kill leaves at most one cut line
        step = int(metrics["step"])
        numbers = {
            k: v
            for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "step"
        }
        for writer in self.writers:
            for key, value in numbers.items():
                writer.add_scalar(key, value, step)
        if self.wandb is not None:
            self.wandb.log(numbers, step=step)

    @contextmanager
    def progress(self, total: int, start: int = 0) -> Iterator[Callable[[dict[str, float]], None]]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (
            TextColumn("GRPO"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
        )
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("train", total=total, completed=start, status="")

            def advance(metrics: dict[str, float]) -> None:
                status = (
                    f"reward {metrics['reward']:.3f}  len {metrics['completion_length']:.0f}  "
                    f"{metrics['step_time_s']:.1f} s/step"
                )
                bar.update(task, advance=1, status=status)

            yield advance

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.wandb is not None:
            self.wandb.finish()


def read_metrics(run: str | Path) -> list[dict[str, Any]]:
    """Every complete line of a run's metrics.jsonl: training steps, and evaluations (`"kind": "eval"`)."""
    path = Path(run) / "metrics.jsonl"
    if not path.exists():
        from rlvr.errors import InputFileError

        raise InputFileError(f"{path}: no metrics (is {run} a training run directory?)")
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill
            continue
    return records
