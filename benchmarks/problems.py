"""Benchmark problems: a registry of specs and the loaders that turn their data into `Problem`s.

Each benchmark loads from a local JSONL/Parquet/CSV file (`--data-dir`, as CI does with
shared/data/benchmarks) or from the HF hub by dataset id and pinned revision.  A
content hash of the loaded problems goes into every run's config, so two runs on
"the same" benchmark can be told apart when the data changed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from rlvr.errors import ConfigError, InputFileError
from rlvr.io import read_table
from rlvr.registry import Registry

from . import generators
from .schema import BenchmarkSpec, Problem

BENCHMARKS: Registry[BenchmarkSpec] = Registry("benchmark", entry_point_group="rlvr.benchmarks")


def _spec(**fields: Any) -> BenchmarkSpec:
    spec = BenchmarkSpec(**fields)
    BENCHMARKS.register(spec.name, lambda spec=spec: spec)
    return spec


# The question is an expression: restating it (`2 - 8`) must not count as the answer -6.
_ARITH_VERIFIER = {"require_evaluated": True}
_spec(
    name="arith", generator="arith", kind="math", question_field="question", verifier_options=_ARITH_VERIFIER
)
_spec(
    name="arith_easy",
    generator="arith",
    generator_options={"difficulty": "easy"},
    kind="math",
    question_field="question",
    verifier_options=_ARITH_VERIFIER,
)

_spec(
    name="math500",
    local_files=("math_500.jsonl", "math500.jsonl"),
    hub_id="HuggingFaceH4/MATH-500",
    id_field="unique_id",
    metadata_fields=("level", "subject"),
)
_spec(
    name="aime24",
    local_files=("aime24.jsonl", "aime_2024.jsonl"),
    hub_id="HuggingFaceH4/aime_2024",
    hub_split="train",
    id_field="id",
)
_spec(name="aime25", local_files=("aime25.jsonl",), hub_id="math-ai/aime25", id_field="id")
_spec(name="amc23", local_files=("amc23.jsonl",), hub_id="math-ai/amc23", id_field="id")
_spec(
    name="humaneval",
    local_files=("humaneval.jsonl", "HumanEval.jsonl"),
    hub_id="openai/openai_humaneval",
    question_field="prompt",
    answer_field="test",
    id_field="task_id",
    verifier="code",
    kind="code_humaneval",
)
_spec(
    name="livecodebench",
    local_files=("livecodebench.jsonl", "lcb.jsonl"),
    hub_id="livecodebench/code_generation_lite",
    question_field="question_content",
    answer_field="public_test_cases",
    id_field="question_id",
    metadata_fields=("difficulty", "platform"),
    verifier="code",
    kind="code_stdin",
)
_spec(
    name="gpqa_diamond",
    local_files=("gpqa_diamond.jsonl",),
    hub_id="Idavidrein/gpqa",
    hub_split="train",
    question_field="question",
    answer_field="answer",
    id_field="id",
    verifier="math",
    kind="multiple_choice",
)
_spec(
    name="swe-lite",
    local_files=("swe_lite.jsonl", "SWE-bench_Lite.jsonl"),
    hub_id="princeton-nlp/SWE-bench_Lite",
    question_field="problem_statement",
    answer_field="patch",
    id_field="instance_id",
    verifier="swe",
    kind="swe",
)
_spec(
    name="swe-verified",
    local_files=("swe_verified.jsonl", "SWE-bench_Verified.jsonl"),
    hub_id="SWE-bench/SWE-bench_Verified",
    question_field="problem_statement",
    answer_field="patch",
    id_field="instance_id",
    verifier="swe",
    kind="swe",
)


def load_problems(
    source: str,
    data_dir: str | Path | None = None,
    limit: int | None = None,
    seed: int = 0,
    split: str | None = None,
    *,
    question_field: str | None = None,
    answer_field: str | None = None,
    id_field: str | None = None,
    swe_repos: str | Path | None = None,
) -> list[Problem]:
    """The problems of `source`: a registered benchmark (`math500`, `arith`; `NAME:N` takes the first
    N), a YAML/JSON benchmark spec file, a JSONL/Parquet/CSV data file, or a hub dataset id.

    `split` picks a generator's split (train and test never overlap) or a hub dataset's split;
    the field names override the spec's for data files and hub datasets; `swe_repos` is where SWE
    benchmarks read the source trees for their prompts (`rlvr swe eval --repos`)."""
    if limit is not None and limit < 1:
        raise ConfigError("limit", f"must be at least 1, got {limit}")
    name, limit = split_limit(source, limit)
    spec = resolve_spec(name)
    overrides = {"question_field": question_field, "answer_field": answer_field, "id_field": id_field}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if split is not None and spec.generator is None:
        overrides["hub_split"] = split
    if overrides:
        spec = spec.model_copy(update=overrides)
    if spec.generator is not None:
        problems = generators.generate(spec.generator, limit or 100, seed, split, **spec.generator_options)
    elif spec.kind == "swe":
        from .swe.bench import swe_problems

        problems = swe_problems(spec, data_dir, limit, swe_repos)
    else:
        rows = _read_rows(spec, data_dir)
        if spec.question_field is None:
            spec = spec.model_copy(update={"question_field": _guess_question_field(spec, rows)})
        problems = [_to_problem(spec, row, i, seed) for i, row in enumerate(rows)]
        if split is not None:
            problems = [p.model_copy(update={"split": split}) for p in problems]
        problems = problems[:limit] if limit is not None else problems
    if spec.verifier_options:
        problems = [p.model_copy(update={"verifier_options": dict(spec.verifier_options)}) for p in problems]
    return problems


def resolve_spec(name: str) -> BenchmarkSpec:
    """The spec behind a benchmark reference: registered name, spec file, data file or hub id."""
    if name.startswith("builtin:"):  # the trainer's old spelling
        from rlvr.types import warn_renamed

        warn_renamed("data", name, name.removeprefix("builtin:"))
        name = name.removeprefix("builtin:")
    if _is_spec_file(name):
        return load_spec_file(name)
    if name in BENCHMARKS.names():
        return BENCHMARKS.get(name)
    path = Path(name)
    if path.suffix.lower() in (".jsonl", ".json", ".parquet", ".csv"):
        if not path.exists():
            raise InputFileError(f"{path}: no such data file")
        if _holds_swe_records(path):
            return BENCHMARKS.get("swe-lite").model_copy(
                update={"name": path.stem, "path": str(path), "hub_id": None, "local_files": ()}
            )
        return BenchmarkSpec(name=path.stem, path=str(path), question_field=None)
    if _looks_like_hub_id(name):
        return BenchmarkSpec(
            name=name.replace("/", "__"), hub_id=name, hub_split="train", question_field=None
        )
    return BENCHMARKS.get(name)  # raises the error that lists the known names


def _holds_swe_records(path: Path) -> bool:
    """A JSON/JSONL file whose first record has SWE-bench's fields (instance_id, base_commit, ...)."""
    if path.suffix.lower() not in (".jsonl", ".json"):
        return False
    from .swe.bench import SWE_FIELDS

    with path.open(encoding="utf-8") as handle:
        head = handle.read(1 << 20).lstrip()
    first = head.lstrip("[").lstrip()
    try:
        record, _ = json.JSONDecoder().raw_decode(first)
    except json.JSONDecodeError:
        return False
    return isinstance(record, dict) and SWE_FIELDS <= set(record)


