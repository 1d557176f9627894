import threading
import time

import pool_helpers as h
import pytest

from rlvr.pool import DeadlinePool


@pytest.fixture(scope="module")
def pool():
    p = DeadlinePool(2, memory_mb=1024)
    yield p
    p.close()


def test_results_come_back_in_order(pool):
    outcomes = pool.map(h.square, [(i,) for i in range(500)], timeout_s=5)
    assert outcomes == [("ok", i * i) for i in range(500)]


def test_python_level_hang_is_cut_at_the_limit_without_killing_the_worker(pool):
    pids_before = set(pool.worker_pids)
    start = time.monotonic()
    outcomes = pool.map(h.python_loop, [(30,), (0,)], timeout_s=0.5)
    elapsed = time.monotonic() - start
    assert outcomes[0][0] == "timeout" and outcomes[1] == ("ok", "finished")
    assert elapsed < 0.5 + 1.0
    assert set(pool.worker_pids) == pids_before  # the soft limit kept the warm process


def test_hang_in_c_code_kills_and_replaces_the_worker(pool):
    start = time.monotonic()
    outcomes = pool.map(h.c_level_hang, [(0,)], timeout_s=0.5)
    assert outcomes[0][0] == "timeout"
    assert time.monotonic() - start < 0.5 + 1.0
    # the pool still works afterwards, with a fresh worker
    assert pool.map(h.square, [(3,)], timeout_s=5) == [("ok", 9)]


def test_other_items_of_a_chunk_survive_a_killed_worker():
    p = DeadlinePool(1, memory_mb=1024)
    try:
        # one worker: the items queued behind the stuck one run on its replacement
        stuck = p.submit_many(h.c_level_hang, [(0,)], timeout_s=0.3)
        after = p.submit_many(h.square, [(5,), (6,)], timeout_s=5)
        assert stuck.wait()[0][0] == "timeout"
        assert after.wait() == [("ok", 25), ("ok", 36)]
    finally:
        p.close()


def test_worker_death_is_reported_and_the_rest_still_runs(pool):
    outcomes = pool.map(h.die, [(0,)], timeout_s=5) + pool.map(h.square, [(7,)], timeout_s=5)
    assert outcomes[0][0] == "crash"
    assert outcomes[1] == ("ok", 49)


def test_exceptions_come_back_as_errors(pool):
    [(status, exc)] = pool.map(h.fail, [("boom",)], timeout_s=5)
    assert status == "error" and isinstance(exc, ValueError) and "boom" in str(exc)


def test_memory_is_bounded(pool):
    [(status, exc)] = pool.map(h.allocate, [(4096,)], timeout_s=5)
    assert status == "error" and isinstance(exc, MemoryError)
    assert pool.map(h.allocate, [(10,)], timeout_s=5) == [("ok", 10 * 1024 * 1024)]


def test_many_threads_share_one_pool(pool):
    results: dict[int, list] = {}

    def client(k: int) -> None:
        results[k] = pool.map(h.square, [(k * 100 + i,) for i in range(50)], timeout_s=5)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == list(range(8))
    for k, outcomes in results.items():
        assert outcomes == [("ok", (k * 100 + i) ** 2) for i in range(50)]


def test_unpicklable_function_is_a_clear_error(pool):
    with pytest.raises(TypeError, match="cannot be sent to a worker"):
        pool.map(lambda x: x, [(1,)], timeout_s=1)


def test_closed_pool_refuses_work():
    p = DeadlinePool(1)
    p.close()
    with pytest.raises(RuntimeError, match="closed"):
        p.map(h.square, [(1,)], timeout_s=1)


def test_stuck_item_in_the_middle_of_a_chunk():
    p = DeadlinePool(1, memory_mb=1024)
    try:
        outcomes = p.map(h.square_or_hang, [(1,), (2,), (-1,), (3,), (4,)], timeout_s=0.3)
        assert [o[0] for o in outcomes] == ["ok", "ok", "timeout", "ok", "ok"]
        assert [o[1] for o in outcomes if o[0] == "ok"] == [1, 4, 9, 16]
    finally:
        p.close()


def test_deadline_holds_while_big_chunks_wait_for_a_stuck_worker():
    # The queued chunks are larger than a socket buffer: writing them must not block the
    # dispatcher, or the stuck worker would never be killed.
    p = DeadlinePool(1, memory_mb=1024)
    try:
        big = "x" * 200_000
        assert p.map(h.square, [(2,)], timeout_s=5) == [("ok", 4)]  # worker started and warm
        start = time.monotonic()
        stuck = p.submit_many(h.length_or_hang, [(-1, "")], timeout_s=0.5)
        rest = p.submit_many(h.length_or_hang, [(i, big) for i in range(40)], timeout_s=5)
        assert stuck.wait()[0][0] == "timeout"
        assert time.monotonic() - start < 0.5 + 1.0
        assert rest.wait() == [("ok", 200_000)] * 40
    finally:
        p.close()
