"""`openai`: any OpenAI-compatible server (`vllm serve`, SGLang, hosted APIs).

Requests run concurrently on an asyncio loop in a background thread, at most
`concurrency` at a time.  Each sample is its own call (n=1), because servers report
token usage per call and several hosted APIs ignore `n`.  The official client retries
429, 408, 409 and 5xx answers, connection errors and timeouts with exponential
backoff (honouring Retry-After) up to `max_retries` times; a sample that still fails
ends the stream with an `EngineError` after every finished request has been handed out.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from rlvr.errors import ConfigError, RlvrError

from .base import Completion, Engine, Request, SamplingConfig, seeds_for, validate_requests

_DONE = object()


class EngineError(RlvrError):
    """The engine could not produce a completion (after retries)."""


class OpenAIEngine(Engine):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 32,
        max_retries: int = 5,
        timeout_s: float = 600.0,
    ) -> None:
        if concurrency < 1:
            raise ConfigError("concurrency", f"must be at least 1, got {concurrency}")
        if max_retries < 0:
            raise ConfigError("max_retries", f"must be at least 0, got {max_retries}")
        try:
            import openai  # noqa: F401
        except ImportError:
            raise ConfigError("engine", "the openai engine needs `pip install openai`") from None
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL", "http://localhost:8000/v1")
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY", "EMPTY")
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s

    def stream(
        self, requests: Sequence[Request], sampling: SamplingConfig, seeds: Sequence[int] | None = None
    ) -> Iterator[tuple[int, list[Completion]]]:
        validate_requests(requests)
        results: queue.Queue = queue.Queue()
        stop = threading.Event()
        request_seeds = seeds_for(sampling, len(requests), seeds)
        thread = threading.Thread(
            target=lambda: asyncio.run(self._run_all(requests, sampling, request_seeds, results, stop)),
            name="rlvr-openai",
            daemon=True,
        )
        thread.start()
        failure: BaseException | None = None
        try:
            while True:
                item = results.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    failure = failure or item
                    continue
                yield item
        finally:
            stop.set()
            thread.join(timeout=self.timeout_s)
        if failure is not None:
            raise EngineError(f"openai engine at {self.base_url}: {failure}") from failure

    async def _run_all(self, requests, sampling, seeds, results: queue.Queue, stop: threading.Event) -> None:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(
            base_url=self.base_url, api_key=self.api_key, max_retries=self.max_retries, timeout=self.timeout_s
        )
        limit = asyncio.Semaphore(self.concurrency)

        async def one_sample(request: Request, seed: int | None) -> Completion:
            async with limit:
                if stop.is_set():
                    raise asyncio.CancelledError
                return await self._sample(client, request, sampling, seed)

        async def one_request(index: int) -> None:
            seed = seeds[index]
            calls = [
                one_sample(requests[index], None if seed is None else seed + k)
                for k in range(sampling.samples_per_prompt)
            ]
            try:
                results.put((index, list(await asyncio.gather(*calls))))
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # reported once the finished requests are out
                results.put(exc)

        try:
            await asyncio.gather(*(one_request(i) for i in range(len(requests))))
        finally:
            await client.close()
            results.put(_DONE)

    async def _sample(
        self, client: Any, request: Request, sampling: SamplingConfig, seed: int | None
    ) -> Completion:
        common: dict[str, Any] = {
            "model": self.model,
            "n": 1,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
        }
        if seed is not None:
            common["seed"] = seed
        if sampling.stop:
            common["stop"] = list(sampling.stop)
        extra: dict[str, Any] = {}
        if sampling.top_k > 0:
            extra["top_k"] = sampling.top_k
        if isinstance(request, str):
            response = await client.completions.create(prompt=request, extra_body=extra or None, **common)
            text = response.choices[0].text
        else:
            if request[-1].get("role") == "assistant":  # continue it (vLLM's chat extension)
                extra.update(continue_final_message=True, add_generation_prompt=False)
            response = await client.chat.completions.create(
                messages=request, extra_body=extra or None, **common
            )
            text = response.choices[0].message.content or ""
        choice = response.choices[0]
        tokens = response.usage.completion_tokens if response.usage else 0
        finish = "length" if choice.finish_reason == "length" else "stop"
        return Completion(text=text, tokens=tokens, finish_reason=finish)

    def info(self) -> dict[str, Any]:
        import openai

        return {
            "engine": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "concurrency": self.concurrency,
            "max_retries": self.max_retries,
            "timeout_s": self.timeout_s,
            "openai": openai.__version__,
        }
