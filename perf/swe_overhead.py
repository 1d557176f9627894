"""Per-instance wall time of `rlvr swe` evaluation vs a plain sequential pytest run of the same
tests in a prepared venv (the anchor: repository installed, test_patch + gold applied).

python perf/swe_overhead.py [INSTANCE_ID ...]   (default: pytest-dev__pytest-5227; ../shared data)
Prints one line per instance and the ratio (target <= 1.3x once environments are built).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rlvr.benchmarks.swe.apply import apply_test_patch
from rlvr.benchmarks.swe.diffs import files_to_test
from rlvr.benchmarks.swe.envs import DEFAULT_CACHE, build_env
from rlvr.benchmarks.swe.evaluate import EvalSettings, evaluate_instance
from rlvr.benchmarks.swe.records import load_instances
from rlvr.benchmarks.swe.sandboxes import make_sandbox
from rlvr.benchmarks.swe.source import checkout, git
from rlvr.benchmarks.swe.specs import spec_for

SWE = Path(__file__).resolve().parents[2] / "shared" / "data" / "swe"


def plain_pytest(instance, spec, env, work: Path) -> float:
    """Prepared venv (a copy with the repo installed), tree patched; time only the pytest run."""
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
    start = time.monotonic()
    subprocess.run(
        [f"{venv}/bin/python", "-m", "pytest", "-rA", *files_to_test(instance.test_patch)],
        cwd=tree,
        env=run_env,
        capture_output=True,
    )
    return time.monotonic() - start


def main(ids: list[str]) -> None:
    for instance in load_instances(SWE / "instances.jsonl", ids=ids):
        spec = spec_for(instance)
        env = build_env(spec)
        sandbox = make_sandbox(env, "local", 1, 4096)
        settings = EvalSettings(cache_dir=DEFAULT_CACHE, repos_dir=SWE / "repos", timeout_s=600)
        evaluate_instance(instance, instance.patch, spec, sandbox, settings)  # warm: page cache
        ours = evaluate_instance(instance, instance.patch, spec, sandbox, settings)
        with tempfile.TemporaryDirectory() as work:
            anchor = plain_pytest(instance, spec, env, Path(work))
        print(
            f"{instance.instance_id}: rlvr swe {ours.wall_s:.2f} s ({ours.outcome}; in the sandbox "
            f"{ours.test_wall_s:.2f} s) vs plain pytest {anchor:.2f} s: {ours.wall_s / anchor:.2f}x (target 1.3x)"
        )


if __name__ == "__main__":
    main(sys.argv[1:] or ["pytest-dev__pytest-5227"])
