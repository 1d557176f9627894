"""Hostile and malformed bodies: each gets the right status and a message naming the field, and a
harmless request right after it is still answered.  Seeded random order."""

from __future__ import annotations

import random

import httpx
import pytest
from server_conftest import AUTH, running

J = {"Content-Type": "application/json", **AUTH}

CASES = [
    # (name, path, raw body, headers, status, message start)
    ("malformed json", "/score", b'{"items": [', J, 400, "body: not valid JSON"),
    ("not an object", "/score", b"[1, 2]", J, 422, "body:"),
    ("items missing", "/score", b"{}", J, 422, "items: Field required"),
    ("items not a list", "/score", b'{"items": "abc"}', J, 422, "items: Input should be a valid list"),
    (
        "completion missing",
        "/score",
        b'{"items": [{"answer": "1"}]}',
        J,
        422,
        "items.0.completion: Field required",
    ),
    (
        "completion wrong type",
        "/score",
        b'{"items": [{"completion": 5}]}',
        J,
        422,
        "items.0.completion: Input should be a valid string or",
    ),
    (
        "length negative",
        "/score",
        b'{"items": [{"completion": "a", "length": -1}]}',
        J,
        422,
        "items.0.length:",
    ),
    (
        "length only on some",
        "/score",
        b'{"items": [{"completion": "a", "length": 3}, {"completion": "b"}]}',
        J,
        422,
        "items.1.length: give a length",
    ),
    (
        "verifier not served",
        "/score",
        b'{"items": [{"completion": "a"}], "verifier": "code"}',
        J,
        422,
        "verifier: 'code' is not served",
    ),
    (
        "verifier wrong type",
        "/score",
        b'{"items": [], "verifier": 3}',
        J,
        422,
        "verifier: Input should be a valid string",
    ),
    ("query missing", "/get_reward", b'{"prompts": ["a"]}', J, 422, "query: Field required"),
    (
        "query not strings",
        "/get_reward",
        b'{"query": [1]}',
        J,
        422,
        "query.0: Input should be a valid string",
    ),
    (
        "prompts length mismatch",
        "/get_reward",
        b'{"query": ["a", "b"], "prompts": ["a"]}',
        J,
        422,
        "prompts: has 1 items but query has 2",
    ),
    (
        "labels length mismatch",
        "/get_reward",
        b'{"query": ["a"], "labels": ["1", "2"]}',
        J,
        422,
        "labels: has 2 items but query has 1",
    ),
    ("code missing", "/run_code", b'{"language": "python"}', J, 422, "code: Field required"),
    (
        "stdin wrong type",
        "/run_code",
        b'{"code": "1", "language": "python", "stdin": 5}',
        J,
        422,
        "stdin: Input should be a valid string",
    ),
    (
        "run_timeout too long",
        "/run_code",
        b'{"code": "1", "language": "python", "run_timeout": 9999}',
        J,
        422,
        "run_timeout:",
    ),
    (
        "oversized body",
        "/score",
        b'{"items": [{"completion": "' + b"x" * 70_000 + b'"}]}',
        J,
        413,
        "body: larger than",
    ),
    ("wrong token", "/score", b'{"items": []}', {"Authorization": "Bearer nope"}, 401, "Authorization:"),
    ("no token", "/get_reward", b'{"query": []}', {}, 401, "Authorization:"),
]


@pytest.fixture(scope="module")
def small_server():
    from rlvr.server import create_app

    app = create_app(["math"], workers=2, max_queue=64, token="s3cret", max_body_bytes=64 * 1024)
    with running(app) as url:
        yield url


def test_each_bad_body_gets_its_status_and_names_its_field(small_server):
    cases = list(CASES)
    random.Random(19).shuffle(cases)
    for name, path, raw, headers, status, message in cases:
        response = httpx.post(f"{small_server}{path}", content=raw, headers=headers, timeout=30)
        assert response.status_code == status, (name, response.text[:300])
        assert response.json()["message"].startswith(message), (name, response.json()["message"])
        ok = httpx.post(
            f"{small_server}/score",
            json={"items": [{"completion": r"\boxed{2}", "answer": "2"}]},
            headers=AUTH,
        )
        assert ok.status_code == 200 and ok.json()["rewards"] == [1.0], name


def test_a_chunked_body_over_the_limit_is_refused(small_server):
    def chunks():
        yield b'{"items": [{"completion": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}]}'

    response = httpx.post(f"{small_server}/score", content=chunks(), headers=J, timeout=30)
    assert response.status_code == 413


def test_empty_requests_are_answered_empty(small_server):
    assert httpx.post(f"{small_server}/score", json={"items": []}, headers=AUTH).json()["rewards"] == []
    body = httpx.post(f"{small_server}/get_reward", json={"query": []}, headers=AUTH).json()
    assert body == {"rewards": [], "scores": [], "extra_logs": {"correct": [], "timeout": []}}


def test_a_broken_content_length_is_a_400(small_server):
    """uvicorn refuses it before the app (its own plain-text message)."""
    import socket

    host, port = small_server.removeprefix("http://").split(":")
    request = b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.split()[1] == b"400"
    ok = httpx.post(
        f"{small_server}/score", json={"items": [{"completion": "1", "answer": "1"}]}, headers=AUTH
    )
    assert ok.status_code == 200
