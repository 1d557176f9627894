"""`rlvr swe …`: evaluate patches on SWE-bench-style instances, build their environments,
write the built-in suite (a thin layer over rlvr.benchmarks.swe)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rlvr.errors import RlvrError

from .common import console, err_console, make_app
from .tables import print_rows

swe_app = make_app("SWE-style tasks: repository patches judged by their tests in the sandbox.")

InstancesOpt = Annotated[
    str,
    typer.Option("--instances", help="Records: a JSON/JSONL file, or a hub id (lite, verified, owner/name)."),
]
IdsOpt = Annotated[
    list[str], typer.Option("--ids", help="Only these instance ids (repeatable, or comma-separated).")
]
ReposOpt = Annotated[
    Path | None,
    typer.Option("--repos", help="Offline sources: owner__name[.git] repositories or <instance_id>.tar.gz."),
]
BackendOpt = Annotated[str, typer.Option("--backend", help="Sandbox: local (bubblewrap) or docker.")]
SpecDirOpt = Annotated[
    list[Path], typer.Option("--spec-dir", help="Extra environment specs (YAML); repeatable.")
]
CacheOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Environments and clones (default ~/.cache/rlvr/swe).")
]


def _ids(values: list[str]) -> list[str]:
    return [part for value in values for part in value.split(",") if part]


def _cache(cache_dir: Path | None) -> Path:
    from rlvr.benchmarks.swe.envs import DEFAULT_CACHE

    return cache_dir or DEFAULT_CACHE


@swe_app.command("eval")
def eval_command(
    instances: InstancesOpt,
    predictions: Annotated[
        str, typer.Option("--predictions", help="SWE-bench predictions JSONL, or `gold` / `empty`.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Run directory; the same command resumes.")],
    repos: ReposOpt = None,
    backend: BackendOpt = "local",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Instances evaluated at once.")] = 1,
    ids: IdsOpt = [],  # noqa: B006 - typer reads the default
    timeout_s: Annotated[float, typer.Option("--timeout-s", min=1, max=600, help="Per instance.")] = 600.0,
    memory_mb: Annotated[int, typer.Option("--memory-mb", min=256, help="Per instance.")] = 4096,
    guard_tests: Annotated[
        bool, typer.Option(help="Undo model edits to test files and conftest.py before the tests run.")
    ] = True,
    spec_dir: SpecDirOpt = [],  # noqa: B006
    cache_dir: CacheOpt = None,
    split: Annotated[str, typer.Option(help="Hub split.")] = "test",
) -> None:
    """Evaluate predictions; writes OUT/report.json and OUT/<instance_id>/ (patch, logs, report)."""
    from rlvr.benchmarks.swe.harness import evaluate
    from rlvr.benchmarks.swe.records import load_instances

    records = load_instances(instances, split=split, ids=_ids(ids) or None)
    columns = TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    progress = Progress(*columns, console=err_console, transient=True)
    task = progress.add_task("evaluating", total=len(records))
    with progress:
        report = evaluate(
            records,
            predictions,
            out,
            backend=backend,
            workers=workers,
            repos_dir=repos,
            cache_dir=_cache(cache_dir),
            spec_dirs=tuple(str(d) for d in spec_dir),
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            guard_tests=guard_tests,
            on_result=lambda r: progress.advance(task),
        )
    keys = ("total", "submitted", "completed", "resolved", "unresolved", "empty_patch", "error")
    print_rows(
        [{"what": k, "instances": str(report[f"{k}_instances"])} for k in keys], "rlvr swe eval", "what"
    )
    for instance_id, error in report["errors"].items():
        err_console.print(f"[yellow]{instance_id}[/]: {error}", highlight=False, soft_wrap=True)
    console.print(f"report: {Path(out) / 'report.json'}", highlight=False, soft_wrap=True)


@swe_app.command("build")
def build_command(
    instances: InstancesOpt,
    backend: BackendOpt = "local",
    ids: IdsOpt = [],  # noqa: B006
    spec_dir: SpecDirOpt = [],  # noqa: B006
    cache_dir: CacheOpt = None,
    split: Annotated[str, typer.Option(help="Hub split.")] = "test",
) -> None:
    """Build the environments (venvs; images for docker) these instances need, ahead of time."""
    from rlvr.benchmarks.swe.envs import build_env, build_image
    from rlvr.benchmarks.swe.records import load_instances
    from rlvr.benchmarks.swe.specs import spec_for

    records = load_instances(instances, split=split, ids=_ids(ids) or None)
    specs = {}
    for record in records:
        spec = spec_for(record, tuple(str(d) for d in spec_dir))
        specs[spec.key] = spec
    rows = []
    for spec in specs.values():
        env = build_env(spec, _cache(cache_dir))
        image = build_image(env) if backend == "docker" else "-"
        rows.append({"environment": f"{spec.repo} {spec.version}", "python": str(env.python), "image": image})
    print_rows(rows, "rlvr swe build", "environment")


@swe_app.command("specs")
def specs_command(spec_dir: SpecDirOpt = []) -> None:  # noqa: B006
    """List the environment specs (shipped and from --spec-dir)."""
    from rlvr.benchmarks.swe.specs import all_specs

    rows = [
        {"repo": s.repo, "version": s.version, "python": s.python, "checked": "yes" if s.checked else "no"}
        for s in all_specs(tuple(str(d) for d in spec_dir)).values()
    ]
    print_rows(rows, "environment specs", "repo")


@swe_app.command("suite")
def suite_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write it (must not exist).")],
) -> None:
    """Write the built-in suite: OUT/instances.jsonl and OUT/repos/ (evaluate with --repos OUT/repos)."""
    from rlvr.benchmarks.swe.suite import make_suite

    if out.exists():
        raise RlvrError(f"--out: {out} exists; give a new directory")
    instances, repos = make_suite(out)
    (out / "instances.jsonl").write_text("".join(json.dumps(i.model_dump()) + "\n" for i in instances))
    console.print(f"{len(instances)} instances: {out / 'instances.jsonl'}; sources: {repos}", highlight=False)