def split_limit(source: str, limit: int | None) -> tuple[str, int | None]:
    """`math500:100` -> ("math500", 100); an explicit `limit` wins."""
    name, sep, count = source.rpartition(":")
    if sep and count.isdigit() and name and not name.startswith("builtin"):
        return name, limit if limit is not None else int(count)
    return source, limit


def content_hash(problems: list[Problem]) -> str:
    data = json.dumps([p.model_dump(mode="json") for p in problems], sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def _read_rows(spec: BenchmarkSpec, data_dir: str | Path | None) -> list[dict]:
    if spec.path is not None and not _looks_like_hub_id(spec.path):
        path = Path(spec.path)
        if not path.exists():
            raise InputFileError(f"{path}: benchmark {spec.name!r} data file does not exist")
        df = read_table(path)
        _require(spec, list(df.columns), str(path))
        return df.to_dict(orient="records")
    if data_dir is not None:
        directory = Path(data_dir)
        if not directory.is_dir():
            raise InputFileError(f"{directory}: --data-dir is not a directory")
        for file_name in spec.local_files:
            path = directory / file_name
            if path.exists():
                df = read_table(path)
                _require(spec, list(df.columns), str(path))
                return df.to_dict(orient="records")
        raise InputFileError(
            f"{directory}: no file for benchmark {spec.name!r} (looked for {', '.join(spec.local_files)})"
        )
    if spec.hub_id is None:
        raise ConfigError("data_dir", f"benchmark {spec.name!r} has no hub dataset: pass a data directory")
    try:
        import datasets
    except ImportError:
        raise ConfigError(
            "data_dir", "loading from the HF hub needs `pip install datasets`; or pass --data-dir"
        ) from None
    try:
        ds = datasets.load_dataset(spec.hub_id, revision=spec.hub_revision, split=spec.hub_split)
    except Exception as exc:
        raise InputFileError(
            f"{spec.hub_id}: cannot load from the hub ({type(exc).__name__}); pass --data-dir"
        ) from None
    _require(spec, list(ds.column_names), spec.hub_id)
    return list(ds)


_MC_LAYOUTS = (
    ("question", "options", "correct_answer"),
    ("Question", "Correct Answer", "Incorrect Answer 1"),
)


QUESTION_FIELDS = ("question", "problem", "prompt")


def _guess_question_field(spec: BenchmarkSpec, rows: list[dict]) -> str:
    """A data file or hub dataset without a declared question field: the first of the usual names."""
    columns = list(rows[0]) if rows else []
    for name in QUESTION_FIELDS:
        if name in columns:
            return name
    raise InputFileError(
        f"{spec.path or spec.hub_id}: no question field (looked for {', '.join(QUESTION_FIELDS)}; "
        f"set question_field); fields: {', '.join(map(str, columns))}"
    )


def _require(spec: BenchmarkSpec, columns: list[str], source: str) -> None:
    """A one-line error naming the first missing column."""
    if spec.kind == "multiple_choice":
        if any(all(c in columns for c in layout) for layout in _MC_LAYOUTS):
            return
        needed: tuple[str, ...] = _MC_LAYOUTS[0]
    else:
        needed = tuple(f for f in (spec.question_field, spec.answer_field) if f is not None)
    for column in needed:
        if column not in columns:
            raise InputFileError(
                f"{source}: no column {column!r} for benchmark {spec.name!r}; columns: {', '.join(columns)}"
            )


def _to_problem(spec: BenchmarkSpec, row: dict, index: int, seed: int) -> Problem:
    pid = str(row.get(spec.id_field, index)) if spec.id_field else str(index)
    metadata = {c: row[c] for c in spec.metadata_fields if c in row}
    if spec.kind == "multiple_choice":
        return _multiple_choice(spec, row, pid, seed)
    if spec.kind == "code_humaneval":
        tests = {"test": str(row[spec.answer_field]), "entry_point": str(row.get("entry_point", ""))}
        return Problem(
            id=pid,
            question=str(row[spec.question_field]),
            answer=tests,
            verifier=spec.verifier,
            metadata={**metadata, "kind": spec.kind},
        )
    if spec.kind == "code_stdin":
        return Problem(
            id=pid,
            question=_question(spec, row),
            answer=_stdin_tests(spec, row, pid),
            verifier=spec.verifier,
            metadata={**metadata, "kind": spec.kind},
        )
    return Problem(
        id=pid,
        question=_question(spec, row),
        answer=str(row[spec.answer_field]),
        verifier=spec.verifier,
        metadata=metadata,
    )


def _question(spec: BenchmarkSpec, row: dict) -> str:
    if spec.prompt is None:
        return str(row[spec.question_field])
    try:
        return spec.prompt.format(question=row[spec.question_field], **row)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{spec.name}.prompt", f"cannot fill the template from the row: {exc}") from None


def _stdin_tests(spec: BenchmarkSpec, row: dict, pid: str) -> dict:
    """LiveCodeBench layout: test cases as JSON lists of {input, output, testtype}; only plain JSON
    is read (the hub's compressed private tests are pickles, which are never loaded)."""
    cases: list = []
    for column in (spec.answer_field, "private_test_cases"):
        raw = row.get(column)
        if raw in (None, ""):
            continue
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            continue  # compressed private tests
        cases.extend(value if isinstance(value, list) else [])
    stdin_cases = [c for c in cases if isinstance(c, dict) and c.get("testtype", "stdin") == "stdin"]
    if not stdin_cases:
        raise InputFileError(f"{spec.name} problem {pid}: no stdin test cases in {spec.answer_field!r}")
    return {"inputs": [c["input"] for c in stdin_cases], "outputs": [c["output"] for c in stdin_cases]}


LETTERS = "ABCDEFGHIJ"


def _multiple_choice(spec: BenchmarkSpec, row: dict, pid: str, seed: int) -> Problem:
    """Options shuffled with a fixed seed per problem; the answer is the letter of the correct one."""
    if "Correct Answer" in row:  # the hub's Idavidrein/gpqa layout
        question = str(row["Question"])
        correct = str(row["Correct Answer"]).strip()
        options = [correct] + [str(row[f"Incorrect Answer {i}"]).strip() for i in (1, 2, 3)]
    else:
        # this layout's `question` already lists the options in their original order
        question = str(row.get("ori_question") or row["question"])
        raw = row["options"]
        options = [str(o).strip() for o in (ast.literal_eval(raw) if isinstance(raw, str) else raw)]
        correct = str(row["correct_answer"]).strip()
    if correct not in options:
        raise InputFileError(f"{spec.name} problem {pid}: the correct answer is not among the options")
    rng = random.Random(f"{seed}:{spec.name}:{pid}")
    rng.shuffle(options)
    letter = LETTERS[options.index(correct)]
    listed = "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))
    return Problem(
        id=pid,
        question=f"{question}\n\n{listed}",
        answer=letter,
        verifier=spec.verifier,
        metadata={"options": options, "correct": correct},
    )


def _looks_like_hub_id(path: str) -> bool:
    return not Path(path).exists() and path.count("/") == 1 and not path.startswith((".", "/"))


def _is_spec_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml", ".json"))


def load_spec_file(path: str | Path) -> BenchmarkSpec:
    """A custom benchmark declared in YAML or JSON: the fields of `BenchmarkSpec`, where `path`
    is a data file (relative to the spec) or a hub dataset id."""
    import yaml
    from pydantic import ValidationError

    spec_path = Path(path)
    if not spec_path.exists():
        raise InputFileError(f"{spec_path}: benchmark spec file does not exist")
    try:
        fields = yaml.safe_load(spec_path.read_text())
    except yaml.YAMLError as exc:
        raise InputFileError(f"{spec_path}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(fields, dict):
        raise InputFileError(f"{spec_path}: must hold a mapping of benchmark fields")
    fields.setdefault("name", spec_path.stem)
    fields.setdefault("local_files", ())
    data = fields.get("path")
    if data and not _looks_like_hub_id(data) and not Path(data).is_absolute():
        fields["path"] = str(spec_path.parent / data)
    if data and _looks_like_hub_id(data):
        fields.setdefault("hub_id", data)
        fields["path"] = None
    try:
        return BenchmarkSpec(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"])) or "spec"
        raise ConfigError(f"{spec_path}: {field}", first["msg"]) from None


def list_benchmarks() -> list[str]:
    return BENCHMARKS.names()
