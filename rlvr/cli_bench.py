"""`rlvr bench …`: run, rescore, compare and list benchmarks (a thin layer over rlvr.benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rlvr.errors import RlvrError

bench_app = typer.Typer(help="Run reasoning benchmarks and compare runs.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def engine_options(pairs: list[str]) -> dict[str, Any]:
    """`["enforce_eager=true", "max_model_len=4096"]` -> typed options."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RlvrError(f"--engine-option: expected KEY=VALUE, got {pair!r}")
        options[key.replace("-", "_")] = _parse_value(value)
    return options


def print_results(results: dict, title: str) -> None:
    from rlvr.benchmarks.report import results_rows

    rows = results_rows(results)
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@bench_app.command("run")
def run_command(
    benchmarks: Annotated[
        list[str], typer.Argument(help="Benchmark names (see `rlvr bench list`) or spec files.")
    ],
    model: Annotated[str, typer.Option(help="Model path or hub id; the served name for --engine openai.")],
    out: Annotated[Path, typer.Option(help="Run directory; the same command resumes an interrupted run.")],
    engine: Annotated[str, typer.Option(help="vllm, openai or hf.")] = "vllm",
    n: Annotated[int, typer.Option(help="Samples per problem.", min=1)] = 1,
    max_tokens: Annotated[int, typer.Option(help="New tokens per sample.", min=1)] = 32768,
    temperature: Annotated[float, typer.Option(min=0.0)] = 0.6,
    top_p: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.95,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int | None, typer.Option(help="First N problems per benchmark.", min=1)] = None,
    data_dir: Annotated[str | None, typer.Option(help="Local benchmark files instead of the HF hub.")] = None,
    template: Annotated[str, typer.Option(help="r1 (chat, no system prompt) or plain (base models).")] = "r1",
    think: Annotated[bool, typer.Option(help="Start the answer with '<think>\\n' (R1 distills).")] = False,
    tensor_parallel_size: Annotated[int, typer.Option("--tp", help="vLLM tensor parallel size.", min=1)] = 1,
    data_parallel: Annotated[int, typer.Option("--dp", help="Engine replicas through Ray.", min=1)] = 1,
    engine_option: Annotated[
        list[str], typer.Option("--engine-option", "-e", help="KEY=VALUE passed to the engine; repeatable.")
    ] = [],  # noqa: B006 - typer reads the default
    score_workers: Annotated[int | None, typer.Option(help="Scoring processes.", min=1)] = None,
) -> None:
    """Generate, score and report; writes config.json, samples.jsonl, details.parquet, results.json, report.md."""
    from rlvr.benchmarks.runner import BenchConfig, run_benchmarks
    from rlvr.engines import SamplingConfig

    try:
        options = engine_options(engine_option)
        if engine == "vllm" and tensor_parallel_size > 1:
            options["tensor_parallel_size"] = tensor_parallel_size
        if data_parallel > 1:
            options = {"engine": engine, "replicas": data_parallel, "engine_options": options}
            engine = "ray"
        sampling = SamplingConfig(n=n, max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed)
        config = BenchConfig(
            benchmarks=benchmarks,
            model=model,
            engine=engine,
            engine_options=options,
            sampling=sampling,
            template=template,
            think=think,
            limit=limit,
            data_dir=data_dir,
            seed=seed,
            score_workers=score_workers,
        )
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        )
        task = progress.add_task("generating", total=None)

        def started(total: int, done: int) -> None:  # the data loaded: show the bar from here on
            progress.start()
            progress.update(task, total=total, completed=done)
            if done:
                progress.console.print(f"resuming {out}: {done} of {total} problems already saved")

        try:
            results = run_benchmarks(config, out, on_start=started, on_problem=lambda: progress.advance(task))
        finally:
            progress.stop()
    except (RlvrError, ValueError) as exc:
        _fail(str(exc))
        return
    print_results(results, f"rlvr bench: {model}")
    console.print(f"report: {out / 'report.md'}")


@bench_app.command("rescore")
def rescore_command(
    run: Annotated[Path, typer.Argument(help="A run directory.")],
    score_workers: Annotated[int | None, typer.Option(help="Scoring processes.", min=1)] = None,
) -> None:
    """Score a run's saved samples again with the current verifiers (no generation)."""
    from rlvr.benchmarks.runner import rescore

    try:
        results = rescore(run, score_workers)
    except (RlvrError, ValueError) as exc:
        _fail(str(exc))
        return
    print_results(results, f"rescored: {run}")


@bench_app.command("compare")
def compare_command(runs: Annotated[list[Path], typer.Argument(help="Run directories.")]) -> None:
    """Print runs side by side: avg@n (± stderr) per benchmark."""
    loaded = {}
    for run in runs:
        path = run / "results.json"
        if not path.exists():
            _fail(f"{run}: no results.json (finish or rescore the run first)")
        loaded[str(run)] = json.loads(path.read_text())
    names = sorted({b for r in loaded.values() for b in r["benchmarks"]})
    table = Table(title="rlvr bench compare (avg@n ± se, %)")
    table.add_column("benchmark")
    for run in loaded:
        table.add_column(run, justify="right")
    for name in names:
        cells = []
        for result in loaded.values():
            m = result["benchmarks"].get(name)
            if m is None:
                cells.append("-")
                continue
            avg = m[f"avg@{m['n']}"]
            cells.append(f"{100 * avg['mean']:.1f} ± {100 * avg['stderr']:.1f} (n={m['n']})")
        table.add_row(name, *cells)
    console.print(table)


@bench_app.command("list")
def list_command() -> None:
    """List the registered benchmarks and where their data comes from."""
    from rlvr.benchmarks.problems import BENCHMARKS
    from rlvr.benchmarks.procedural import GENERATED

    table = Table(title="benchmarks")
    for column in ("name", "kind", "verifier", "hub dataset", "local file"):
        table.add_column(column)
    for name in BENCHMARKS.names():
        spec = BENCHMARKS.get(name)
        hub = "built in (generated)" if name in GENERATED else (spec.hub_id or "-")
        table.add_row(name, spec.kind, spec.verifier, hub, ", ".join(spec.local_files) or "-")
    console.print(table)
