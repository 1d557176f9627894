"""The server's endpoints over real HTTP: same values as `rlvr score`, OpenRLHF's and SandboxFusion's
formats, health, metrics, OpenAPI, the token."""

from __future__ import annotations

import base64
import json

import httpx
import pandas as pd
import pytest
from server_conftest import AUTH, metric

ROWS = [
    {"completion": r"so the answer is \boxed{\frac{1}{2}}", "answer": "0.5"},
    {"completion": r"<think>easy</think> The answer is \boxed{4}", "answer": "4"},
    {"completion": r"\boxed{5}", "answer": "4"},
    {"completion": "no answer here", "answer": "7"},
    {"completion": r"$x = \sqrt{2}$ hence \boxed{\sqrt 2}", "answer": r"\sqrt{2}"},
    {"completion": r"\boxed{" + "9" * 2000 + "}", "answer": "9"},
    {"completion": r"\boxed{2^{2^{2^{2^{2}}}}}", "answer": "3"},
    {"completion": "", "answer": "1"},
]


def test_score_gives_what_rlvr_score_writes(math_server, tmp_path):
    from rlvr.scoring import score_file

    table = tmp_path / "rows.jsonl"
    pd.DataFrame(ROWS).to_json(table, orient="records", lines=True)
    for spec in ("math", "math=1.0,format=0.2"):
        out = tmp_path / f"scored-{len(spec)}.jsonl"
        score_file(table, out, [spec], workers=2)
        expected = pd.read_json(out, lines=True, dtype=False)
        response = httpx.post(
            f"{math_server}/score", json={"items": ROWS, "verifier": spec}, headers=AUTH, timeout=60
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verifier"] == spec
        assert body["rewards"] == [r["reward"] for r in body["results"]]
        for i, (result, row) in enumerate(zip(body["results"], expected.to_dict("records"))):
            for column in ("reward", "correct", "extracted", "reason"):
                want = row[column]
                want = None if isinstance(want, float) and pd.isna(want) and column != "reward" else want
                assert result[column] == want, (spec, i, column)


def test_score_defaults_to_the_first_spec_and_refuses_others(math_server):
    ok = httpx.post(f"{math_server}/score", json={"items": ROWS[:1]}, headers=AUTH, timeout=30)
    assert ok.json()["verifier"] == "math"
    refused = httpx.post(f"{math_server}/score", json={"items": ROWS[:1], "verifier": "code"}, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["message"].startswith("verifier: 'code' is not served here")


def test_chat_completions_and_dict_answers(math_server):
    chat = [{"completion": [{"role": "assistant", "content": r"\boxed{3}"}], "answer": "3"}]
    body = httpx.post(f"{math_server}/score", json={"items": chat}, headers=AUTH, timeout=30).json()
    assert body["rewards"] == [1.0]
    per_verifier = [{"completion": r"<think>x</think>\boxed{3}", "answer": {"answer": "3"}}]
    body = httpx.post(
        f"{math_server}/score",
        json={"items": per_verifier, "verifier": "math=1.0,format=0.2"},
        headers=AUTH,
        timeout=30,
    ).json()
    assert body["results"][0]["details"]["scores"]["math"] == 1.0


def test_get_reward_in_openrlhfs_format(math_server):
    prompt = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    payload = {
        "query": [prompt + r"<think>2+2</think> \boxed{4}<|im_end|>", prompt + r"\boxed{5}"],
        "prompts": [prompt, prompt],
        "labels": ["4", "4"],
    }
    body = httpx.post(f"{math_server}/get_reward", json=payload, headers=AUTH, timeout=30).json()
    assert body["rewards"] == [1.0, 0.0]
    assert body["scores"] == [1.0, 0.0]
    assert body["extra_logs"]["correct"] == [1.0, 0.0]
    composed = httpx.post(
        f"{math_server}/get_reward",
        params={"verifier": "math=1.0,format=0.2"},
        json=payload,
        headers=AUTH,
        timeout=30,
    ).json()
    # the prompt is cut off: the format reward sees "<think>...</think> answer", which passes
    assert composed["extra_logs"]["reward_math"] == [1.0, 0.0]
    assert composed["extra_logs"]["reward_format"][1] == 0.0
    assert composed["rewards"][0] == pytest.approx(1.0 + 0.2 * composed["extra_logs"]["reward_format"][0])


def test_get_reward_without_prompts_scores_the_whole_query(math_server):
    body = httpx.post(
        f"{math_server}/get_reward", json={"query": [r"\boxed{1}"], "labels": ["1"]}, headers=AUTH
    )
    assert body.json()["rewards"] == [1.0]


def test_run_code_in_sandboxfusions_format(math_server):
    def run(**request):
        response = httpx.post(f"{math_server}/run_code", json=request, headers=AUTH, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    hostile = run(code="import time\nwhile True: pass", language="python", run_timeout=1)
    assert hostile["status"] == "Failed" and hostile["run_result"]["status"] == "TimeLimitExceeded"
    ok = run(code="print(input()[::-1])", language="python", stdin="abc")
    assert ok["status"] == "Success" and ok["run_result"]["stdout"] == "cba\n"
    assert ok["run_result"]["return_code"] == 0 and ok["compile_result"] is None
    crash = run(code="raise SystemExit(3)", language="python")
    assert crash["status"] == "Failed" and crash["run_result"] == {
        **crash["run_result"],
        "status": "Finished",
    }
    assert crash["run_result"]["return_code"] == 3
    data = base64.b64encode(b"41").decode()
    files = run(code="print(int(open('n.txt').read()) + 1)", language="python", files={"n.txt": data})
    assert files["run_result"]["stdout"] == "42\n"
    compile_error = run(code="int main() {", language="cpp")
    assert compile_error["status"] == "Failed" and compile_error["run_result"] is None
    assert (
        compile_error["compile_result"]["return_code"] != 0
        and "error" in compile_error["compile_result"]["stderr"]
    )
    cpp = run(code='#include <cstdio>\nint main(){puts("hi");}', language="cpp")
    assert cpp["status"] == "Success" and cpp["run_result"]["stdout"] == "hi\n"
    memory = run(code="x = bytearray(400 << 20)", language="python", memory_limit_MB=64)
    assert memory["status"] == "Failed" and memory["message"] == "memory_limit"


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"code": "print(1)", "language": "java"}, "language"),
        ({"code": "print(1)", "language": "python", "fetch_files": ["out.txt"]}, "fetch_files"),
        ({"code": "print(1)", "language": "python", "files": {"a": "***"}}, "files.a"),
        ({"code": "print(1)", "language": "python", "files": {"../x": "eA=="}}, "files"),
        ({"code": "print(1)", "language": "python", "memory_limit_MB": 1}, "memory_limit_MB"),
        ({"code": "print(1)", "language": "python", "run_timeout": 0}, "run_timeout"),
    ],
)
def test_run_code_refuses_what_it_cannot_honour(math_server, request_body, field):
    response = httpx.post(f"{math_server}/run_code", json=request_body, headers=AUTH, timeout=30)
    assert response.status_code == 422
    assert response.json()["message"].startswith(field), response.json()
    harmless = httpx.post(
        f"{math_server}/run_code", json={"code": "print(1)", "language": "python"}, headers=AUTH
    )
    assert harmless.json()["run_result"]["stdout"] == "1\n"


