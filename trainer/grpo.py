"""The GRPO loop, top to bottom: rollout → reward → advantage → loss → step → weight sync.

trainer = GRPOTrainer(GRPOConfig(model="...", steps=40))
trainer.train()
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from rlvr.benchmarks import Problem, load_problems, prefills_think, render_prompt
from rlvr.engines import prompt_token_ids

from . import algorithms as alg
from .config import GRPOConfig
from .metrics import MetricsLog
from .policy import (
    Batch,
    completion_log_probs,
    eval_mode,
    grouped_completion_log_probs,
    load_policy,
    make_batch,
)
from .rollout import HFRollout, Rollout, Sample, VLLMRollout


@dataclass
class Rollouts:
    """One step's groups: G samples per problem, their rewards and per-verifier scores."""

    problems: list[Problem]
    prompts: list[list[int]]
    samples: list[list[Sample]]
    rewards: torch.Tensor  # (groups, G)
    components: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> (groups, G)

    def select(self, keep: torch.Tensor) -> Rollouts:
        index = [i for i, k in enumerate(keep.tolist()) if k]
        return Rollouts(
            [self.problems[i] for i in index],
            [self.prompts[i] for i in index],
            [self.samples[i] for i in index],
            self.rewards[index],
            {k: v[index] for k, v in self.components.items()},
        )

    @staticmethod
    def concat(parts: list[Rollouts]) -> Rollouts:
        return Rollouts(
            [p for r in parts for p in r.problems],
            [p for r in parts for p in r.prompts],
            [s for r in parts for s in r.samples],
            torch.cat([r.rewards for r in parts]),
            {k: torch.cat([r.components[k] for r in parts]) for k in parts[0].components},
        )


