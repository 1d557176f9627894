"""Load test of `rlvr serve` on loopback, next to in-process batch scoring of the same rows.

    flock /tmp/rlvr-heavy.lock python perf/server_load.py [--clients 32] [--processes 4] [--batch 16]

1. Anchor: `verifier.verify_batch(rows, workers=W)` in this process (a fresh pool), timed.
2. `rlvr serve --workers W` as its own process; `--processes` client processes with
   `--clients / --processes` threads each post `--batch` rows per request until their share of
   the rows is done or `--deadline-s` passes (the run stops by itself).
3. Checks: every row answered exactly once (each row's index travels in its request and comes back
   in order), each result equal to the in-process result for that row; 429s are retried as the server
   says (Retry-After) and counted.
4. Prints p50 / p99 request latency, items/s for both, and the server's overhead as a ratio
   (server wall time / in-process wall time; target <= 1.3x on math).

Both sides score the same rows in fresh worker pools, so their caches start equally cold.  Clients,
server and workers share this machine's cores: on a small machine the clients' own CPU is part of
what the ratio shows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/outputs/qwen25_math_cot_100x8.jsonl"


def code_rows(n: int) -> list[dict]:
    """stdin/stdout tasks, 3 tests each: a correct, a wrong and a crashing program in turn."""
    programs = [
        "a, b = map(int, input().split())\nprint(a + b)",
        "a, b = map(int, input().split())\nprint(a - b)",
        "a, b = map(int, input().split())\nprint(a // (b - b))",
    ]
    rows = []
    for i in range(n):
        tests = [(f"{i} {k}", str(i + k)) for k in (1, 2, 3)]
        answer = {"inputs": [t[0] for t in tests], "outputs": [t[1] for t in tests]}
        rows.append({"completion": f"```python\n{programs[i % 3]}\n```", "answer": json.dumps(answer)})
    return rows


def cpu_s(pid: int, children: bool = True) -> float:
    """CPU seconds (user + system) of a process, plus its direct children's (the worker pool)."""
    tick = os.sysconf("SC_CLK_TCK")

    def one(p: int) -> tuple[float, int]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick, int(fields[1])

    total = one(pid)[0]
    if children:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    seconds, parent = one(int(entry))
                except (OSError, IndexError, ValueError):
                    continue
                if parent == pid:
                    total += seconds
    return total


def load_rows(path: Path, repeat: int) -> list[dict]:
    if str(path).startswith("code:"):
        return code_rows(int(str(path).split(":", 1)[1]) * repeat)
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [{"completion": r["completion"], "answer": str(r["answer"])} for r in rows]
    return rows * repeat


def anchor(rows: list[dict], spec: str, workers: int) -> tuple[float, list[tuple]]:
    from rlvr.pool import shared_pool
    from rlvr.verifiers import get_verifier

    verifier = get_verifier(spec)
    shared_pool(workers)  # started before the clock, like the server's pool
    verifier.verify_batch([r"\boxed{1}"] * workers * 4, ["1"] * workers * 4, workers)  # workers up
    cpu0 = cpu_s(os.getpid())
    start = time.perf_counter()
    results = verifier.verify_batch([r["completion"] for r in rows], [r["answer"] for r in rows], workers)
    seconds = time.perf_counter() - start
    anchor.cpu_s = cpu_s(os.getpid()) - cpu0  # type: ignore[attr-defined]
    return seconds, [(r.score, r.correct, r.extracted, r.reason) for r in results]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(spec: str, workers: int, port: int, max_queue: int) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from rlvr.cli import main; main()", "serve", "-V", spec]
    cmd += ["--port", str(port), "--workers", str(workers), "--max-queue", str(max_queue)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                # the same warm-up as the anchor's: every worker up and importing done
                warm = [{"completion": r"\boxed{1}", "answer": "1"}] * workers * 4
                httpx.post(f"http://127.0.0.1:{port}/score", json={"items": warm}, timeout=120)
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)


