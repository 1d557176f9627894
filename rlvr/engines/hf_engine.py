"""`hf`: transformers `generate`, batched, for machines without vLLM.

Requests are sorted by prompt length before batching (less padding) and yielded per
batch.  One seed per batch: a request's samples depend on its batch, unlike vLLM's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rlvr.errors import ConfigError, EngineError, first_line

from .base import Completion, Engine, Request, SamplingConfig, prompt_token_ids, seeds_for, validate_requests


class HFEngine(Engine):
    name = "hf"

    def __init__(
        self, model: str, batch_size: int = 8, dtype: str = "auto", device: str | None = None
    ) -> None:
        if batch_size < 1:
            raise ConfigError("batch_size", f"must be at least 1, got {batch_size}")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = batch_size
        self.options = {"model": model, "batch_size": batch_size, "dtype": dtype, "device": self.device}
        from rlvr.models import require_local_model

        require_local_model(model)  # one line naming the command that prepares it
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
            self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype).to(self.device).eval()
        except Exception as exc:  # transformers raises many types; one line naming the model
            raise EngineError("hf", f"could not load {model}: {first_line(exc)}") from exc
        self._set_token_ids()

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, batch_size: int = 8) -> HFEngine:
        """An engine over a model already in memory, e.g. the policy a GRPO trainer is training:
        nothing is loaded. The caller decides the model's mode (generate in `eval()`)."""
        if batch_size < 1:
            raise ConfigError("batch_size", f"must be at least 1, got {batch_size}")
        engine = cls.__new__(cls)
        engine.model, engine.tokenizer, engine.batch_size = model, tokenizer, batch_size
        parameter = next(model.parameters())
        engine.device = str(parameter.device)
        engine.options = {
            "model": getattr(model.config, "_name_or_path", "in-memory"),
            "batch_size": batch_size,
            "dtype": str(parameter.dtype).removeprefix("torch."),
            "device": engine.device,
            "shared": True,
        }
        engine._set_token_ids()
        return engine

    def _set_token_ids(self) -> None:
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])

    def stream(
        self, requests: Sequence[Request], sampling: SamplingConfig, seeds: Sequence[int] | None = None
    ) -> Iterator[tuple[int, list[Completion]]]:
        validate_requests(requests)
        request_seeds = seeds_for(sampling, len(requests), seeds)
        encoded = [prompt_token_ids(self.tokenizer, r) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            outputs = self._generate([encoded[i] for i in batch], sampling, request_seeds[batch[0]])
            for position, index in enumerate(batch):
                yield (
                    index,
                    outputs[
                        position * sampling.samples_per_prompt : (position + 1) * sampling.samples_per_prompt
                    ],
                )

    def _generate(
        self, prompts: list[list[int]], sampling: SamplingConfig, seed: int | None
    ) -> list[Completion]:
        import torch

        width = max(len(p) for p in prompts)
        input_ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts], device=self.device)
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        if seed is not None:
            torch.manual_seed(seed)
        greedy = sampling.temperature == 0
        kwargs: dict[str, Any] = {
            "do_sample": not greedy,
            "max_new_tokens": sampling.max_new_tokens,
            "num_return_sequences": sampling.samples_per_prompt,
            "pad_token_id": self.pad_id,
        }
        if not greedy:
            kwargs.update(
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k if sampling.top_k > 0 else None,
            )
        if sampling.stop:
            kwargs.update(stop_strings=list(sampling.stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=attention, **kwargs)
        return [self._completion(row[width:].tolist(), sampling) for row in out]

    def _completion(self, ids: list[int], sampling: SamplingConfig) -> Completion:
        finish = "length"
        for position, token in enumerate(ids):
            if token in self.eos_ids:
                ids, finish = ids[: position + 1], "stop"
                break
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        for stop in sampling.stop:
            if stop in text:
                text, finish = text[: text.index(stop)], "stop"
        while ids and ids[-1] == self.pad_id and self.pad_id not in self.eos_ids:
            ids = ids[:-1]
        if (
            finish == "length" and len(ids) < sampling.max_new_tokens
        ):  # a stop string (maybe spanning the prompt)
            finish = "stop"
        return Completion(text=text, tokens=len(ids), finish_reason=finish, token_ids=ids)

    def info(self) -> dict[str, Any]:
        import torch
        import transformers

        return {
            "engine": self.name,
            **self.options,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }
