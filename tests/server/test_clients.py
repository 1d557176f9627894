"""The server as its clients call it: OpenRLHF's and verl's request bytes (their packages pull GPU
stacks and are not installed here, so the same HTTP libraries send the same bodies), rlvr.client, the
TRL and verl integrations, and `rlvr serve` as a process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from server_conftest import free_port, running

PROMPT = "<|im_start|>user\nWhat is 6*7?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def server():
    from rlvr.server import create_app

    app = create_app(["math", "math=1.0,format=0.2"], workers=2, max_queue=256)
    with running(app) as url:
        yield url


def test_openrlhf_current_client(server):
    """OpenRLHF (main, 2026): openrlhf/utils/agent.py, SingleTurnAgentExecutor._fetch_rewards_via_http
    posts one sample per request with aiohttp, `json={"query": [...], "prompts": [...], "labels": [...]}`,
    a 180 s total timeout, and reads `rewards`, `scores` (falling back to `rewards`) and `extra_logs`."""
    aiohttp = pytest.importorskip("aiohttp")

    async def post(query: str, label: str) -> dict:
        payload = {"query": [query], "prompts": [PROMPT], "labels": [label]}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=180)) as session:
            async with session.post(f"{server}/get_reward", json=payload) as response:
                response.raise_for_status()
                return await response.json()

    async def many() -> list[dict]:
        queries = [PROMPT + r"\boxed{42}<|im_end|>", PROMPT + r"\boxed{41}<|im_end|>"] * 8
        return await asyncio.gather(*(post(q, "42") for q in queries))

    infos = asyncio.run(many())
    assert [i["rewards"] for i in infos] == [[1.0], [0.0]] * 8
    assert [i.get("scores", i["rewards"]) for i in infos] == [[1.0], [0.0]] * 8
    torch = pytest.importorskip("torch")
    for info in infos:  # what its samples generator does with them
        reward = torch.tensor([info["rewards"]])
        logs = {k: torch.tensor([v]) for k, v in info["extra_logs"].items()}
        assert reward.numel() == 1 and all(t.numel() == 1 for t in logs.values())


def test_openrlhf_older_client(server):
    """OpenRLHF before the agent executor: openrlhf/utils/remote_rm_utils.py, request_api_wrapper posts a
    batch with requests, `json={"query": queries, "prompts": prompts, "labels": labels}`, header
    Content-Type: application/json, timeout 180, and takes `response["rewards"]`."""
    requests = pytest.importorskip("requests")
    queries = [PROMPT + r"\boxed{42}", PROMPT + "I do not know", PROMPT + r"\boxed{42.0}"]
    response = requests.post(
        url=f"{server}/get_reward",
        json={"query": queries, "prompts": [PROMPT] * 3, "labels": ["42"] * 3},
        headers={"Content-Type": "application/json"},
        timeout=180,
    )
    response.raise_for_status()
    assert response.json()["rewards"] == [1.0, 0.0, 1.0]


def _verl_call(url: str, code: str, stdin: str | None, timeout: int = 10, memory: int = 1024) -> dict:
    """verl (main, 2026): verl/utils/reward_score/sandbox_fusion/utils.py, call_sandbox_api sends
    `data=json.dumps({...})` in this key order with Content-Type and Accept application/json."""
    requests = pytest.importorskip("requests")
    payload = json.dumps(
        {
            "compile_timeout": timeout,
            "run_timeout": timeout,
            "code": code,
            "stdin": stdin,
            "memory_limit_MB": memory,
            "language": "python",
            "files": {},
            "fetch_files": [],
        }
    )
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    response = requests.post(url, headers=headers, data=payload, timeout=timeout * 2 + 10)
    response.raise_for_status()
    return response.json()


def test_verl_sandbox_fusion_client(server):
    """The fields verl's check_correctness reads decide its verdicts as they would on SandboxFusion."""
    url = f"{server}/run_code"
    passed = _verl_call(url, "a, b = map(int, input().split())\nprint(a + b)", "2 3")
    assert passed["status"] == "Success" and passed["run_result"]["status"] == "Finished"
    assert passed["run_result"]["stdout"].rstrip("\n") == "5"
    no_stdin = _verl_call(url, "print('hi')", None)
    assert no_stdin["status"] == "Success" and no_stdin["run_result"]["stdout"] == "hi\n"
    runtime = _verl_call(url, "raise ValueError('x')", "")
    assert runtime["status"] == "Failed" and runtime["run_result"]["status"] == "Finished"
    assert runtime["run_result"]["return_code"] != 0 and "ValueError" in runtime["run_result"]["stderr"]
    slow = _verl_call(url, "while True: pass", "", timeout=1)
    assert slow["status"] == "Failed" and slow["run_result"]["status"] == "TimeLimitExceeded"


def test_rlvr_client_and_its_errors(server):
    from rlvr.client import RewardClient, RewardServerError

    with RewardClient(server, batch_size=3) as client:
        completions = [rf"\boxed{{{i}}}" for i in range(10)]
        assert client.rewards(completions, [str(i) for i in range(10)]) == [1.0] * 10
        results = client.score([r"<think>a</think> \boxed{1}"], ["1"], verifier="math=1.0,format=0.2")
        assert results[0]["details"]["scores"]["math"] == 1.0
        assert client.get_reward([PROMPT + r"\boxed{42}"], [PROMPT], ["42"])["rewards"] == [1.0]
        assert client.run_code("print(2)")["run_result"]["stdout"] == "2\n"
        with pytest.raises(RewardServerError, match="verifier: 'code' is not served"):
            client.score(["x"], ["1"], verifier="code")
    with RewardClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff_s=0.01) as gone:
        with pytest.raises(RewardServerError, match="no answer after 3 tries"):
            gone.rewards(["x"], ["1"])


def test_trl_and_verl_integrations_match_in_process_scoring(server, monkeypatch):
    from rlvr.integrations import trl, verl

    completions = [r"<think>a</think> \boxed{3}", r"\boxed{4}", "nothing", r"<think>b</think>\boxed{9}"]
    answers = ["3", "3", "3", "9"]
    for spec in ("math", "math=1.0,format=0.2"):
        local = trl.reward_func(spec)(prompts=["q"] * 4, completions=completions, answer=answers)
        remote = trl.remote_reward_func(server, spec)(
            prompts=["q"] * 4, completions=completions, answer=answers
        )
        assert remote == local
    monkeypatch.setenv("RLVR_SERVER_URL", server)
    for completion, answer in zip(completions, answers):
        want = verl.compute_score("math", completion, answer)
        assert verl.compute_score_remote("math", completion, answer) == want


def test_rlvr_serve_as_a_process(tmp_path):
    port = free_port()
    env = {**os.environ, "RLVR_SERVER_TOKEN": "t0ken"}
    proc = subprocess.Popen(
        _rlvr(["serve", "-V", "math", "--port", str(port), "--workers", "1"]),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
            time.sleep(0.2)
        payload = {"items": [{"completion": r"\boxed{2}", "answer": "2"}]}
        assert httpx.post(f"{url}/score", json=payload).status_code == 401
        ok = httpx.post(f"{url}/score", json=payload, headers={"Authorization": "Bearer t0ken"})
        assert ok.json()["rewards"] == [1.0]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    bad = subprocess.run(
        _rlvr(["serve", "-V", "math=abc", "--port", str(port)]), capture_output=True, text=True
    )
    assert bad.returncode == 2 and "weight of 'math' is not a number" in bad.stderr


def _rlvr(args: list[str]) -> list[str]:
    return [sys.executable, "-c", "from rlvr.cli import main; main()", *args]