class GRPOTrainer:
    def __init__(self, config: GRPOConfig, reward: Callable | None = None) -> None:
        from rlvr.verifiers import parse_spec

        self.config = config
        torch.manual_seed(config.seed)
        self.model, self.tokenizer = load_policy(
            config.model,
            config.dtype,
            config.gradient_checkpointing,
            config.lora_r,
            config.lora_alpha,
            config.lora_target_modules,
        )
        self.model.train()
        self.device = next(self.model.parameters()).device
        self.reference = self._reference() if config.beta > 0 else None
        self.optimizer = torch.optim.AdamW(
            [p for p in self.model.parameters() if p.requires_grad],
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
        )
        options = {"prefilled_think": prefills_think(config.template), **config.reward_options}
        self.reward = reward or parse_spec(config.reward, **options)
        self.problems = load_problems(
            config.data,
            limit=config.num_prompts,
            seed=config.seed,
            split=config.split,
            question_field=config.question_field,
            answer_field=config.answer_field,
        )
        self.problems_drawn = 0  # the position in the problem order; checkpointed
        self._epoch_order: tuple[int, list[Problem]] | None = None
        self.evaluator = self._evaluator()  # before the engine starts: overlapping data fails fast
        self.rollout = self._rollout()
        self.step = 0
        self.timing = {"rollout_time_s": 0.0, "reward_time_s": 0.0}  # this step's, added up by collect
        self.log = MetricsLog(config)

    # ------------------------------------------------------------------ setup
    def _reference(self) -> Any:
        if self.config.lora_r > 0:
            return None  # peft: the reference is the base model with adapters disabled
        reference = copy.deepcopy(self.model).eval()
        for p in reference.parameters():
            p.requires_grad_(False)
        return reference

    def _evaluator(self) -> Any:
        if not self.config.eval:
            return None
        from .evaluation import TrainingEvaluator

        return TrainingEvaluator(self)

    def _rollout(self) -> Rollout:
        c = self.config
        if c.rollout == "hf":
            return HFRollout(self.model, self.tokenizer)
        if c.rollout == "vllm_server":
            from .vllm_server import VLLMServerRollout

            rollout: Rollout = VLLMServerRollout(
                c.model, c.dtype, c.seed, self._max_len(), url=c.vllm_server_url, **c.vllm_options
            )
        else:
            rollout = VLLMRollout(c.model, c.dtype, c.seed, self._max_len(), **c.vllm_options)
        rollout.sync(self.model)  # a resumed or LoRA policy differs from the checkpoint on disk
        return rollout

    def _max_len(self) -> int:
        longest = max(len(self._encode(p)) for p in self.problems) + self.config.max_new_tokens
        if self.evaluator is not None:
            longest = max(longest, self.evaluator.longest_request(self.tokenizer))
        return longest + 8

    def problem_at(self, index: int) -> Problem:
        """The index-th problem of the training order: epochs of a fresh shuffle, each fixed by the
        seed and the epoch, so a resumed run continues the order from `problems_drawn` alone."""
        epoch, position = divmod(index, len(self.problems))
        if self._epoch_order is None or self._epoch_order[0] != epoch:
            order = list(self.problems)
            random.Random(self.config.seed * 1_000_003 + epoch).shuffle(order)
            self._epoch_order = (epoch, order)
        return self._epoch_order[1][position]

    def draw_problems(self, count: int) -> list[Problem]:
        """The next `count` problems; every draw (dynamic-sampling refills too) advances the order."""
        drawn = [self.problem_at(self.problems_drawn + i) for i in range(count)]
        self.problems_drawn += count
        return drawn

    def _encode(self, problem: Problem) -> list[int]:
        return prompt_token_ids(self.tokenizer, render_prompt(problem.question, self.config.template))

    # ------------------------------------------------------------------ 1. rollout and 2. reward
    def collect(self, count: int, seed: int) -> Rollouts:
        c = self.config
        problems = self.draw_problems(count)
        prompts = [self._encode(p) for p in problems]
        started = time.perf_counter()
        samples = self.rollout.generate(
            prompts, c.samples_per_prompt, c.max_new_tokens, c.temperature, c.top_p, seed, c.stop
        )
        generated = time.perf_counter()
        texts = [s.text for group in samples for s in group]
        answers = [p.answer for p in problems for _ in range(c.samples_per_prompt)]
        lengths = [len(s.completion_ids) for group in samples for s in group]
        results = self.reward.verify_batch(texts, answers, lengths=lengths)
        self.timing["rollout_time_s"] += generated - started
        self.timing["reward_time_s"] += time.perf_counter() - generated
        shape = (count, c.samples_per_prompt)
        rewards = torch.tensor([r.score for r in results]).view(shape)
        names = results[0].details.get("scores", {}).keys() if results else []
        components = {n: torch.tensor([r.details["scores"][n] for r in results]).view(shape) for n in names}
        return Rollouts(problems, prompts, samples, rewards, components)

    def rollouts_for_step(self) -> tuple[Rollouts, Rollouts]:
        """One batch of groups to train on, and every group sampled for it. With dynamic sampling,
        groups whose rewards are all equal are dropped and more are sampled (at most max_refills
        more rounds); every round draws new problems."""
        c = self.config
        seed = c.seed * 1_000_003 + self.step
        sampled = [self.collect(c.prompts_per_step, seed)]
        if not c.dynamic_sampling:
            return sampled[0], sampled[0]
        kept = [sampled[0].select(alg.informative_groups(sampled[0].rewards))]
        while sum(len(k.problems) for k in kept) < c.prompts_per_step and len(sampled) <= c.max_refills:
            sampled.append(self.collect(c.prompts_per_step, seed + 7919 * len(sampled)))
            kept.append(sampled[-1].select(alg.informative_groups(sampled[-1].rewards)))
        merged, everything = Rollouts.concat(kept), Rollouts.concat(sampled)
        if len(merged.problems) == 0:
            return sampled[0], everything  # nothing informative: train on the batch as TRL would
        return merged.select(torch.arange(len(merged.problems)) < c.prompts_per_step), everything

    # ------------------------------------------------------------------ 3. advantages and 4. loss
    def build_batch(self, rollouts: Rollouts) -> tuple[Batch, torch.Tensor]:
        c = self.config
        advantages = alg.group_advantages(rollouts.rewards, c.advantage_scale).flatten()
        prompts = [p for p in rollouts.prompts for _ in range(c.samples_per_prompt)]
        samples = [s for group in rollouts.samples for s in group]
        batch = make_batch(
            prompts, [s.completion_ids for s in samples], self.tokenizer.pad_token_id, self.device
        )
        if c.mask_truncated:
            truncated = torch.tensor([s.truncated for s in samples], device=self.device)
            batch.completion_mask[truncated] = 0.0
        return batch, advantages.to(self.device)

    def micro_batches(self, size: int) -> Iterator[slice]:
        """Row ranges of at most micro_batch_size rows; whole groups when prompts are shared."""
        c = self.config
        step = c.micro_batch_size
        if self.shares_prompt:
            step = max(1, c.micro_batch_size // c.samples_per_prompt) * c.samples_per_prompt
        for start in range(0, size, step):
            yield slice(start, min(start + step, size))

    @property
    def shares_prompt(self) -> bool:
        return self.config.share_prompt and not self.config.gradient_checkpointing

    def policy_log_probs(self, model: Any, micro: Batch, with_entropy: bool = False):  # type: ignore[no-untyped-def]
        c = self.config
        if self.shares_prompt:
            return grouped_completion_log_probs(
                model, micro, c.samples_per_prompt, c.temperature, with_entropy
            )
        return completion_log_probs(model, micro, c.temperature, with_entropy)

    @torch.no_grad()
    def log_probs_without_grad(self, model: Any, batch: Batch) -> torch.Tensor:
        """π_old or π_ref: dropout off, so two calls on the same batch agree exactly."""
        rows = self.micro_batches(len(batch))
        with eval_mode(model):
            return torch.cat([self.policy_log_probs(model, batch.rows(r.start, r.stop))[0] for r in rows])

    def reference_log_probs(self, batch: Batch) -> torch.Tensor | None:
        if self.config.beta == 0:
            return None
        if self.reference is not None:
            return self.log_probs_without_grad(self.reference, batch)
        with self.model.disable_adapter():
            return self.log_probs_without_grad(self.model, batch)

    def optimize(
        self, batch: Batch, advantages: torch.Tensor, old: torch.Tensor | None, ref: torch.Tensor | None
    ) -> dict[str, float]:
        """One optimizer step over the whole batch in micro-batches."""
        sums = self.accumulate_gradients(batch, advantages, old, ref)
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        sums["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(parameters, self.config.max_grad_norm))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return sums

    def accumulate_gradients(
        self, batch: Batch, advantages: torch.Tensor, old: torch.Tensor | None, ref: torch.Tensor | None
    ) -> dict[str, float]:
        """The batch loss's gradients, accumulated into `.grad` micro-batch by micro-batch: the loss of
        each micro-batch carries the whole batch's normalizers, so the sum is exactly the batch loss.
        Returns the loss and the token shares clipped low / high, KL and entropy."""
        c = self.config
        totals = {
            "num_sequences": len(batch),
            "num_tokens": int(batch.completion_mask.sum()),
            "max_tokens": c.max_new_tokens,
        }
        sums: dict[str, float] = {"loss": 0.0, "clip_low": 0.0, "clip_high": 0.0}
        if ref is not None:
            sums["kl"] = 0.0
        if c.log_entropy:
            sums["entropy"] = 0.0
        tokens = max(totals["num_tokens"], 1)
        batch, advantages, old, ref = self.rows_with_gradient(batch, advantages, old, ref)
        sums["skipped_groups"] = (totals["num_sequences"] - len(batch)) / c.samples_per_prompt
        trained_tokens = max(float(batch.completion_mask.sum()), 1.0)
        for rows in self.micro_batches(len(batch)):
            micro = batch.rows(rows.start, rows.stop)
            log_probs, entropy = self.policy_log_probs(self.model, micro, c.log_entropy)
            old_lp = log_probs.detach() if old is None else old[rows]
            ratio = alg.importance_ratio(log_probs, old_lp, micro.completion_mask, c.ratio_level)
            per_token, low, high = alg.clipped_objective(
                ratio, advantages[rows], c.epsilon_low, c.epsilon_high
            )
            mask = micro.completion_mask
            if ref is not None:
                kl = alg.k3_kl(log_probs, ref[rows])
                per_token = per_token + c.beta * kl
                sums["kl"] += float((kl * mask).sum().detach()) / tokens
            loss = alg.aggregate(per_token, mask, c.loss_aggregation, **totals)
            loss.backward()
            sums["loss"] += float(loss.detach())
            sums["clip_low"] += float((low * mask).sum().detach()) / tokens
            sums["clip_high"] += float((high * mask).sum().detach()) / tokens
            if entropy is not None:
                sums["entropy"] += float((entropy * mask).sum().detach()) / trained_tokens
        if len(batch) == 0:  # no gradient at all: Adam still takes its step (momentum, weight decay)
            for parameter in self.model.parameters():
                if parameter.requires_grad and parameter.grad is None:
                    parameter.grad = torch.zeros_like(parameter)
        return sums

    def rows_with_gradient(
        self, batch: Batch, advantages: torch.Tensor, old: torch.Tensor | None, ref: torch.Tensor | None
    ) -> tuple[Batch, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Only the groups whose loss has a gradient. Without a KL term, a group whose advantages are
        all zero (every sample got the same reward) contributes exactly nothing, because each token's
        objective is A·ratio; its forward and backward passes are skipped. The loss normalizers come
        from the whole batch, so the gradient is unchanged."""
        if ref is not None or not self.config.skip_flat_groups:
            return batch, advantages, old, ref
        groups = advantages.view(-1, self.config.samples_per_prompt)
        keep = (groups != 0).any(dim=1).repeat_interleave(self.config.samples_per_prompt)
        index = keep.nonzero().flatten()
        if len(index) == len(batch):
            return batch, advantages, old, ref
        return batch.select(index), advantages[index], None if old is None else old[index], None

    # ------------------------------------------------------------------ the loop
    def train_step(self) -> dict[str, float]:
        c = self.config
        started = time.perf_counter()
        self.timing = {"rollout_time_s": 0.0, "reward_time_s": 0.0}
        rollouts, sampled = self.rollouts_for_step()
        trained_from = time.perf_counter()
        batch, advantages = self.build_batch(rollouts)
        old = self.log_probs_without_grad(self.model, batch) if c.num_iterations > 1 else None
        ref = self.reference_log_probs(batch)
        for _ in range(c.num_iterations):
            losses = self.optimize(batch, advantages, old, ref)
        optimized = time.perf_counter()
        self.rollout.sync(self.model)
        self.step += 1
        elapsed = time.perf_counter() - started
        samples = [s for g in sampled.samples for s in g]
        lengths = [len(s.completion_ids) for s in samples]
        metrics: dict[str, float] = {
            "step": self.step,
            **step_reward_stats(sampled, rollouts, c),
            **losses,
            "completion_length": sum(lengths) / len(lengths),
            "completion_length_max": max(lengths),
            "truncated_fraction": sum(s.truncated for s in samples) / len(samples),
            "step_time_s": elapsed,
            **self.timing,
            "train_time_s": optimized - trained_from,
            "sync_time_s": started + elapsed - optimized,
            "tokens_per_s": sum(lengths) / max(elapsed, 1e-9),
            "generation_tokens_per_s": sum(lengths) / max(self.timing["rollout_time_s"], 1e-9),
        }
        self.log.write(metrics, example=samples[0].text)
        return metrics

    def train(self) -> list[dict[str, float]]:
        from .checkpoint import load_latest, save, save_final, start_fresh

        c = self.config
        if c.resume:
            load_latest(self)
        else:
            start_fresh(self)
        evaluated = {r["step"] for r in self.log.records() if r.get("kind") == "eval"}

        def evaluate() -> None:
            if self.evaluator is not None and self.step not in evaluated:
                self.evaluator.run(self.step)
                evaluated.add(self.step)

        history = []
        if self.step == 0:
            evaluate()
        with self.log.progress(c.steps, start=self.step) as advance:
            while self.step < c.steps:
                history.append(self.train_step())
                advance(history[-1])
                if c.eval_every and self.step % c.eval_every == 0:
                    evaluate()  # before the checkpoint: a resume past this step has its eval
                if c.save_every and self.step % c.save_every == 0:
                    save(self)
        evaluate()
        save(self)
        save_final(self)
        return history

    def close(self) -> None:
        self.rollout.close()
        self.log.close()


def reward_stats(rollouts: Rollouts, prefix: str = "") -> dict[str, float]:
    """Mean and std of the reward and the mean of each verifier component over these groups."""
    rewards = rollouts.rewards
    return {
        f"{prefix}reward": float(rewards.mean()),
        f"{prefix}reward_std": float(rewards.std()) if rewards.numel() > 1 else 0.0,
        **{f"{prefix}reward/{k}": float(v.mean()) for k, v in rollouts.components.items()},
    }


def step_reward_stats(sampled: Rollouts, trained: Rollouts, config: GRPOConfig) -> dict[str, float]:
    """`reward*` and `zero_std_fraction` over every group sampled this step (refills too); with
    dynamic sampling also `trained/reward*` over the groups kept after the filter."""
    stats = {
        **reward_stats(sampled),
        "zero_std_fraction": float((~alg.informative_groups(sampled.rewards)).float().mean()),
        "groups_sampled": len(sampled.problems),
    }
    if config.dynamic_sampling:
        stats.update(reward_stats(trained, "trained/"))
        stats["groups_trained"] = len(trained.problems)
        stats["refills"] = len(sampled.problems) // config.prompts_per_step - 1
    return stats