def client_process(url, shares, rows, batch, deadline_s, ready, go, out) -> None:
    """One process: a thread per share; posts its rows `batch` at a time; reports what came back.
    Imports and connections happen before `go`, so the clock measures requests only.  The
    standard library's http.client keeps the clients' own CPU small next to the server's."""
    import http.client
    from urllib.parse import urlsplit

    host, port = urlsplit(url).hostname, urlsplit(url).port

    records: list[tuple] = []  # (row index, result tuple)
    latencies: list[float] = []
    refused = [0]
    lock = threading.Lock()

    def run(share: list[int]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=180)
        conn.request("GET", "/health")
        conn.getresponse().read()  # connected before the clock starts
        barrier.wait()
        deadline = time.time() + deadline_s
        for start in range(0, len(share), batch):
            if time.time() > deadline:
                return
            ids = share[start : start + batch]
            items = [rows[i] for i in ids]
            body = json.dumps({"items": items})
            while True:
                t0 = time.perf_counter()
                conn.request("POST", "/score", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
                if response.status == 429:
                    with lock:
                        refused[0] += 1
                    time.sleep(float(response.getheader("Retry-After", "1")))
                    continue
                break
            elapsed = time.perf_counter() - t0
            if response.status != 200:
                raise RuntimeError(f"{response.status}: {payload[:300]!r}")
            results = json.loads(payload)["results"]
            with lock:
                latencies.append(elapsed)
                for i, r in zip(ids, results):
                    records.append((i, (r["reward"], r["correct"], r["extracted"], r["reason"])))
                if len(results) != len(ids):
                    records.append((-1, ("count mismatch", len(ids), len(results), None)))

    barrier = threading.Barrier(len(shares) + 1)
    threads = [threading.Thread(target=run, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    ready.put(True)
    go.wait()
    barrier.wait()
    for t in threads:
        t.join()
    out.put((records, latencies, refused[0]))


def load(url: str, rows: list[dict], clients: int, processes: int, batch: int, deadline_s: float):
    # each client takes whole batches in turn, so every client has work until the end
    batches = [list(range(i, min(i + batch, len(rows)))) for i in range(0, len(rows), batch)]
    shares = [[i for b in batches[c::clients] for i in b] for c in range(clients)]
    per_process = [shares[p::processes] for p in range(processes)]
    ctx = mp.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    args = [(url, s, rows, batch, deadline_s, ready, go, out) for s in per_process]
    procs = [ctx.Process(target=client_process, args=a) for a in args]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    start = time.perf_counter()
    go.set()
    gathered = [out.get(timeout=deadline_s + 60) for _ in procs]
    seconds = time.perf_counter() - start
    for p in procs:
        p.join(timeout=30)
    records = [r for g in gathered for r in g[0]]
    latencies = [x for g in gathered for x in g[1]]
    refused = sum(g[2] for g in gathered)
    return seconds, records, latencies, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="JSONL, or code:N for N code tasks.")
    parser.add_argument("--repeat", type=int, default=3, help="Passes over the data file.")
    parser.add_argument("--spec", default="math")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--batch", type=int, default=16, help="Rows per request.")
    parser.add_argument("--max-queue", type=int, default=1024)
    parser.add_argument("--deadline-s", type=float, default=240)
    args = parser.parse_args()

    rows = load_rows(args.data, args.repeat)
    print(f"rows: {len(rows)} ({args.data} x{args.repeat}), spec {args.spec!r}, workers {args.workers}")
    anchor_s, expected = anchor(rows, args.spec, args.workers)
    print(f"in-process verify_batch: {anchor_s:.2f} s, {len(rows) / anchor_s:.0f} items/s")

    port = free_port()
    server = start_server(args.spec, args.workers, port, args.max_queue)
    try:
        url = f"http://127.0.0.1:{port}"
        server_cpu0 = cpu_s(server.pid)
        seconds, records, latencies, refused = load(
            url, rows, args.clients, args.processes, args.batch, args.deadline_s
        )
        server_cpu = cpu_s(server.pid) - server_cpu0
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)

    answered = [i for i, _ in records]
    missing = sorted(set(range(len(rows))) - set(answered))
    duplicated = len(answered) - len(set(answered))
    wrong = [i for i, r in records if i >= 0 and r != expected[i]]
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(
        f"server: {args.clients} clients in {args.processes} processes, {args.batch} rows/request, "
        f"{len(latencies)} requests in {seconds:.2f} s"
    )
    print(f"  items/s {len(answered) / seconds:.0f}   p50 {p50 * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms")
    print(f"  answered {len(answered)} of {len(rows)}; missing {len(missing)}; duplicated {duplicated}")
    print(f"  results differing from in-process: {len(wrong)}; 429 answers retried: {refused}")
    ratio = seconds / anchor_s
    print(f"overhead ratio (server wall / in-process wall): {ratio:.2f}x (target <= 1.3x on math)")
    inproc_us, server_us = anchor.cpu_s / len(rows) * 1e6, server_cpu / len(rows) * 1e6  # type: ignore[attr-defined]
    print(
        f"CPU per item: in-process {inproc_us:.0f} us (caller + workers), server {server_us:.0f} us "
        f"(server + workers): {server_us / max(inproc_us, 1e-9):.2f}x; the clients' CPU is on top"
    )
    if missing or duplicated or wrong:
        raise SystemExit("FAILED: rows lost, doubled or changed")


if __name__ == "__main__":
    main()
