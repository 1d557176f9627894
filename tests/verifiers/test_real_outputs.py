"""Correctness on 800 real model outputs (not a timing test: perf/verify_math.py times it)."""

import json
from pathlib import Path

from rlvr.verifiers import get_verifier

CORRECTIONS = json.loads((Path(__file__).parents[2] / "perf" / "label_corrections.json").read_text())


def test_agreement_with_audited_reference_labels(shared_data):
    rows = [json.loads(x) for x in (shared_data / "outputs" / "qwen25_math_cot_100x8.jsonl").open()]
    results = get_verifier("math").verify_batch([r["completion"] for r in rows], [r["answer"] for r in rows])
    labels = [CORRECTIONS.get(r["id"], {}).get("label", r["reference_label"]) for r in rows]
    verdicts = [bool(r.correct) for r in results]
    false_positives = [r["id"] for r, v, lab in zip(rows, verdicts, labels) if v and not lab]
    agreement = sum(v == lab for v, lab in zip(verdicts, labels)) / len(rows)
    assert false_positives == []
    assert agreement >= 0.999
    # every correction is a case where the reference grader, not rlvr, is wrong
    for r, v in zip(rows, verdicts):
        if r["id"] in CORRECTIONS:
            assert v == CORRECTIONS[r["id"]]["label"]
