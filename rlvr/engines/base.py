"""The one engine interface: `generate(requests, sampling) -> list[list[Completion]]`.

A request is a prompt string or a chat (a list of `{"role", "content"}` messages).
A chat that ends with an assistant message is continued from that text, which is
how R1's forced `<think>\\n` start is expressed.  Engines also `stream` results
as each request finishes, so a runner can save and score while generation goes on.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rlvr.errors import ConfigError
from rlvr.types import rename_deprecated

Message = dict[str, str]
Request = str | list[Message]


class SamplingConfig(BaseModel):
    """Sampling settings shared by every engine.  The defaults are DeepSeek-R1's evaluation protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    samples_per_prompt: int = Field(1, ge=1, description="Samples per request (vLLM's `n`).")
    temperature: float = Field(0.6, ge=0, description="0 means greedy.")
    top_p: float = Field(0.95, gt=0, le=1)
    top_k: int = Field(-1, ge=-1, description="-1 disables top-k.")
    max_new_tokens: int = Field(32768, ge=1, description="New-token limit per sample.")
    seed: int | None = Field(0, description="Base seed; each request derives its own from it.")
    stop: tuple[str, ...] = Field((), description="Strings that end a sample (not included).")

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        return rename_deprecated(
            data, {"n": "samples_per_prompt", "max_tokens": "max_new_tokens"}, "sampling"
        )


class Completion(BaseModel):
    """One sampled continuation."""

    model_config = ConfigDict(frozen=True)

    text: str
    tokens: int = Field(ge=0, description="Generated tokens.")
    finish_reason: Literal["stop", "length", "error"] = "stop"
    token_ids: list[int] | None = None


class Engine(ABC):
    """Subclasses implement `stream`; `generate` collects it in request order."""

    name: ClassVar[str] = "engine"

    @abstractmethod
    def stream(
        self, requests: Sequence[Request], sampling: SamplingConfig, seeds: Sequence[int] | None = None
    ) -> Iterator[tuple[int, list[Completion]]]:
        """Yield `(request index, its n completions)` as requests finish, in any order.

        `seeds`, one per request, make a request's samples independent of which other
        requests share its batch (a resumed run regenerates the same samples)."""

    def generate(
        self, requests: Sequence[Request], sampling: SamplingConfig, seeds: Sequence[int] | None = None
    ) -> list[list[Completion]]:
        results: list[list[Completion] | None] = [None] * len(requests)
        for index, completions in self.stream(requests, sampling, seeds):
            results[index] = completions
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            raise RuntimeError(f"{self.name} engine returned nothing for requests {missing[:5]}")
        return results  # type: ignore[return-value]

    def info(self) -> dict[str, Any]:
        """What a run's config.json records about this engine (options and versions)."""
        return {"engine": self.name}

    def close(self) -> None:  # noqa: B027 - engines without resources need no close
        """Release processes and memory."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate_requests(requests: Sequence[Request]) -> None:
    """A clear error naming the request and the problem, before any engine work starts."""
    for i, request in enumerate(requests):
        if isinstance(request, str):
            continue
        if not isinstance(request, list) or not request:
            raise ConfigError(f"requests[{i}]", "must be a prompt string or a non-empty list of messages")
        for j, message in enumerate(request):
            if not isinstance(message, dict) or not {"role", "content"} <= message.keys():
                raise ConfigError(f"requests[{i}][{j}]", "a message needs 'role' and 'content'")


def seeds_for(sampling: SamplingConfig, count: int, seeds: Sequence[int] | None) -> list[int | None]:
    """Per-request seeds: the caller's, else base seed + index, else none (unseeded)."""
    if seeds is not None:
        if len(seeds) != count:
            raise ConfigError("seeds", f"has {len(seeds)} items for {count} requests")
        return list(seeds)
    if sampling.seed is None:
        return [None] * count
    return [sampling.seed + i for i in range(count)]


def stable_seed(*parts: object) -> int:
    """A 31-bit seed from any values, the same in every process and Python version."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def prompt_text(tokenizer: Any, request: Request) -> str:
    """The prompt text for a request: chats go through the model's chat template; a trailing
    assistant message is continued rather than answered."""
    if isinstance(request, str):
        return request
    prefix = ""
    messages = request
    if messages[-1].get("role") == "assistant":
        prefix = messages[-1]["content"]
        messages = messages[:-1]
    if getattr(tokenizer, "chat_template", None) is None:
        raise ConfigError("model", "its tokenizer has no chat template: use a plain (string) prompt template")
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + prefix


def prompt_token_ids(tokenizer: Any, request: Request) -> list[int]:
    """Token ids of the rendered prompt.  Chat templates already hold their special tokens,
    so only plain strings get the tokenizer's BOS added."""
    text = prompt_text(tokenizer, request)
    return list(tokenizer(text, add_special_tokens=isinstance(request, str))["input_ids"])
