"""`samples.jsonl`: one line per finished problem, appended and flushed as it arrives.

A killed run leaves at most one torn last line; `load` drops it (and truncates the
file there), so a restarted run regenerates exactly the problems with no line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

Key = tuple[str, str]  # (benchmark, problem id)


class SampleStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = None

    def load(self) -> dict[Key, dict[str, Any]]:
        """Every complete record; a torn tail is cut off so appends start on a clean line."""
        records: dict[Key, dict[str, Any]] = {}
        if not self.path.exists():
            return records
        data = self.path.read_bytes()
        good_end = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                break
            records[(record["benchmark"], record["problem_id"])] = record
            good_end += len(line)
        if good_end < len(data):
            with self.path.open("r+b") as f:
                f.truncate(good_end)
        return records

    def append(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
