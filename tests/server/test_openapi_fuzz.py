"""Property-based: requests generated from the server's own OpenAPI schema (schemathesis, on
hypothesis) never get a 5xx, whether they conform to it or not."""

from __future__ import annotations

import httpx
import pytest
from server_conftest import running

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_server():
    from rlvr.server import create_app

    app = create_app(["math", "math=1.0,format=0.2"], workers=2, max_queue=64, token="s3cret")
    with running(app) as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_request_from_the_schema_gets_a_5xx(fuzz_server, mode):
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    seen: dict[str, set[int]] = {}
    with httpx.Client(base_url=fuzz_server, timeout=60, headers={"Authorization": "Bearer s3cret"}) as http:
        for result in schema.get_all_operations():
            if mode == "negative" and result.ok().method.upper() == "GET":
                continue  # nothing to get wrong in a GET without parameters
            _fuzz(http, fuzz_server, result.ok(), generation, seen)
    assert seen, "no operation was exercised"
    if mode == "positive":
        assert 200 in seen["POST /score"] and 200 in seen["POST /run_code"]


def _fuzz(http, url, operation, generation, seen) -> None:
    strategy = operation.as_strategy(generation_mode=generation)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=strategy)
    def check(case) -> None:
        kwargs = case.as_transport_kwargs(base_url=url)
        kwargs.pop("base_url", None)
        headers = {**(kwargs.pop("headers", None) or {}), "Authorization": "Bearer s3cret"}
        response = http.request(
            kwargs.pop("method"), kwargs.pop("url"), headers=headers, **_httpx_kwargs(kwargs)
        )
        seen.setdefault(operation.label, set()).add(response.status_code)
        assert response.status_code < 500, (operation.label, case.body, response.text[:500])

    check()


def _httpx_kwargs(kwargs: dict) -> dict:
    out = {}
    for key in ("params", "json", "content", "data"):
        if kwargs.get(key) is not None:
            out[key] = kwargs[key]
    return out
