"""vLLM in its own `vllm serve` process (started by the rollout itself): the trainer's weights are
pushed over the server's API after a step, and the server then scores a fixed completion with the
trainer's log-probs; the GRPO loop runs against the same server."""

from __future__ import annotations

import json

import pytest
from engine_helpers import require
from test_vllm_rollout import check_sync_after_an_update, max_gap

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(sampling_model):
    require("vllm")
    from rlvr.trainer.vllm_server import VLLMServerRollout

    rollout = VLLMServerRollout(sampling_model, "float32", seed=0, max_model_len=256)
    yield rollout
    rollout.close()
    assert rollout.process is None


def test_the_server_samples_softmax_over_temperature_despite_the_generation_config(server, sampling_model):
    from test_sampling import check_first_tokens

    check_first_tokens(server, sampling_model)


def test_the_server_ends_at_every_end_id(server, sampling_model):
    from test_sampling import check_end_ids

    check_end_ids(server, sampling_model)


def test_weights_pushed_over_http_give_the_trainers_log_probs(server, sampling_model):
    check_sync_after_an_update(server, sampling_model)


def test_groups_come_back_as_sampled_tokens_cut_at_stop_strings(server, tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    prompts = [tokenizer("ab").input_ids, tokenizer("hello world").input_ids]
    groups = server.generate(prompts, group_size=3, max_new_tokens=12, temperature=1.0, top_p=1.0, seed=0)
    assert [len(g) for g in groups] == [3, 3]
    for sample in (s for g in groups for s in g):
        assert 0 < len(sample.completion_ids) <= 12
        assert tokenizer.decode(sample.completion_ids, skip_special_tokens=True) == sample.text
        assert sample.truncated == (
            len(sample.completion_ids) == 12 and tokenizer.eos_token_id not in sample.completion_ids
        )
    letter = next(ch for s in groups[0] for ch in s.text if ch.isalpha())
    stopped = server.generate(prompts[:1], 4, 12, 1.0, 1.0, 0, stop=[letter])[0]
    assert all(s.text.count(letter) <= 1 and (s.text.endswith(letter) or s.truncated) for s in stopped)


def test_a_fetch_of_weights_not_on_offer_fails_clearly_and_the_server_lives_on(server, tiny_model):
    from rlvr.trainer.policy import load_policy
    from rlvr.trainer.vllm_server import ServerError

    model, tokenizer = load_policy(tiny_model, "float32", gradient_checkpointing=False)
    server.sync(model)  # the publisher is up; its offer ended with the push
    stale = f"{server.publisher.base}/weights/not-the-token"
    with pytest.raises(ServerError, match="could not load the pushed weights.*404"):
        server._load_weights_from(stale)
    assert max_gap(server, model, tokenizer) < 1e-4  # still serving, with the last good weights


def test_a_server_that_cannot_start_raises_with_its_log(tmp_path):
    require("vllm")
    from rlvr.trainer.vllm_server import ServerError, VLLMServerRollout

    with pytest.raises(ServerError, match="did not start"):
        VLLMServerRollout(
            str(tmp_path / "no-such-model"), "float32", seed=0, max_model_len=64, startup_timeout=120
        )


def test_grpo_with_a_running_server_trains_and_leaves_it_synced(server, tiny_model, tmp_path):
    from test_grpo_tiny import CountLetter

    from rlvr.trainer import GRPOConfig, GRPOTrainer

    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"say {w}", "answer": "x"}) + "\n" for w in "abcd"))
    config = GRPOConfig(
        model=tiny_model,
        data=str(data),
        template="plain",
        num_prompts=4,
        prompts_per_step=2,
        samples_per_prompt=4,
        max_new_tokens=8,
        learning_rate=3e-3,
        steps=2,
        rollout="vllm_server",
        vllm_server_url=server.url,
        gradient_checkpointing=False,
        output_dir=str(tmp_path / "run"),
    )
    trainer = GRPOTrainer(config, reward=CountLetter())
    try:
        history = trainer.train()
        assert [h["step"] for h in history] == [1, 2]
        assert all(h["completion_length"] > 0 for h in history)
        assert max_gap(server, trainer.model, trainer.tokenizer) < 1e-4  # pushed after the last step
    finally:
        trainer.close()
    assert server.http is not None  # a server the trainer did not start stays up
