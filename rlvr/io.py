"""The one loader and writer for tables of rows: JSONL, Parquet or CSV, chosen by suffix."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from rlvr.errors import InputFileError

SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".csv": "csv"}


def table_format(path: Path) -> str:
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise InputFileError(
            f"{path}: unknown file type {path.suffix!r} (use .jsonl, .parquet or .csv)"
        ) from None


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a whole table; errors name the file and what is wrong with it."""
    path = Path(path)
    kind = table_format(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    try:
        if kind == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, keep_default_na=False, dtype=str)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read as {kind}: {str(exc).splitlines()[0]}") from None


def require_columns(df: pd.DataFrame, columns: dict[str, str], path: str | Path) -> None:
    """`columns` maps the option that named a column to the column name."""
    for option, column in columns.items():
        if column not in df.columns:
            known = ", ".join(map(str, df.columns)) or "none"
            raise InputFileError(f"{path}: no column {column!r} (set by {option}); columns: {known}")


class TableWriter:
    """Appends chunks of rows as they are computed, so an interrupted run keeps what it wrote."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.kind = table_format(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet = None
        self._csv_header = True
        self.path.unlink(missing_ok=True)

    def append(self, df: pd.DataFrame) -> None:
        if self.kind == "jsonl":
            clean = df.astype(object).where(df.notna(), None)  # NaN is not JSON
            with self.path.open("a", encoding="utf-8") as f:
                for record in clean.to_dict(orient="records"):
                    f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        elif self.kind == "csv":
            df.to_csv(self.path, mode="a", header=self._csv_header, index=False)
            self._csv_header = False
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
