"""Loading SWE-bench records and predictions as they ship (JSON-encoded test lists included)."""

import json

import pytest

from rlvr.benchmarks.swe.records import SWEInstance, load_instances, load_predictions
from rlvr.errors import ConfigError, InputFileError


def test_lite_records_load_with_json_encoded_test_lists(shared_data):
    path = shared_data / "swe" / "lite_records.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    instances = load_instances(path)
    assert len(instances) == len(raw) == 297
    assert isinstance(raw[0]["FAIL_TO_PASS"], str)  # as in Lite
    for record, inst in zip(raw, instances):
        assert inst.FAIL_TO_PASS == json.loads(record["FAIL_TO_PASS"])
        assert inst.PASS_TO_PASS == json.loads(record["PASS_TO_PASS"])
        assert inst.patch == record["patch"] and inst.base_commit == record["base_commit"]
    assert all(inst.FAIL_TO_PASS for inst in instances)


def test_json_list_file_and_ids(tmp_path, shared_data):
    records = [
        json.loads(line) for line in (shared_data / "swe" / "instances.jsonl").read_text().splitlines()
    ]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    chosen = load_instances(path, ids=["pytest-dev__pytest-5227"])
    assert [i.instance_id for i in chosen] == ["pytest-dev__pytest-5227"]
    assert chosen[0].repo_dirname == "pytest-dev__pytest"
    with pytest.raises(ConfigError, match="ids: not in .*nope"):
        load_instances(path, ids=["nope"])


def test_bad_record_names_instance_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(
            {
                "instance_id": "x__y-1",
                "repo": "x/y",
                "base_commit": "abc",
                "test_patch": "",
                "FAIL_TO_PASS": "[not json",
            }
        )
        + "\n"
    )
    with pytest.raises(ConfigError, match=r"\(x__y-1\)\.FAIL_TO_PASS"):
        load_instances(path)
    path.write_text("{broken\n")
    with pytest.raises(InputFileError, match="bad.jsonl:1"):
        load_instances(path)


def test_lists_are_accepted_as_lists():
    inst = SWEInstance(
        instance_id="a__b-1",
        repo="a/b",
        base_commit="c",
        test_patch="",
        FAIL_TO_PASS=["t::x"],
        PASS_TO_PASS=[],
        version=3.1,
    )
    assert inst.FAIL_TO_PASS == ["t::x"] and inst.version == "3.1"


def test_predictions_jsonl_and_json(tmp_path):
    rows = [
        {"instance_id": "a", "model_name_or_path": "m", "model_patch": "diff"},
        {"instance_id": "b", "model_name_or_path": "m", "model_patch": None},
    ]
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    preds = load_predictions(jsonl)
    assert preds["a"].model_patch == "diff" and preds["b"].model_patch is None
    as_dict = tmp_path / "p.json"
    as_dict.write_text(json.dumps({r["instance_id"]: r for r in rows}))
    assert set(load_predictions(as_dict)) == {"a", "b"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"model_patch": "x"}))
    with pytest.raises(InputFileError, match="instance_id"):
        load_predictions(bad)


def test_hub_id_needs_owner_and_name(tmp_path):
    with pytest.raises(InputFileError, match="not a hub id"):
        load_instances("no-such-file.jsonl")
