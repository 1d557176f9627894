"""Loss variants do what their config says: GSPO's defaults and its warning, gradient accumulation
that equals the full batch, μ > 1 clipping on the trainer's own log-probs, and LoRA syncs that
never touch the base weights."""

from __future__ import annotations

import logging

import pytest
from test_grpo_tiny import CountLetter, prompts_file_at, tiny_config

torch = pytest.importorskip("torch")


def test_gspo_brings_the_papers_defaults_unless_set():
    from rlvr.trainer import GRPOConfig

    gspo = GRPOConfig(model="m", ratio_level="sequence")
    assert (gspo.epsilon_low, gspo.epsilon_high, gspo.loss_aggregation) == (3e-4, 4e-4, "grpo")
    chosen = GRPOConfig(model="m", ratio_level="sequence", epsilon_low=1e-3, loss_aggregation="dapo")
    assert (chosen.epsilon_low, chosen.epsilon_high, chosen.loss_aggregation) == (1e-3, 4e-4, "dapo")
    token = GRPOConfig(model="m")
    assert (token.epsilon_low, token.epsilon_high, token.loss_aggregation) == (0.2, 0.28, "dapo")


def test_gspo_with_token_level_clip_ranges_warns_once_naming_the_fields(caplog):
    from rlvr.trainer import GRPOConfig
    from rlvr.trainer import config as config_module

    config_module._warned.discard("gspo-clip")
    logging.getLogger("rlvr").propagate = True
    with caplog.at_level(logging.WARNING, logger="rlvr"):
        GRPOConfig(model="m", ratio_level="sequence", epsilon_high=0.28)
        GRPOConfig(model="m", ratio_level="sequence", epsilon_high=0.28)
        GRPOConfig(model="m", ratio_level="sequence")  # the paper's: no warning
    # one record per emission (a handler left on the root by an earlier test can deliver a record twice)
    unique = {id(r): r for r in caplog.records}.values()
    warnings = [r.getMessage() for r in unique if "GSPO" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "epsilon_high: 0.28" in warnings[0] and "epsilon_low" not in warnings[0].split("with")[1][:30]


def trainer_for(tiny_model, tmp_path, **overrides):
    from rlvr.trainer import GRPOTrainer

    config = tiny_config(tiny_model, prompts_file_at(tmp_path), tmp_path, **overrides)
    return GRPOTrainer(config, reward=CountLetter())


def gradients(trainer, batch, advantages, old=None, ref=None) -> list[torch.Tensor]:
    trainer.model.zero_grad(set_to_none=True)
    trainer.accumulate_gradients(batch, advantages, old, ref)
    return [p.grad.clone() for p in trainer.model.parameters() if p.requires_grad]


@pytest.mark.parametrize("share_prompt", [False, True])
def test_gradient_accumulation_equals_the_full_batch(tiny_model, tmp_path, share_prompt):
    trainer = trainer_for(tiny_model, tmp_path, share_prompt=share_prompt, beta=0.1)
    try:
        batch, advantages = trainer.build_batch(trainer.collect(2, seed=4))
        assert len(batch) == 16 and advantages.abs().sum() > 0
        ref = trainer.reference_log_probs(batch)
        for aggregation in ("grpo", "dr_grpo", "dapo"):
            trainer.config.loss_aggregation = aggregation
            trainer.config.micro_batch_size = 16
            whole = gradients(trainer, batch, advantages, ref=ref)
            trainer.config.micro_batch_size = 1  # shared prompts round up to one group (8 rows)
            parts = gradients(trainer, batch, advantages, ref=ref)
            assert len(list(trainer.micro_batches(16))) == (2 if share_prompt else 16)
            assert any(float(g.abs().max()) > 0 for g in whole)
            for a, b in zip(whole, parts):
                assert torch.allclose(a, b, atol=1e-6, rtol=1e-4), (aggregation, float((a - b).abs().max()))
    finally:
        trainer.close()


@pytest.mark.parametrize("share_prompt", [False, True])
def test_groups_without_signal_are_skipped_and_the_gradient_is_unchanged(tiny_model, tmp_path, share_prompt):
    """A group whose advantages are all zero adds nothing to the loss's gradient (no KL): leaving it
    out of the backward pass must give the gradient of the whole batch, and a batch where every
    group is flat still gives Adam its (zero-gradient) step."""
    trainer = trainer_for(tiny_model, tmp_path, share_prompt=share_prompt, micro_batch_size=8)
    try:
        batch, advantages = trainer.build_batch(trainer.collect(2, seed=4))
        assert advantages[:8].abs().sum() > 0
        advantages = advantages.clone()
        advantages[8:] = 0  # the second group has no signal
        for aggregation in ("grpo", "dapo"):
            trainer.config.loss_aggregation = aggregation
            trainer.model.zero_grad(set_to_none=True)
            skipped = trainer.accumulate_gradients(batch, advantages, None, None)
            with_skip = [p.grad.clone() for p in trainer.model.parameters() if p.requires_grad]
            # the same batch where the flat group's advantages are a tiny non-zero value: not skipped,
            # so its rows run through the backward pass; their contribution is ~1e-30 of the rest
            advantages_kept = advantages.clone()
            advantages_kept[8:] = 1e-30
            full = gradients(trainer, batch, advantages_kept)
            assert skipped["skipped_groups"] == 1
            assert any(float(g.abs().max()) > 0 for g in with_skip)
            for a, b in zip(with_skip, full):
                assert torch.allclose(a, b, atol=1e-7, rtol=1e-5), (aggregation, float((a - b).abs().max()))
        flat = torch.zeros_like(advantages)
        trainer.model.zero_grad(set_to_none=True)
        stats = trainer.accumulate_gradients(batch, flat, None, None)
        assert stats["skipped_groups"] == 2
        grads = [p.grad for p in trainer.model.parameters() if p.requires_grad]
        assert all(g is not None and float(g.abs().max()) == 0 for g in grads)
        trainer.config.skip_flat_groups = False  # every group runs through the backward pass
        assert trainer.accumulate_gradients(batch, flat, None, None)["skipped_groups"] == 0
    finally:
        trainer.close()


def test_a_second_pass_clips_what_the_log_probs_say(tiny_model, tmp_path):
    """μ = 2: after the first pass's step the ratios move; the clip fractions of the second pass
    are those computed by hand from π_old and the updated policy's log-probs."""
    trainer = trainer_for(tiny_model, tmp_path, num_iterations=2, learning_rate=0.05, share_prompt=False)
    try:
        batch, advantages = trainer.build_batch(trainer.collect(2, seed=4))
        old = trainer.log_probs_without_grad(trainer.model, batch)
        first = trainer.optimize(batch, advantages, old, None)
        assert first["clip_low"] == 0 and first["clip_high"] == 0  # ratio 1 on the first pass
        new = trainer.log_probs_without_grad(trainer.model, batch)
        second = trainer.optimize(batch, advantages, old, None)
    finally:
        trainer.close()
    ratio = torch.exp(new - old)
    mask = batch.completion_mask.bool()
    a = advantages.unsqueeze(1).expand_as(ratio)
    low = ((ratio < 0.8) & (a < 0) & mask).sum() / mask.sum()
    high = ((ratio > 1.28) & (a > 0) & mask).sum() / mask.sum()
    assert float(low) + float(high) > 0  # the step was big enough to clip something
    assert second["clip_low"] == pytest.approx(float(low), abs=1e-6)
    assert second["clip_high"] == pytest.approx(float(high), abs=1e-6)
    clipped = torch.clamp(ratio, 0.8, 1.28)
    expected = (-torch.minimum(ratio * a, clipped * a) * mask).sum() / mask.sum()  # dapo
    assert second["loss"] == pytest.approx(float(expected), rel=1e-4)


def test_two_hundred_lora_syncs_leave_the_base_weights_bitwise_unchanged(tiny_model):
    pytest.importorskip("peft")
    from rlvr.trainer.policy import load_policy
    from rlvr.trainer.rollout import trainable_state

    model, _ = load_policy(tiny_model, "bfloat16", False, lora_r=4, lora_alpha=8)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)  # a trained adapter: B is no longer zero
    base = {k: v.clone() for k, v in model.get_base_model().state_dict().items() if "lora_" not in k}
    first = trainable_state(model)
    for _ in range(199):
        trainable_state(model)
    for key, value in model.get_base_model().state_dict().items():
        if "lora_" not in key:
            assert torch.equal(value, base[key]), key
    layer = model.get_base_model().model.layers[0].self_attn.q_proj
    w, a, b = (
        layer.base_layer.weight.float(),
        layer.lora_A["default"].weight.float(),
        layer.lora_B["default"].weight.float(),
    )
    expected = (w + layer.scaling["default"] * b @ a).to(torch.bfloat16)
    merged = first["model.layers.0.self_attn.q_proj.weight"]
    assert torch.equal(merged, expected) and not torch.equal(merged, layer.base_layer.weight)
    assert first.keys() == {k.replace(".base_layer", "") for k in base}
