"""Result tables that fit the terminal: wide tables are transposed (a metric per row) and split
into as many blocks as the width needs, never squashed into wrapped cells."""

from __future__ import annotations

from rich.table import Table

from .common import console


def _fits(rows: list[dict[str, str]], width: int) -> bool:
    columns = list(rows[0])
    widths = [max(len(c), *(len(r[c]) for r in rows)) for c in columns]
    return sum(widths) + 3 * len(columns) + 1 <= width


def print_rows(rows: list[dict[str, str]], title: str, key: str) -> None:
    """One row per item when that fits the console, else one column per item, in blocks."""
    if not rows:
        console.print(f"{title}: nothing to show")
        return
    width = console.width
    if _fits(rows, width):
        table = Table(title=title, title_justify="left")
        for column in rows[0]:
            table.add_column(column, justify="left" if column == key else "right", no_wrap=True)
        for row in rows:
            table.add_row(*row.values())
        console.print(table)
        return
    labels = [c for c in rows[0] if c != key]
    label_width = max(len(c) for c in labels)
    cell = max(len(r[c]) for r in rows for c in rows[0])
    per_block = max(1, (width - label_width - 4) // (cell + 3))
    for start in range(0, len(rows), per_block):
        block = rows[start : start + per_block]
        table = Table(title=title if start == 0 else None, title_justify="left")
        table.add_column("", no_wrap=True)
        for row in block:
            table.add_column(row[key], justify="right", no_wrap=True, overflow="fold")
        for label in labels:
            table.add_row(label, *(row[label] for row in block))
        console.print(table)


def print_results(results: dict, title: str) -> None:
    from rlvr.benchmarks.report import results_rows

    print_rows(results_rows(results), title, key="benchmark")


def print_comparison(runs: dict[str, dict]) -> None:
    names = sorted({b for r in runs.values() for b in r["benchmarks"]})
    rows = []
    for name in names:
        row = {"benchmark": name}
        for run, result in runs.items():
            m = result["benchmarks"].get(name)
            if m is None:
                row[run] = "-"
                continue
            avg = m[f"avg@{m['n']}"]
            row[run] = f"{100 * avg['mean']:.1f} ± {100 * avg['stderr']:.1f} (n={m['n']})"
        rows.append(row)
    print_rows(rows, "rlvr bench compare (avg@n ± se, %)", key="benchmark")


def print_benchmarks(names: list[str]) -> None:
    """One row per benchmark; only the source column folds when the terminal is narrow."""
    from rlvr.benchmarks.problems import BENCHMARKS

    table = Table(title="benchmarks", title_justify="left")
    for column in ("name", "kind", "verifier"):
        table.add_column(column, no_wrap=True)
    table.add_column("source", overflow="fold")
    for name in names:
        spec = BENCHMARKS.get(name)
        source = f"generator {spec.generator}" if spec.generator else (spec.hub_id or "-")
        table.add_row(name, spec.kind, spec.verifier, source)
    console.print(table)
