"""The `rlvr` command: a thin layer over the Python API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rlvr.cli_bench import bench_app
from rlvr.cli_train import train
from rlvr.errors import RlvrError

app = typer.Typer(help="rlvr: verifiable rewards for reasoning models.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.command("train")(train)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@app.command()
def score(
    input: Annotated[Path, typer.Argument(help="JSONL, Parquet or CSV with completions (and answers).")],
    verifier: Annotated[
        list[str],
        typer.Option(
            "--verifier",
            "-v",
            help="NAME or NAME=WEIGHT; repeat to combine; also gate=NAME, overlong=MAX:BUF.",
        ),
    ] = ["math"],  # noqa: B006 - typer reads the default
    completion_col: Annotated[str, typer.Option(help="Column holding the model's output.")] = "completion",
    answer_col: Annotated[str, typer.Option(help="Column holding the reference answer.")] = "answer",
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: CPU count).", min=1)] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write; default INPUT.scored.EXT.")
    ] = None,
) -> None:
    """Score completions; write the rows back with reward, correct, extracted and reason columns."""
    from rlvr.scoring import score_file

    out = output or input.with_name(f"{input.stem}.scored{input.suffix}")
    try:
        with Progress(
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task("score", total=None)
            summary = score_file(
                input,
                out,
                verifier,
                completion_col,
                answer_col,
                workers,
                on_progress=lambda k: progress.advance(task, k),
                on_start=lambda rows: progress.update(task, total=rows),
            )
    except (RlvrError, ValueError) as exc:
        _fail(str(exc))
        return
    table = Table(title=f"rlvr score: {input.name} -> {out}")
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


@app.command("verifiers")
def list_verifiers_command() -> None:
    """List the registered verifiers (built-in and from plugins)."""
    from rlvr.verifiers import list_verifiers

    for name in list_verifiers():
        console.print(name)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
