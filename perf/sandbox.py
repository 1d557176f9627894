"""Sandbox throughput against the anchors named in issue 3, measured in one run.

1. Local backend: isolated trivial-Python runs per second (`run_many`, all cores) vs plain
   `subprocess.run([sys.executable, "-c", ...])` one after another.  Target >= 10x.
2. Docker backend: warm-pool runs per second vs `docker run --rm` per execution.  Target >= 5x.
3. The code verifier on a realistic batch: 200 programs x 10 stdin tests, programs/s.

    python perf/sandbox.py [--runs 200] [--skip-docker] [--code-concurrency 2] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

TRIVIAL = "print(sum(range(100)))"


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def plain_subprocess(n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run([sys.executable, "-c", TRIVIAL], capture_output=True, check=True)
    return rate(n, time.perf_counter() - start)


def sandbox_runs(backend: str, n: int, **options) -> float:
    from rlvr.sandbox import ExecRequest, get_sandbox

    sb = get_sandbox(backend, **options)
    try:
        sb.run_many([ExecRequest(code=TRIVIAL)] * (os.cpu_count() or 1))  # warm up (pool, caches)
        start = time.perf_counter()
        results = sb.run_many([ExecRequest(code=TRIVIAL)] * n)
        elapsed = time.perf_counter() - start
    finally:
        getattr(sb, "close", lambda: None)()
    bad = [r for r in results if r.status != "ok" or r.stdout != "4950\n"]
    assert not bad, bad[:3]
    return rate(n, elapsed)


def docker_run(image: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run(
            ["docker", "run", "--rm", "--network", "none", image, "python3", "-c", TRIVIAL],
            capture_output=True,
            check=True,
        )
    return rate(n, time.perf_counter() - start)


def code_batch(programs: int, tests: int, concurrency: int = 2) -> tuple[float, float]:
    """A realistic RL batch: half correct, a quarter wrong, a quarter crashing programs."""
    from rlvr.verifiers import get_verifier

    rng = random.Random(0)
    completions, answers = [], []
    for k in range(programs):
        pairs = [(rng.randint(-1000, 1000), rng.randint(-1000, 1000)) for _ in range(tests)]
        answer = {"inputs": [f"{a} {b}\n" for a, b in pairs], "outputs": [f"{a + b}\n" for a, b in pairs]}
        body = ["print(a + b)", "print(a - b)", "raise SystemExit(1)", "print(a + b)"][k % 4]
        completions.append(f"```python\na, b = map(int, input().split())\n{body}\n```")
        answers.append(answer)
    verifier = get_verifier("code", concurrency=concurrency)
    start = time.perf_counter()
    results = verifier.verify_batch(completions, answers)
    elapsed = time.perf_counter() - start
    accuracy = sum(r.correct for r in results) / programs
    assert abs(accuracy - 0.5) < 1e-9, accuracy
    return rate(programs, elapsed), rate(programs * tests, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--docker-runs", type=int, default=20)
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--image", default="rlvr/sandbox:bookworm")
    parser.add_argument("--code-concurrency", type=int, default=2, help="code verifier's parallel programs")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    figures: dict[str, float | int] = {"cpu_count": os.cpu_count() or 1, "runs": args.runs}
    plain = plain_subprocess(min(args.runs, 100))
    local = sandbox_runs("local", args.runs)
    figures.update(plain_runs_s=plain, local_runs_s=local, local_over_plain=local / plain)
    print(f"plain subprocess.run(python -c)   : {plain:7.1f} runs/s (sequential)")
    print(f"local sandbox, run_many           : {local:7.1f} runs/s ({os.cpu_count()} cores)")
    print(f"ratio local / plain               : {local / plain:7.2f}x  (target >= 10)")
    if not args.skip_docker:
        cold = docker_run(args.image, args.docker_runs)
        warm = sandbox_runs("docker", args.runs, image=args.image)
        figures.update(docker_run_s=cold, docker_pool_runs_s=warm, docker_pool_over_run=warm / cold)
        print(f"docker run --rm per execution     : {cold:7.1f} runs/s (sequential)")
        print(f"docker warm pool, run_many        : {warm:7.1f} runs/s")
        print(f"ratio warm pool / docker run      : {warm / cold:7.2f}x  (target >= 5)")
    programs, tests = code_batch(200, 10, args.code_concurrency)
    figures.update(code_programs_s=programs, code_test_runs_s=tests, code_concurrency=args.code_concurrency)
    print(
        f"code verifier, 200 programs x 10 stdin tests: {programs:.1f} programs/s ({tests:.0f} test runs/s)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
