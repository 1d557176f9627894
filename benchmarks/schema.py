"""The problem and benchmark-spec models that every part of rlvr shares (benchmarks, trainer, API)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rlvr.types import rename_deprecated

Kind = Literal["math", "multiple_choice", "code_humaneval", "code_stdin", "swe"]


class Problem(BaseModel):
    """One item to solve: what to ask, the reference answer, and which verifier checks it."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    answer: Any
    verifier: str = "math"
    verifier_options: dict[str, Any] = Field(
        default_factory=dict, description="Options of the verifier, e.g. {require_evaluated: true}."
    )
    split: str | None = Field(None, description="The split it came from (train, test, ...), when known.")
    metadata: dict[str, Any] = Field(default_factory=dict)  # level, subject, options, kind, ...


class BenchmarkSpec(BaseModel):
    """Where a benchmark's problems come from (a generator, a local file or a hub dataset) and which
    fields mean what."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    local_files: tuple[str, ...] = Field((), description="File names tried in --data-dir, first found wins.")
    hub_id: str | None = None
    hub_revision: str | None = Field(None, description="Pinned commit of the hub dataset.")
    hub_split: str = "test"
    question_field: str | None = Field("problem", description="None: the first of question, problem, prompt.")
    answer_field: str = "answer"
    id_field: str | None = None
    metadata_fields: tuple[str, ...] = ()
    verifier: str = "math"
    verifier_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Options of the verifier for this benchmark (arith: {require_evaluated: true}, so "
        "restating `2 - 8` does not answer -6).",
    )
    kind: Kind = "math"
    path: str | None = Field(None, description="A local data file (custom benchmarks); beats hub_id.")
    generator: str | None = Field(
        None, description="A built-in generator (see `rlvr.benchmarks.generators`) that makes the problems."
    )
    generator_options: dict[str, Any] = Field(
        default_factory=dict, description="Options for the generator, e.g. {level: 2}."
    )
    prompt: str | None = Field(
        None, description="A template such as '{question}\\nAnswer in \\boxed{{}}.' over the row's fields."
    )

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        renames = {
            "question_col": "question_field",
            "answer_col": "answer_field",
            "id_col": "id_field",
            "metadata_cols": "metadata_fields",
        }
        return rename_deprecated(data, renames, "benchmark spec")
