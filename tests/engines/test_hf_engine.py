"""The HF engine on a real (tiny, random) Llama, and the prompt rendering all engines share."""

import pytest

from rlvr.engines import SamplingConfig, get_engine, prompt_text, prompt_token_ids
from rlvr.errors import ConfigError, UnknownNameError


@pytest.fixture(scope="module")
def engine(tiny_model):
    with get_engine("hf", tiny_model, batch_size=3, dtype="float32") as e:
        yield e


def test_n_completions_per_request_in_request_order(engine):
    requests = ["abc", "a much longer prompt than the others", [{"role": "user", "content": "hi"}], "x", "yz"]
    out = engine.generate(requests, SamplingConfig(samples_per_prompt=3, max_new_tokens=7, temperature=1.0))
    assert len(out) == len(requests) and all(len(c) == 3 for c in out)
    for completions in out:
        for c in completions:
            assert 1 <= c.tokens <= 7 and len(c.token_ids) == c.tokens
            assert c.finish_reason == (
                "length" if c.tokens == 7 and engine.tokenizer.eos_token_id not in c.token_ids else "stop"
            )


def test_stream_yields_every_request_exactly_once(engine):
    seen = [
        i for i, _ in engine.stream(["a", "b", "c", "d", "e", "f", "g"], SamplingConfig(max_new_tokens=3))
    ]
    assert sorted(seen) == list(range(7))


def test_greedy_is_deterministic_and_seeds_matter_when_sampling(engine):
    greedy = SamplingConfig(temperature=0, max_new_tokens=10)
    assert engine.generate(["hello"], greedy) == engine.generate(["hello"], greedy)
    hot = SamplingConfig(temperature=1.0, top_p=1.0, max_new_tokens=10)
    a = engine.generate(["hello"], hot, seeds=[1])[0][0].text
    assert engine.generate(["hello"], hot, seeds=[1])[0][0].text == a
    assert any(engine.generate(["hello"], hot, seeds=[s])[0][0].text != a for s in (2, 3, 4))


def test_stop_strings_end_and_trim_the_sample(engine):
    out = engine.generate(["q"], SamplingConfig(temperature=0, max_new_tokens=30))[0][0].text
    if len(out) < 4:
        pytest.skip("the random model stopped too early to pick a stop string")
    stop = out[2:4]
    cut = engine.generate(["q"], SamplingConfig(temperature=0, max_new_tokens=30, stop=(stop,)))[0][0]
    assert stop not in cut.text and out.startswith(cut.text) and len(cut.text) < len(out)
    assert cut.finish_reason == "stop"


def test_chat_rendering_and_assistant_continuation(engine):
    tok = engine.tokenizer
    chat = [{"role": "user", "content": "2+2?"}]
    assert prompt_text(tok, chat) == "user: 2+2?\nassistant: "
    assert (
        prompt_text(tok, chat + [{"role": "assistant", "content": "<think>\n"}])
        == "user: 2+2?\nassistant: <think>\n"
    )
    assert prompt_text(tok, "plain text") == "plain text"
    assert tok.decode(prompt_token_ids(tok, chat)) == "user: 2+2?\nassistant: "


def test_bad_requests_and_names_give_clear_errors(engine, tiny_model):
    with pytest.raises(ConfigError, match=r"requests\[1\]"):
        engine.generate(["ok", []], SamplingConfig())
    with pytest.raises(ConfigError, match=r"requests\[0\]\[0\]"):
        engine.generate([[{"content": "no role"}]], SamplingConfig())
    with pytest.raises(UnknownNameError, match="unknown name 'nope'"):
        get_engine("nope", tiny_model)
    with pytest.raises(ValueError, match="n"):
        SamplingConfig(samples_per_prompt=0)