def test_token_is_required_on_scoring_endpoints_only(math_server):
    for path, payload in (
        ("/score", {"items": ROWS[:1]}),
        ("/get_reward", {"query": ["x"]}),
        ("/run_code", {"code": "print(1)", "language": "python"}),
    ):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            response = httpx.post(f"{math_server}{path}", json=payload, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert "Authorization" in response.json()["message"]
    assert httpx.get(f"{math_server}/health").json()["status"] == "ok"
    assert httpx.get(f"{math_server}/metrics").status_code == 200


def test_metrics_count_requests_items_and_latency(math_server):
    before = httpx.get(f"{math_server}/metrics").text
    httpx.post(f"{math_server}/score", json={"items": ROWS}, headers=AUTH, timeout=60)
    httpx.post(f"{math_server}/score", json={"items": "nope"}, headers=AUTH)
    after = httpx.get(f"{math_server}/metrics").text
    delta = lambda name, **labels: metric(after, name, **labels) - metric(before, name, **labels)  # noqa: E731
    assert delta("rlvr_requests_total", path="/score", status="200") == 1
    assert delta("rlvr_requests_total", path="/score", status="422") == 1
    assert delta("rlvr_items_total", endpoint="score", outcome="scored") + delta(
        "rlvr_items_total", endpoint="score", outcome="timeout"
    ) == len(ROWS)
    assert delta("rlvr_request_seconds_count", path="/score") == 2
    for name in (
        "rlvr_queue_depth",
        "rlvr_queue_capacity",
        "rlvr_item_timeouts_total",
        "rlvr_worker_restarts_total",
    ):
        assert name in after
    assert metric(after, "rlvr_queue_capacity") == 256


def test_openapi_lists_every_endpoint(math_server):
    schema = httpx.get(f"{math_server}/openapi.json").json()
    assert {"/score", "/get_reward", "/run_code", "/health", "/metrics"} <= set(schema["paths"])
    run_code = schema["components"]["schemas"]["RunCodeRequest"]["properties"]
    assert {
        "code",
        "language",
        "stdin",
        "compile_timeout",
        "run_timeout",
        "memory_limit_MB",
        "files",
        "fetch_files",
    } <= set(run_code)
    assert json.dumps(schema)  # serialisable


def test_a_sandbox_with_stats_is_exposed_in_metrics():
    """The sandbox's own counters (e.g. recoveries), when its backend has `stats()`."""
    from rlvr.server.metrics import ServerMetrics

    metrics = ServerMetrics(lambda: 0, 8)
    metrics.add_sandbox_stats(lambda: {"recoveries": 3, "mode": "zygote", "flag": True})
    text = metrics.render().decode()
    assert "rlvr_sandbox_recoveries_total 3.0" in text
    assert "mode" not in text and "flag" not in text


def test_the_sandboxs_own_stats_model_is_exposed_in_metrics():
    """`Sandbox.stats()` returns a pydantic `SandboxStats`: /metrics reads its fields."""
    from rlvr.sandbox.health import SandboxStats
    from rlvr.server.metrics import ServerMetrics

    metrics = ServerMetrics(lambda: 0, 8)
    metrics.add_sandbox_stats(lambda: SandboxStats(runs=5, recoveries=2))
    text = metrics.render().decode()
    assert "rlvr_sandbox_recoveries_total 2.0" in text and "rlvr_sandbox_runs_total 5.0" in text
