"""SWE-bench task records and predictions, exactly as the datasets ship them.

`FAIL_TO_PASS` / `PASS_TO_PASS` arrive as JSON-encoded strings in SWE-bench Lite and Verified
and as lists elsewhere; both are accepted and kept as lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rlvr.errors import ConfigError, InputFileError

HUB_ALIASES = {
    "lite": "princeton-nlp/SWE-bench_Lite",
    "swe-lite": "princeton-nlp/SWE-bench_Lite",
    "verified": "SWE-bench/SWE-bench_Verified",
    "swe-verified": "SWE-bench/SWE-bench_Verified",
}


class SWEInstance(BaseModel):
    """One task: a repository at a commit, an issue, the gold patch and the tests that judge it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    instance_id: str = Field(min_length=1)
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    base_commit: str = Field(min_length=1)
    patch: str = ""
    test_patch: str
    problem_statement: str = ""
    hints_text: str = ""
    version: str = ""
    FAIL_TO_PASS: list[str] = Field(default_factory=list)
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    environment_setup_commit: str | None = None
    created_at: str | None = None

    @field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")
    @classmethod
    def _decode_test_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list of test ids: {exc}") from None
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return "" if value is None else str(value)  # some dumps carry versions as floats

    @property
    def repo_dirname(self) -> str:
        """`owner__name`, SWE-bench's name for the repository on disk."""
        return self.repo.replace("/", "__")


class Prediction(BaseModel):
    """One line of a SWE-bench predictions file."""

    model_config = ConfigDict(extra="allow")

    instance_id: str = Field(min_length=1)
    model_name_or_path: str = "unknown"
    model_patch: str | None = ""


def parse_instance(record: dict[str, Any], where: str = "record") -> SWEInstance:
    """A record as a `SWEInstance`; a bad record names itself, the field and the problem."""
    try:
        return SWEInstance.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "record"
        ident = record.get("instance_id", "?") if isinstance(record, dict) else "?"
        raise ConfigError(f"{where} ({ident}).{field}", first["msg"]) from None


def _read_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json" or text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}: not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("instances") or data.get("data") or list(data.values())
        if not isinstance(data, list):
            raise InputFileError(f"{path}: expected a list of records")
        return data
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}:{number}: not valid JSON: {exc}") from None
    return records


def load_instances(
    source: str | Path, split: str = "test", ids: Iterable[str] | None = None
) -> list[SWEInstance]:
    """Records from a JSON / JSONL file, or from the hub (`princeton-nlp/SWE-bench_Lite`,
    `SWE-bench/SWE-bench_Verified`, or the aliases `lite` / `verified`)."""
    path = Path(source)
    if path.exists():
        records = _read_records(path)
        where = str(path)
    else:
        records = _hub_records(HUB_ALIASES.get(str(source), str(source)), split)
        where = str(source)
    instances = [parse_instance(r, where) for r in records]
    seen: set[str] = set()
    for inst in instances:
        if inst.instance_id in seen:
            raise ConfigError(f"{where}.instance_id", f"{inst.instance_id!r} appears twice")
        seen.add(inst.instance_id)
    if ids:
        wanted = list(dict.fromkeys(ids))
        missing = [i for i in wanted if i not in seen]
        if missing:
            raise ConfigError("ids", f"not in {where}: {', '.join(missing)}")
        by_id = {i.instance_id: i for i in instances}
        instances = [by_id[i] for i in wanted]
    return instances


def _hub_records(name: str, split: str) -> list[dict[str, Any]]:
    if "/" not in name:
        raise InputFileError(f"{name}: no such file, and not a hub id (owner/name)")
    try:
        import datasets
    except ImportError:
        raise ConfigError("instances", "hub data needs `datasets`: pip install rlvr[bench]") from None
    return [dict(row) for row in datasets.load_dataset(name, split=split)]


def load_predictions(path: str | Path) -> dict[str, Prediction]:
    """SWE-bench predictions (JSONL or a JSON list / dict keyed by instance id).

    A malformed line does not stop the run: it becomes a prediction whose patch is the
    problem text, which the evaluation reports as that instance's error."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    rows: list[Any]
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and path.suffix == ".json"):
        data = json.loads(text)
        rows = list(data.values()) if isinstance(data, dict) else data
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFileError(f"{path}:{number}: not valid JSON: {exc}") from None
    predictions: dict[str, Prediction] = {}
    for number, row in enumerate(rows, 1):
        try:
            pred = Prediction.model_validate(row)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputFileError(f"{path}: prediction {number}: {field}: {first['msg']}") from None
        predictions[pred.instance_id] = pred
    return predictions


def gold_predictions(instances: Iterable[SWEInstance]) -> dict[str, Prediction]:
    return {
        i.instance_id: Prediction(instance_id=i.instance_id, model_name_or_path="gold", model_patch=i.patch)
        for i in instances
    }


def empty_predictions(instances: Iterable[SWEInstance]) -> dict[str, Prediction]:
    return {
        i.instance_id: Prediction(instance_id=i.instance_id, model_name_or_path="empty", model_patch="")
        for i in instances
    }
