"""Score a table of completions with verifiers: the API behind `rlvr score`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rlvr.io import TableWriter, read_table, require_columns


class ScoreSummary(BaseModel):
    rows: int
    mean_reward: float
    accuracy: float | None
    timeouts: int
    errors: int
    seconds: float
    output: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def verifier_spec(verifiers: list[str]) -> str:
    """`["math", "format=0.2"]` -> `"math,format=0.2"`; settings such as `gate=format` go after `;`."""
    items = [v for v in verifiers if not v.startswith(("gate=", "overlong="))]
    settings = [v for v in verifiers if v.startswith(("gate=", "overlong="))]
    return ";".join([",".join(items), *settings])


def score_file(
    input_path: str | Path,
    output_path: str | Path,
    verifiers: list[str],
    completion_field: str = "completion",
    answer_field: str = "answer",
    workers: int | None = None,
    chunk_rows: int = 512,
    on_progress: Callable[[int], Any] | None = None,
    on_start: Callable[[int], Any] | None = None,
    ray_address: str | None = None,
    use_ray: bool = False,
) -> ScoreSummary:
    """Score every row of `input_path` and write it, plus reward columns, to `output_path` chunk by chunk.

    `use_ray` (or a `ray_address`) spreads each chunk over a Ray cluster's CPUs (rlvr.ray_scoring),
    with the same time limits and results as local scoring."""
    from rlvr.verifiers import get_verifier

    df = read_table(input_path)
    if on_start is not None:
        on_start(len(df))
    require_columns(df, {"--completion-field": completion_field}, input_path)
    has_answers = answer_field in df.columns
    if not has_answers and any(v.split("=")[0] == "math" for v in verifiers):
        require_columns(df, {"--answer-field": answer_field}, input_path)
    verifier = get_verifier(verifier_spec(verifiers))
    use_ray = use_ray or ray_address is not None
    if use_ray:
        from rlvr.ray_scoring import init_ray

        init_ray(ray_address)
        chunk_rows = max(chunk_rows, 8192)  # fewer, larger rounds: each one spans the whole cluster
    writer = TableWriter(output_path)
    start = time.perf_counter()
    total = correct = judged = timeouts = errors = 0
    reward_sum = 0.0
    try:
        for begin in range(0, len(df), chunk_rows):
            chunk = df.iloc[begin : begin + chunk_rows].copy()
            completions = ["" if c is None else str(c) for c in chunk[completion_field].tolist()]
            answers = chunk[answer_field].tolist() if has_answers else None
            if use_ray:
                from rlvr.ray_scoring import verify_batch_ray

                results = verify_batch_ray(verifier, completions, answers)
            else:
                results = verifier.verify_batch(completions, answers, workers=workers)
            chunk["reward"] = [r.score for r in results]
            chunk["correct"] = [r.correct for r in results]
            chunk["extracted"] = [r.extracted for r in results]
            chunk["reason"] = [r.reason for r in results]
            writer.append(chunk)
            total += len(results)
            reward_sum += sum(r.score for r in results)
            judged += sum(r.correct is not None for r in results)
            correct += sum(bool(r.correct) for r in results)
            timeouts += sum(r.reason == "timeout" for r in results)
            errors += sum(r.reason in ("error", "crash", "resource_limit") for r in results)
            if on_progress is not None:
                on_progress(len(results))
    finally:
        writer.close()
    return ScoreSummary(
        rows=total,
        mean_reward=reward_sum / total if total else 0.0,
        accuracy=correct / judged if judged else None,
        timeouts=timeouts,
        errors=errors,
        seconds=time.perf_counter() - start,
        output=str(output_path),
    )
