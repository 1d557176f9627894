"""`rlvr bench …`: run, rescore, compare and list benchmarks (a thin layer over rlvr.benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rlvr.errors import InputFileError

from .common import console, deprecated, err_console, key_values, make_app
from .tables import print_results

bench_app = make_app("Run reasoning benchmarks and compare runs.")


@bench_app.command("run")
def run_command(
    benchmarks: Annotated[
        list[str], typer.Argument(help="Benchmark names (see `rlvr bench list`) or spec files.")
    ],
    model: Annotated[str, typer.Option(help="Model path or hub id; the served name for --engine openai.")],
    out: Annotated[Path, typer.Option(help="Run directory; the same command resumes an interrupted run.")],
    engine: Annotated[str, typer.Option(help="vllm, openai, hf or ray.")] = "vllm",
    samples_per_prompt: Annotated[
        int, typer.Option("--samples-per-prompt", "-n", help="Samples per problem.", min=1)
    ] = 1,
    max_new_tokens: Annotated[int, typer.Option(help="New-token limit per sample.", min=1)] = 32768,
    temperature: Annotated[float, typer.Option(min=0.0)] = 0.6,
    top_p: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.95,
    seed: Annotated[int, typer.Option()] = 0,
    limit: Annotated[int | None, typer.Option(help="First N problems per benchmark.", min=1)] = None,
    data_dir: Annotated[str | None, typer.Option(help="Local benchmark files instead of the HF hub.")] = None,
    split: Annotated[
        str | None,
        typer.Option(help="A generator's split (train/test never overlap) or a hub dataset's split."),
    ] = None,
    repos: Annotated[
        str | None, typer.Option(help="SWE benchmarks: source repositories/archives (as `rlvr swe eval`).")
    ] = None,
    template: Annotated[
        str, typer.Option(help="Prompt template: r1 (chat, R1's advice), chat, r1_zero or plain.")
    ] = "r1",
    think: Annotated[bool, typer.Option(help="Start the answer with '<think>\\n' (R1 distills).")] = False,
    tensor_parallel_size: Annotated[int, typer.Option("--tp", help="vLLM tensor parallel size.", min=1)] = 1,
    data_parallel: Annotated[int, typer.Option("--dp", help="Engine replicas through Ray.", min=1)] = 1,
    engine_option: Annotated[
        list[str], typer.Option("--engine-option", "-e", help="KEY=VALUE passed to the engine; repeatable.")
    ] = [],  # noqa: B006 - typer reads the default
    score_workers: Annotated[int | None, typer.Option(help="Scoring processes.", min=1)] = None,
    n: Annotated[int | None, typer.Option("--n", hidden=True)] = None,
    max_tokens: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Generate, score and report; writes config.json, samples.jsonl, details.parquet, results.json, report.md."""
    from rlvr.benchmarks.runner import BenchConfig, run_benchmarks
    from rlvr.engines import SamplingConfig

    samples_per_prompt = deprecated("--n", "--samples-per-prompt (-n)", n, samples_per_prompt)
    max_new_tokens = deprecated("--max-tokens", "--max-new-tokens", max_tokens, max_new_tokens)
    options = key_values(engine_option, "--engine-option")
    if engine == "vllm" and tensor_parallel_size > 1:
        options["tensor_parallel_size"] = tensor_parallel_size
    if data_parallel > 1:
        options = {"engine": engine, "replicas": data_parallel, "engine_options": options}
        engine = "ray"
    sampling = SamplingConfig(
        samples_per_prompt=samples_per_prompt,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        seed=seed,
    )
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
        split=split,
        swe_repos=repos,
        seed=seed,
        score_workers=score_workers,
    )
    columns = TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    progress = Progress(*columns, console=err_console, transient=True)
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
    print_results(results, f"rlvr bench: {model}")
    print_outputs(out)


def print_outputs(out: Path) -> None:
    """Where the report, the per-problem details and the plots are."""
    plots = sorted(p.name for p in out.glob("*.png"))
    console.print(f"report:  {out / 'report.md'}", highlight=False, soft_wrap=True)
    console.print(f"details: {out / 'details.parquet'}", highlight=False, soft_wrap=True)
    if plots:
        console.print(f"plots:   {out}/ {', '.join(plots)}", highlight=False, soft_wrap=True)


@bench_app.command("rescore")
def rescore_command(
    run: Annotated[Path, typer.Argument(help="A run directory.")],
    score_workers: Annotated[int | None, typer.Option(help="Scoring processes.", min=1)] = None,
) -> None:
    """Score a run's saved samples again with the current verifiers (no generation)."""
    from rlvr.benchmarks.runner import rescore

    results = rescore(run, score_workers)
    print_results(results, f"rescored: {run}")
    print_outputs(run)


@bench_app.command("report")
def report_command(run: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Print a finished run's results table again."""
    print_results(_load_results(run), f"rlvr bench: {run}")
    print_outputs(run)


@bench_app.command("compare")
def compare_command(runs: Annotated[list[Path], typer.Argument(help="Run directories.")]) -> None:
    """Print runs side by side: avg@n (± stderr) per benchmark."""
    from .tables import print_comparison

    print_comparison({str(run): _load_results(run) for run in runs})


@bench_app.command("list")
def list_command() -> None:
    """List the registered benchmarks and where their data comes from."""
    from rlvr.benchmarks.problems import list_benchmarks

    from .tables import print_benchmarks

    print_benchmarks(list_benchmarks())


def _load_results(run: Path) -> dict:
    path = run / "results.json"
    if not path.exists():
        raise InputFileError(f"{run}: no results.json (finish or rescore the run first)")
    return json.loads(path.read_text())
