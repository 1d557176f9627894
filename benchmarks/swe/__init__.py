"""SWE-style tasks: repository patches judged by FAIL_TO_PASS / PASS_TO_PASS tests in the sandbox.

from rlvr.benchmarks.swe import load_instances, evaluate
report = evaluate(load_instances("lite_records.jsonl"), "gold", out_dir="out", repos_dir="repos")
"""

from .records import Prediction, SWEInstance, load_instances, load_predictions
from .specs import EnvSpec, all_specs, spec_for

__all__ = [
    "EnvSpec",
    "Prediction",
    "SWEInstance",
    "all_specs",
    "load_instances",
    "load_predictions",
    "spec_for",
]
