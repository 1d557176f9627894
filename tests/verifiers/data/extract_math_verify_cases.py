"""Regenerate `math_verify_cases.jsonl`: the test cases of math-verify as data.

math-verify (huggingface/Math-Verify on GitHub, MIT licence) keeps its
regression cases as `pytest.mark.parametrize` tables of (gold, pred, expected)
and a few direct `compare_strings(...) == expected` asserts.  This script reads
those test files from a git checkout *without importing or running them*
(Python's `ast`), evaluates only the case literals, and writes one JSON line per
case.  No test code is copied: only the triples, the options each test passes
that a test sets explicitly (precision, strict, allow_set_relation_comp,
match_types; `match_types: null` means math-verify's own `parse` defaults) and
where each case came from.

Disputed cases (math-verify's expectation is mathematically wrong) are listed
in `math_verify_disputes.json` (source id -> reason) and marked here.

    python tests/verifiers/data/extract_math_verify_cases.py /path/to/Math-Verify/.git [COMMIT]
"""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
FILES = [
    "tests/test_all.py",
    "tests/test_boxed.py",
    "tests/test_numina_cases.py",
    "tests/test_open_thoughts.py",
    "tests/test_strict.py",
    "tests/test_yujianll.py",
]
OPTION_NAMES = ("precision", "strict", "allow_set_relation_comp", "match_types")


def _value(node: ast.expr) -> object:
    """A case literal; f-strings such as f"{math.sqrt(17):.15f}" need `math` and nothing else."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        return eval(compile(ast.Expression(node), "<case>", "eval"), {"__builtins__": {}, "math": math})


def _call_options(func: ast.FunctionDef) -> dict:
    """Keyword options the test body passes to compare_strings (literals only)."""
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "compare_strings":
            return {
                kw.arg: ast.literal_eval(kw.value)
                for kw in node.keywords
                if kw.arg in OPTION_NAMES and isinstance(kw.value, ast.Constant | ast.List)
            }
    return {"match_types": None}  # verify(parse(gold), parse(pred)): math-verify's own defaults


def _parametrized(func: ast.FunctionDef, path: str) -> list[dict]:
    cases = []
    for deco in func.decorator_list:
        if not (isinstance(deco, ast.Call) and getattr(deco.func, "attr", None) == "parametrize"):
            continue
        names = [n.strip() for n in ast.literal_eval(deco.args[0]).split(",")]
        base = _call_options(func)
        for index, row in enumerate(deco.args[1].elts):
            values = dict(zip(names, (_value(e) for e in row.elts)))
            expected = values.pop("expected", values.pop("result", None))
            options = {**base, **{k: v for k, v in values.items() if k in OPTION_NAMES}}
            cases.append(
                _case(values["gold"], values["pred"], expected, f"{path}::{func.name}[{index}]", options)
            )
    return cases


def _direct(func: ast.FunctionDef, path: str) -> list[dict]:
    """`assert compare_strings(gold, pred, ...) == expected` outside a parametrize table."""
    cases = []
    for node in ast.walk(func):
        if not (isinstance(node, ast.Compare) and isinstance(node.left, ast.Call)):
            continue
        call = node.left
        if getattr(call.func, "id", None) != "compare_strings" or not all(
            isinstance(a, ast.Constant) for a in call.args[:2]
        ):
            continue
        options = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
        expected = ast.literal_eval(node.comparators[0])
        source = f"{path}::{func.name}[direct{len(cases)}]"
        cases.append(_case(call.args[0].value, call.args[1].value, expected, source, options))
    return cases


def _case(gold: str, pred: str, expected: object, source: str, options: dict) -> dict:
    return {"gold": gold, "pred": pred, "expected": int(bool(expected)), "source": source, "options": options}


def main(git_dir: str, commit: str = "HEAD") -> None:
    sha = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", commit], text=True).strip()
    disputes = json.loads((HERE / "math_verify_disputes.json").read_text())
    cases: list[dict] = []
    for path in FILES:
        text = subprocess.check_output(["git", "--git-dir", git_dir, "show", f"{sha}:{path}"], text=True)
        for func in ast.parse(text).body:
            if isinstance(func, ast.FunctionDef) and func.name.startswith("test_"):
                cases += _parametrized(func, path) + _direct(func, path)
    with (HERE / "math_verify_cases.jsonl").open("w") as out:
        for case in cases:
            reason = disputes.get(case["source"])
            case["disputed"] = reason is not None
            if reason:
                case["dispute_reason"] = reason
            case["origin"] = f"github.com/huggingface/Math-Verify@{sha[:12]} (MIT)"
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases from {len(FILES)} files at {sha[:12]}")


if __name__ == "__main__":
    main(*sys.argv[1:])
