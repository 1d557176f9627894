"""A compact adversarial sequence in one process, for running inside a pid namespace or a
limited cgroup (see test_adversarial_environments.py):

    python tests/sandbox/adversarial_sequence.py BACKEND SEED [LIMIT_S]

A fresh sandbox; the hostile programs of `hostile.COMPACT` in an order drawn from SEED, the
first one as the sandbox's very first run; a harmless run after each.  Prints one JSON
object: {"seed", "order", "failures"}; exits 1 when something failed."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hostile import BY_NAME, COMPACT, harmless_check  # noqa: E402

from rlvr.sandbox import get_sandbox  # noqa: E402


def make_sandbox(backend: str):
    if backend == "docker":
        return get_sandbox("docker", pool_size=1, memory_mb=256)
    mode = "per-run" if backend == "local-per-run" else "zygote"
    return get_sandbox("local", mode=mode, pool_size=1, memory_mb=256)


def main() -> int:
    backend, seed = sys.argv[1], int(sys.argv[2])
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    order = list(COMPACT)
    random.Random(seed).shuffle(order)
    failures: list[str] = []
    sandbox = make_sandbox(backend)
    try:
        for name in order:
            case = BY_NAME[name]
            start = time.monotonic()
            result = sandbox.run(case.code, **{"timeout_s": limit, **case.options})
            elapsed = time.monotonic() - start
            problem = case.check(result)
            bound = case.options.get("timeout_s", limit) + 2.5
            if problem is None and elapsed > bound:
                problem = f"{name}: took {elapsed:.2f}s for a {limit}s limit"
            if problem is None and (after := harmless_check(sandbox)):
                problem = f"after {name}: {after}"
            if problem:
                failures.append(problem)
    finally:
        sandbox.close()
    print(json.dumps({"seed": seed, "order": order, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
