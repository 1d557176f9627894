"""Ray as an executor and Ray Serve as a router, on a local Ray instance this module starts
(2 CPUs, a small object store).  The results must be exactly those of local scoring."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest
from server_conftest import HERE, free_port
from test_endpoints import ROWS

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():
        ray.shutdown()
    path = os.pathsep.join([HERE, *sys.path])  # Ray workers import rlvr_fault_verifiers like the pool does
    ray.init(
        num_cpus=2,
        object_store_memory=80 << 20,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _rows(n: int) -> tuple[list[str], list[str]]:
    completions = [ROWS[i % len(ROWS)]["completion"].replace("4", str(i)) for i in range(n)]
    answers = [ROWS[i % len(ROWS)]["answer"] for i in range(n)]
    return completions, answers


def _columns(results) -> list[tuple]:
    return [(r.score, r.correct, r.extracted, r.reason) for r in results]


@pytest.mark.slow
def test_ray_batches_give_local_results_in_order(local_ray):
    from rlvr.ray_scoring import verify_batch_ray
    from rlvr.verifiers import get_verifier

    completions, answers = _rows(120)
    for spec in ("math", "math=1.0,format=0.2"):
        verifier = get_verifier(spec)
        local = verifier.verify_batch(completions, answers, workers=2)
        remote = verify_batch_ray(verifier, completions, answers, batch_size=7)  # 18 batches, uneven last
        assert _columns(remote) == _columns(local)


@pytest.mark.slow
def test_ray_keeps_the_time_limits(local_ray):
    import rlvr_fault_verifiers

    from rlvr.ray_scoring import verify_batch_ray

    verifier = rlvr_fault_verifiers.FaultyVerifier(timeout_s=1.0)
    start = time.monotonic()
    results = verify_batch_ray(
        verifier, ["1", "hang", "3", "sleep:0.1 4"], ["1", "2", "3", "4"], batch_size=2
    )
    assert time.monotonic() - start < 30
    assert [r.reason for r in results] == [None, "timeout", None, None]
    assert [r.score for r in results] == [1.0, 0.0, 1.0, 1.0]


@pytest.mark.slow
def test_rlvr_score_with_ray_writes_what_local_scoring_writes(local_ray, tmp_path):
    from rlvr.scoring import score_file

    completions, answers = _rows(60)
    table = tmp_path / "rows.jsonl"
    pd.DataFrame({"completion": completions, "answer": answers}).to_json(table, orient="records", lines=True)
    score_file(table, tmp_path / "local.jsonl", ["math"], workers=2)
    summary = score_file(table, tmp_path / "ray.jsonl", ["math"], use_ray=True)
    assert summary.rows == 60
    local = pd.read_json(tmp_path / "local.jsonl", lines=True, dtype=False)
    on_ray = pd.read_json(tmp_path / "ray.jsonl", lines=True, dtype=False)
    pd.testing.assert_frame_equal(local, on_ray)
    # the command line, connecting to this instance by address
    cli = [sys.executable, "-c", "from rlvr.cli import main; main()", "score", str(table), "-o"]
    done = subprocess.run(
        [*cli, str(tmp_path / "cli.jsonl"), "--ray", local_ray], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pd.testing.assert_frame_equal(local, pd.read_json(tmp_path / "cli.jsonl", lines=True, dtype=False))


@pytest.mark.slow
def test_ray_serve_replicas_serve_the_same_app(local_ray):
    from ray import serve

    from rlvr.server import ServerConfig
    from rlvr.server.ray_serve import start

    port = free_port()
    config = ServerConfig(verifiers=["math"], workers=1, max_queue=64)
    url = start(config, replicas=2, port=port, num_cpus=0.5)
    try:
        completions, answers = _rows(16)
        from rlvr.verifiers import get_verifier

        want = [r.score for r in get_verifier("math").verify_batch(completions, answers, workers=2)]
        items = [{"completion": c, "answer": a} for c, a in zip(completions, answers)]
        pids = set()
        for _ in range(12):
            response = httpx.post(f"{url}/score", json={"items": items}, timeout=60)
            assert response.status_code == 200 and response.json()["rewards"] == want
            pids.add(httpx.get(f"{url}/health", timeout=30).json()["pid"])
        assert len(pids) == 2, "both replicas answer"
        bad = httpx.post(f"{url}/score", json={"items": [{"answer": 1}]}, timeout=30)
        assert bad.status_code == 422 and bad.json()["message"] == "items.0.completion: Field required"
    finally:
        serve.shutdown()


@pytest.mark.slow
def test_rlvr_serve_with_ray_from_the_command_line(local_ray):
    """`rlvr serve --ray ADDRESS` deploys on the running cluster and takes the app down on Ctrl-C."""
    import signal

    port = free_port()
    cli = [sys.executable, "-c", "from rlvr.cli import main; main()", "serve", "-V", "math", "--workers", "1"]
    proc = subprocess.Popen(
        [*cli, "--port", str(port), "--ray", local_ray, "--replicas", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-3000:]
            time.sleep(0.5)
        items = [{"completion": r"\boxed{7}", "answer": "7"}, {"completion": r"\boxed{8}", "answer": "7"}]
        assert httpx.post(f"{url}/score", json={"items": items}, timeout=60).json()["rewards"] == [1.0, 0.0]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    assert proc.returncode == 0
    with pytest.raises(httpx.TransportError):  # taken down on Ctrl-C: nothing listens any more
        httpx.get(f"{url}/health", timeout=5)
