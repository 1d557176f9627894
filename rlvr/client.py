"""A client for the reward server (`rlvr serve`), with retries and back-off.

    from rlvr.client import RewardClient
    client = RewardClient("http://127.0.0.1:8000", token=None)
    client.rewards([r"\\boxed{4}"], ["4"])          # [1.0]

It retries what a busy or restarting server answers (429 honouring `Retry-After`, 502, 503, 504,
connection errors and read timeouts) with exponential back-off, and raises `RewardServerError`
naming the server's message for what retrying cannot fix (401, 413, 422).  Scoring is idempotent,
so retrying a whole request is safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from rlvr.errors import RlvrError
from rlvr.log import get_logger

log = get_logger(__name__)

RETRY_STATUS = {429, 502, 503, 504}


class RewardServerError(RlvrError):
    """The server refused the request, or did not answer after every retry."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RewardClient:
    """Thread-safe; one connection pool per client."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        verifier: str | None = None,
        timeout_s: float = 180.0,
        retries: int = 8,
        backoff_s: float = 0.25,
        max_backoff_s: float = 30.0,
        batch_size: int = 512,
    ) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.verifier = verifier
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.batch_size = batch_size
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    # ------------------------------------------------------------------ API
    def score(
        self,
        completions: Sequence[Any],
        answers: Sequence[Any] | None = None,
        *,
        verifier: str | None = None,
        lengths: Sequence[int] | None = None,
    ) -> list[dict[str, Any]]:
        """One result per completion (reward, correct, extracted, reason, ...), in order."""
        answers = list(answers) if answers is not None else [None] * len(completions)
        if len(answers) != len(completions):
            raise RewardServerError(
                f"answers: has {len(answers)} items but completions has {len(completions)}"
            )
        results: list[dict[str, Any]] = []
        for start in range(0, len(completions), self.batch_size):
            stop = start + self.batch_size
            items = [
                {"completion": c, "answer": a} for c, a in zip(completions[start:stop], answers[start:stop])
            ]
            if lengths is not None:
                for item, length in zip(items, lengths[start:stop]):
                    item["length"] = int(length)
            body: dict[str, Any] = {"items": items}
            if verifier or self.verifier:
                body["verifier"] = verifier or self.verifier
            results.extend(self._post("/score", body)["results"])
        return results

    def rewards(
        self, completions: Sequence[Any], answers: Sequence[Any] | None = None, **options: Any
    ) -> list[float]:
        return [float(r["reward"]) for r in self.score(completions, answers, **options)]

    def get_reward(
        self,
        queries: Sequence[str],
        prompts: Sequence[str] | None = None,
        labels: Sequence[Any] | None = None,
    ) -> dict[str, Any]:
        """OpenRLHF's remote reward call."""
        body = {"query": list(queries), "prompts": None if prompts is None else list(prompts)}
        body["labels"] = None if labels is None else list(labels)
        params = {"verifier": self.verifier} if self.verifier else None
        return self._post("/get_reward", body, params)

    def run_code(self, code: str, language: str = "python", **fields: Any) -> dict[str, Any]:
        """SandboxFusion's `/run_code`."""
        return self._post("/run_code", {"code": code, "language": language, **fields})

    def health(self) -> dict[str, Any]:
        return self._http.get("/health").json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RewardClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------- internal
    def _post(self, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> dict[str, Any]:
        import httpx

        last = "no attempt made"
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(path, json=body, params=params)
            except (httpx.TransportError, httpx.TimeoutException) as exc:  # refused, reset, read timeout
                last = f"{type(exc).__name__}: {exc}"
                wait = self._backoff(attempt)
            else:
                if response.status_code == 200:
                    return response.json()
                message = _message(response)
                if response.status_code not in RETRY_STATUS:
                    raise RewardServerError(
                        f"{self.url}{path}: {response.status_code} {message}",
                        response.status_code,
                        response.text,
                    )
                last = f"{response.status_code} {message}"
                wait = _retry_after(response) or self._backoff(attempt)
            if attempt < self.retries:
                log.info("%s%s: %s; retrying in %.2f s", self.url, path, last, wait)
                time.sleep(wait)
        raise RewardServerError(f"{self.url}{path}: no answer after {self.retries + 1} tries; last: {last}")

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * 2**attempt) * (0.5 + random.random() / 2)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("detail") or body)[:500]
    return str(body)[:200]
