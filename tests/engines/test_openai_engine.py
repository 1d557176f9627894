"""The OpenAI engine against a real OpenAI-compatible server (`vllm serve` with the tiny model),
reached through a FastAPI proxy that injects 429s, 500s and hangs (failure injection only: every
answer that gets through comes from the real server)."""

import asyncio
import threading
import time
from collections import Counter

import pytest
from engine_helpers import require

from rlvr.engines import SamplingConfig, get_engine
from rlvr.engines.openai_engine import EngineError

require("vllm")
fastapi = require("fastapi")
httpx = require("httpx")
uvicorn = require("uvicorn")
from rlvr.engines.vllm_serve import VLLMServeProcess, free_port  # noqa: E402  (needs httpx)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vllm_server(tiny_model):
    server = VLLMServeProcess(
        {
            "model": tiny_model,
            "served_model_name": "tiny",
            "dtype": "float32",
            "enforce_eager": True,
            "max_model_len": 512,
            "gpu_memory_utilization": 0.2,
        },
        timeout=240,
    )
    yield server.url
    server.stop()


class Faults:
    """What the proxy does to the next calls: a queue of 'hang' / status codes, plus a marker
    string that always fails."""

    def __init__(self) -> None:
        self.plan: list[str | int] = []
        self.always_fail_marker: str | None = None
        self.hits: Counter = Counter()
        self.lock = threading.Lock()

    def next_fault(self, body: bytes) -> str | int | None:
        with self.lock:
            self.hits["total"] += 1
            if self.always_fail_marker and self.always_fail_marker.encode() in body:
                self.hits["marked"] += 1
                return 500
            return self.plan.pop(0) if self.plan else None


@pytest.fixture(scope="module")
def proxy(vllm_server):
    faults = Faults()
    app = fastapi.FastAPI()
    client = httpx.AsyncClient(base_url=vllm_server, timeout=120)

    @app.post("/v1/{path:path}")
    async def forward(path: str, request: fastapi.Request):
        body = await request.body()
        fault = faults.next_fault(body)
        if fault == "hang":
            await asyncio.sleep(30)
        elif isinstance(fault, int):
            headers = {"retry-after": "0"} if fault == 429 else {}
            return fastapi.responses.JSONResponse({"error": {"message": f"injected {fault}"}}, fault, headers)
        upstream = await client.post(
            f"/v1/{path}", content=body, headers={"content-type": "application/json"}
        )
        return fastapi.Response(upstream.content, upstream.status_code, media_type="application/json")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", faults
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def faults(proxy):
    url, faults = proxy
    faults.plan.clear()
    faults.always_fail_marker = None
    faults.hits.clear()
    return faults


def engine(proxy, **kw):
    return get_engine("openai", "tiny", base_url=proxy[0], **kw)


def test_prompts_and_chats_get_n_real_completions(proxy, faults):
    requests = [
        "abc",
        [{"role": "user", "content": "hello"}],
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\n"}],
    ]
    out = engine(proxy).generate(
        requests, SamplingConfig(samples_per_prompt=3, max_new_tokens=10, temperature=1.0, seed=1)
    )
    assert [len(c) for c in out] == [3, 3, 3]
    for completions in out:
        for c in completions:
            assert 1 <= c.tokens <= 10 and c.finish_reason in ("stop", "length")
            assert c.finish_reason == "stop" or c.tokens == 10
    assert faults.hits["total"] == 9  # one call per sample


def test_429_500_and_a_hang_are_retried(proxy, faults):
    faults.plan = [429, 500, "hang", 503]
    e = engine(proxy, concurrency=1, max_retries=5, timeout_s=2.0)
    start = time.monotonic()
    out = e.generate(["x", "y"], SamplingConfig(max_new_tokens=5, temperature=0))
    assert [len(c) for c in out] == [1, 1] and all(c[0].tokens >= 1 for c in out)
    assert faults.hits["total"] == 2 + 4  # every fault cost one extra call
    assert time.monotonic() - start < 25  # the hang was cut by the timeout, not waited out


def test_a_request_that_keeps_failing_raises_after_the_others_are_out(proxy, faults):
    faults.always_fail_marker = "BROKEN"
    e = engine(proxy, concurrency=1, max_retries=2, timeout_s=5.0)
    got = []
    with pytest.raises(EngineError, match="injected 500|500"):
        for index, _completions in e.stream(["ok one", "BROKEN", "ok two"], SamplingConfig(max_new_tokens=4)):
            got.append(index)
    assert sorted(got) == [0, 2]  # the good requests were handed out before the error
    assert faults.hits["marked"] == 3  # first try + 2 retries


def test_an_unreachable_server_is_an_engine_error():
    e = get_engine(
        "openai", "tiny", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0, timeout_s=2
    )
    with pytest.raises(EngineError):
        e.generate(["x"], SamplingConfig(max_new_tokens=2))
