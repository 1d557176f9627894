"""Faults, each with what the client sees and proof that nothing accepted was lost: a worker killed
mid-request, a hanging item, an item that kills every worker, a client that leaves mid-request, a
full queue.  Each hostile case is followed by a harmless request that must still be answered."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

import httpx
import pytest
from server_conftest import metric, running

WORKERS = 3  # a pool size no other test uses: fresh workers that can import rlvr_fault_verifiers


@pytest.fixture(scope="module")
def fault_server():
    import rlvr_fault_verifiers

    from rlvr.server import create_app

    rlvr_fault_verifiers.register()
    app = create_app(["faulty"], workers=WORKERS, max_queue=8, crash_retries=2)
    with running(app) as url:
        yield url, app.state.service


def score(url: str, completions: list[str], answers: list[str], timeout: float = 60) -> httpx.Response:
    items = [{"completion": c, "answer": a} for c, a in zip(completions, answers)]
    return httpx.post(f"{url}/score", json={"items": items}, timeout=timeout)


def harmless(url: str) -> None:
    response = score(url, ["7", "8"], ["7", "7"])
    assert response.status_code == 200 and response.json()["rewards"] == [1.0, 0.0]


def wait_idle(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{url}/health").json()["queue_depth"] != 0:
        assert time.monotonic() < deadline, "accepted items were never released"
        time.sleep(0.05)


def test_worker_killed_mid_request_the_item_is_retried(fault_server):
    url, service = fault_server
    from rlvr.pool import shared_pool

    before = httpx.get(f"{url}/metrics").text
    answers = [str(i) for i in range(6)]
    done: dict[str, httpx.Response] = {}
    thread = threading.Thread(
        target=lambda: done.update(r=score(url, [f"sleep:1 {a}" for a in answers], answers))
    )
    thread.start()
    time.sleep(0.5)  # every worker is inside a 1 s item now
    victim = shared_pool(WORKERS).worker_pids[0]
    os.kill(victim, signal.SIGKILL)
    thread.join(60)
    response = done["r"]
    assert response.status_code == 200, response.text
    assert response.json()["rewards"] == [1.0] * 6  # every item got its real reward, none lost or doubled
    assert [r["extracted"] for r in response.json()["results"]] == answers
    after = httpx.get(f"{url}/metrics").text
    assert metric(after, "rlvr_worker_restarts_total") > metric(before, "rlvr_worker_restarts_total")
    assert metric(after, "rlvr_crash_retries_total") > metric(before, "rlvr_crash_retries_total")
    assert victim not in shared_pool(WORKERS).worker_pids
    harmless(url)


def test_an_item_that_always_kills_its_worker_is_a_502_for_that_item_only(fault_server):
    url, _ = fault_server
    response = score(url, ["1", "die", "3"], ["1", "2", "3"])
    assert response.status_code == 502
    body = response.json()
    assert body["failed_items"] == [1]
    assert "items [1]" in body["detail"] and "died on this item 3 times" in body["detail"]
    assert body["rewards"] == [1.0, None, 1.0]
    assert body["results"][1]["error"] and body["results"][0]["reward"] == 1.0
    harmless(url)


def test_an_item_whose_worker_died_once_gets_its_reward(fault_server, tmp_path):
    url, _ = fault_server
    marker = tmp_path / "died"
    response = score(url, [f"die-once:{marker} 5", "6"], ["5", "6"])
    assert response.status_code == 200 and response.json()["rewards"] == [1.0, 1.0]
    assert marker.exists()  # it did die once
    harmless(url)


def test_a_hanging_item_times_out_and_the_others_are_scored(fault_server):
    url, _ = fault_server
    before = httpx.get(f"{url}/metrics").text
    start = time.monotonic()
    response = score(url, ["1", "hang", "3"], ["1", "2", "3"])
    assert time.monotonic() - start < 20
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["reason"] for r in results] == [None, "timeout", None]
    assert response.json()["rewards"] == [1.0, 0.0, 1.0]
    after = httpx.get(f"{url}/metrics").text
    assert metric(after, "rlvr_item_timeouts_total") == metric(before, "rlvr_item_timeouts_total") + 1
    assert metric(after, "rlvr_items_total", endpoint="score", outcome="timeout") >= 1
    harmless(url)


def test_a_client_that_leaves_mid_request(fault_server):
    url, _ = fault_server
    before = httpx.get(f"{url}/metrics").text
    port = int(url.rsplit(":", 1)[1])
    items = [{"completion": f"sleep:1 {i}", "answer": str(i)} for i in range(3)]
    body = json.dumps({"items": items}).encode()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        head = f"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/health").json()["queue_depth"] != 3:  # accepted, in the workers now
            assert time.monotonic() < deadline, "the request was never accepted"
            time.sleep(0.02)
    wait_idle(url)
    after = httpx.get(f"{url}/metrics").text
    # the accepted items were scored all the same (counted once each), and nothing stays queued
    scored = metric(after, "rlvr_items_total", endpoint="score", outcome="scored")
    assert scored - metric(before, "rlvr_items_total", endpoint="score", outcome="scored") == 3
    harmless(url)


def test_a_full_queue_answers_429_with_retry_after_and_keeps_what_it_accepted(fault_server):
    url, _ = fault_server
    from rlvr.client import RewardClient

    answers = [str(i) for i in range(8)]
    done: dict[str, httpx.Response] = {}
    filler = threading.Thread(
        target=lambda: done.update(r=score(url, [f"sleep:1.5 {a}" for a in answers], answers))
    )
    filler.start()
    deadline = time.monotonic() + 10
    while httpx.get(f"{url}/health").json()["queue_depth"] < 8:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    refused = score(url, ["1"], ["1"])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "queue full" in refused.json()["message"]
    too_many = score(url, ["1"] * 9, ["1"] * 9)
    assert too_many.status_code == 413 and too_many.json()["message"].startswith("items: 9 items exceed")
    # the client waits as told and gets its answer once the queue drains
    with RewardClient(url, backoff_s=0.1) as client:
        assert client.rewards(["4"], ["4"]) == [1.0]
    filler.join(60)
    assert done["r"].status_code == 200 and done["r"].json()["rewards"] == [1.0] * 8
    wait_idle(url)
    harmless(url)
