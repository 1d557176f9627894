"""Benchmarks and the one problem stack: problem sources (files, hub datasets, generators), prompt
templates, metrics, the runner and its reports.  The trainer and the Python API use the same
`Problem`, `load_problems` and `render_prompt`."""

from .generators import GENERATORS, generate
from .metrics import avg_at_n, check_sample_counts, maj_at_k, mean_with_error, pass_at_k
from .problems import BENCHMARKS, content_hash, list_benchmarks, load_problems, resolve_spec
from .schema import BenchmarkSpec, Problem
from .templates import TEMPLATES, prefills_think, render_prompt

__all__ = [
    "BENCHMARKS",
    "GENERATORS",
    "TEMPLATES",
    "BenchmarkSpec",
    "Problem",
    "avg_at_n",
    "check_sample_counts",
    "content_hash",
    "generate",
    "list_benchmarks",
    "load_problems",
    "maj_at_k",
    "mean_with_error",
    "pass_at_k",
    "prefills_think",
    "render_prompt",
    "resolve_spec",
]
