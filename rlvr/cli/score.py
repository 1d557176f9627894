"""`rlvr score` and `rlvr verifiers`: score a table of completions; list the verifiers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .common import console, deprecated, err_console


def score(
    input: Annotated[Path, typer.Argument(help="JSONL, Parquet or CSV with completions (and answers).")],
    verifier: Annotated[
        list[str],
        typer.Option(
            "--verifier",
            "-V",
            help="NAME or NAME=WEIGHT; repeat to combine; also gate=NAME, overlong=MAX:BUF.",
        ),
    ] = ["math"],  # noqa: B006 - typer reads the default
    completion_field: Annotated[str, typer.Option(help="Column holding the model's output.")] = "completion",
    answer_field: Annotated[str, typer.Option(help="Column holding the reference answer.")] = "answer",
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: CPU count).", min=1)] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write; default INPUT.scored.EXT.")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            flag_value="local",
            help="Score on a Ray cluster: ADDRESS, 'auto' for the running one; bare --ray: the running one, "
            "else a new local instance.",
        ),
    ] = None,
    completion_col: Annotated[str | None, typer.Option(hidden=True)] = None,
    answer_col: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Score completions; write the rows back with reward, correct, extracted and reason columns."""
    from rlvr.scoring import score_file

    completion_field = deprecated("--completion-col", "--completion-field", completion_col, completion_field)
    answer_field = deprecated("--answer-col", "--answer-field", answer_col, answer_field)
    out = output or input.with_name(f"{input.stem}.scored{input.suffix}")
    columns = TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("score", total=None)
        summary = score_file(
            input,
            out,
            verifier,
            completion_field,
            answer_field,
            workers,
            on_progress=lambda k: progress.advance(task, k),
            on_start=lambda rows: progress.update(task, total=rows),
            ray_address=None if ray in (None, "local") else ray,
            use_ray=ray is not None,
        )
    table = Table(title=f"rlvr score: {input.name}")
    for column in ("rows", "mean reward", "accuracy", "timeouts", "errors", "rows/s"):
        table.add_column(column, justify="right")
    accuracy = "n/a" if summary.accuracy is None else f"{summary.accuracy:.3f}"
    table.add_row(
        str(summary.rows),
        f"{summary.mean_reward:.3f}",
        accuracy,
        str(summary.timeouts),
        str(summary.errors),
        f"{summary.rows_per_s:.0f}",
    )
    console.print(table)
    console.print(f"scored rows: {out}")


def list_verifiers_command() -> None:
    """List the registered verifiers (built-in and from plugins)."""
    from rlvr.verifiers import list_verifiers

    for name in list_verifiers():
        console.print(name)
