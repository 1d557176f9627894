"""Benchmarks: problem sources, prompt templates and metrics (the runner comes with its issue)."""

from .metrics import avg_at_n, check_sample_counts, maj_at_k, mean_with_error, pass_at_k
from .problems import BENCHMARKS, BenchmarkSpec, Problem, list_benchmarks, load_problems
from .procedural import generate as generate_arith
from .templates import render

__all__ = [
    "BENCHMARKS",
    "BenchmarkSpec",
    "Problem",
    "avg_at_n",
    "check_sample_counts",
    "generate_arith",
    "list_benchmarks",
    "load_problems",
    "maj_at_k",
    "mean_with_error",
    "pass_at_k",
    "render",
]
