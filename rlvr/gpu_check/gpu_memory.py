"""The whole-device view of GPU memory: `nvidia-smi` sampled in the background for the whole check,
each sample stamped on arrival, so every step's peak can be read off its own time window (the
in-process `torch.cuda.max_memory_allocated` misses other processes: a `vllm serve`, an engine core).

Standard library only.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUERY = "index,memory.used,memory.total,utilization.gpu"


def nvidia_smi_command(interval_ms: int = 500) -> list[str]:
    return ["nvidia-smi", f"--query-gpu={QUERY}", "--format=csv,noheader,nounits", f"--loop-ms={interval_ms}"]


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic() when the line arrived
    gpu: int
    used_mib: float
    total_mib: float
    utilization_pct: float | None


def parse_line(line: str, at: float) -> Sample | None:
    """One CSV line of QUERY; None for anything else (a header, a warning, `[N/A]`)."""
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 4:
        return None
    try:
        gpu, used, total = int(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return None
    try:
        utilization: float | None = float(parts[3])
    except ValueError:
        utilization = None
    return Sample(at, gpu, used, total, utilization)


class MemorySampler:
    """Reads a sampling command's lines on a thread; `window(start, end)` summarises a step."""

    def __init__(self, command: list[str], raw_log: Path | None = None) -> None:
        self.command = command
        self.raw_log = raw_log
        self.samples: list[Sample] = []
        self.error: str | None = None
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> MemorySampler:
        try:
            self._process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
            )
        except OSError as error:
            self.error = f"could not start {self.command[0]}: {error}"
            return self
        self._thread = threading.Thread(target=self._read, name="gpu-memory-sampler", daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        raw = self.raw_log.open("w") if self.raw_log else None
        try:
            for line in self._process.stdout:
                sample = parse_line(line, time.monotonic())
                if raw is not None:
                    raw.write(f"{time.time():.3f},{line.strip()}\n")
                if sample is not None:
                    with self._lock:
                        self.samples.append(sample)
        finally:
            if raw is not None:
                raw.close()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def window(self, start: float, end: float) -> dict[str, Any]:
        """Peak and starting memory (MiB, summed over GPUs) between two time.monotonic() stamps."""
        with self._lock:
            inside = [s for s in self.samples if start <= s.at <= end]
            before = [s for s in self.samples if s.at < start]
        if not inside:
            return {"samples": 0, **({"error": self.error} if self.error else {})}
        totals = _per_instant(inside)
        summary: dict[str, Any] = {
            "samples": len(totals),
            "peak_used_mib": max(totals),
            "total_mib": _device_total(inside),
        }
        if before:
            summary["used_before_mib"] = _per_instant(before)[-1]
        utilization = [s.utilization_pct for s in inside if s.utilization_pct is not None]
        if utilization:
            summary["peak_utilization_pct"] = max(utilization)
        return summary


def _per_instant(samples: list[Sample]) -> list[float]:
    """Memory used summed over the GPUs of each sampling round (a round starts again at GPU 0...)."""
    rounds: list[float] = []
    seen: set[int] = set()
    for sample in samples:
        if not rounds or sample.gpu in seen:
            rounds.append(0.0)
            seen = set()
        seen.add(sample.gpu)
        rounds[-1] += sample.used_mib
    return rounds


def _device_total(samples: list[Sample]) -> float:
    return sum({s.gpu: s.total_mib for s in samples}.values())


def gpu_processes() -> list[dict[str, Any]]:
    """Processes holding GPU memory now (to catch a step that left an engine behind)."""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in done.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit():
            found.append({"pid": int(parts[0]), "used_mib": parts[1]})
    return found
