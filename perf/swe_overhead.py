"""Per-instance wall time of `rlvr swe` evaluation vs a plain sequential pytest run of the same
tests in a prepared venv (the anchor: repository installed, test_patch + gold applied).

python perf/swe_overhead.py [--repeat N] [INSTANCE_ID ...]   (default: the three ../shared instances)
Both sides run once to warm up (environment and prepared install built, the anchor's .pyc files
written), then N times alternating; prints the medians, the ratio of the medians (target <= 1.3x)
and the load average.  Run it under `flock /tmp/rlvr-heavy.lock`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from rlvr.benchmarks.swe.apply import apply_test_patch
from rlvr.benchmarks.swe.diffs import files_to_test
from rlvr.benchmarks.swe.envs import DEFAULT_CACHE, build_env
from rlvr.benchmarks.swe.evaluate import EvalSettings, evaluate_instance
from rlvr.benchmarks.swe.records import load_instances
from rlvr.benchmarks.swe.sandboxes import make_sandbox
from rlvr.benchmarks.swe.source import checkout, git
from rlvr.benchmarks.swe.specs import spec_for

SWE = Path(__file__).resolve().parents[2] / "shared" / "data" / "swe"


def plain_pytest(instance, spec, env, work: Path) -> Callable[[], float]:
    """Prepared venv (a copy with the repo installed), tree patched; times only the pytest run."""
    tree = checkout(instance, work / "repo", SWE / "repos", DEFAULT_CACHE)
    git(["apply"], tree, input=instance.patch.encode())
    apply_test_patch(tree, instance.test_patch, work / "t.diff")
    venv = work / "venv"
    shutil.copytree(env.venv, venv, symlinks=True)
    run_env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "HOME": str(work), **spec.rendered_install_env()}
    subprocess.run(
        [
            f"{venv}/bin/python",
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "-e",
            ".",
        ],
        cwd=tree,
        env=run_env,
        check=True,
        capture_output=True,
    )

    def once() -> float:
        start = time.monotonic()
        subprocess.run(
            [f"{venv}/bin/python", "-m", "pytest", "-rA", *files_to_test(instance.test_patch)],
            cwd=tree,
            env=run_env,
            capture_output=True,
        )
        return time.monotonic() - start

    return once


def main(ids: list[str], repeat: int) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    for instance in load_instances(SWE / "instances.jsonl", ids=ids or None):
        spec = spec_for(instance)
        env = build_env(spec)
        sandbox = make_sandbox(env, "local", 1, 4096)
        settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=SWE / "repos", timeout_s=600)
        first = evaluate_instance(instance, instance.patch, spec, sandbox, settings)  # builds the install
        with tempfile.TemporaryDirectory() as work:
            anchor = plain_pytest(instance, spec, env, Path(work))
            anchor()  # the anchor's .pyc files and page cache
            ours, theirs, inner = [], [], []
            for _ in range(repeat):
                result = evaluate_instance(instance, instance.patch, spec, sandbox, settings)
                ours.append(result.wall_s)
                inner.append(result.test_wall_s or 0.0)
                theirs.append(anchor())
        print(
            f"{instance.instance_id}: {result.outcome} (install: {result.install}; first evaluation "
            f"{first.wall_s:.2f} s) rlvr swe {median(ours):.2f} s (in the sandbox {median(inner):.2f} s) "
            f"vs plain pytest {median(theirs):.2f} s: {median(ours) / median(theirs):.2f}x (target 1.3x); "
            f"medians of {repeat}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    n = 5
    if args[:1] == ["--repeat"]:
        n, args = int(args[1]), args[2:]
    main(args, n)
