"""The reward server's FastAPI app: /score, /get_reward (OpenRLHF), /run_code (SandboxFusion),
/health, /metrics; OpenAPI at /openapi.json and /docs."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST

from rlvr.errors import ConfigError
from rlvr.log import get_logger
from rlvr.types import VerifyResult

from . import run_code as sandbox_fusion
from .guard import Guard
from .schemas import (
    ErrorBody,
    GetRewardRequest,
    GetRewardResponse,
    Health,
    PartialFailure,
    RunCodeRequest,
    RunCodeResponse,
    ScoreRequest,
    ScoreResponse,
)
from .service import QueueFull, Scored, ScoringService, ServerConfig, TooManyItems

log = get_logger(__name__)

PATHS = {"/score", "/get_reward", "/run_code", "/health", "/metrics", "/openapi.json", "/docs"}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "A bearer token is required and was missing or wrong."},
    413: {"model": ErrorBody, "description": "Body larger than the limit, or more items than --max-queue."},
    422: {"model": ErrorBody, "description": "A field is missing or has a bad value; `message` names it."},
    429: {"model": ErrorBody, "description": "The queue is full; retry after `Retry-After` seconds."},
}
SCORING_ERRORS = {**ERRORS, 502: {"model": PartialFailure, "description": "Some items could not be scored."}}


def create_app(
    verifiers: Sequence[str] = ("math",),
    workers: int | None = None,
    max_queue: int = 1024,
    token: str | None = None,
    **options: Any,
) -> FastAPI:
    """Build the app; `options` are the other `ServerConfig` fields (max_body_bytes, sandbox, ...)."""
    config = ServerConfig(
        verifiers=list(verifiers), workers=workers, max_queue=max_queue, token=token, **options
    )
    return app_from_config(config)


def app_from_config(config: ServerConfig) -> FastAPI:
    service = ScoringService(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await asyncio.get_running_loop().run_in_executor(None, service.start)
        yield
        service.close()

    app = FastAPI(
        title="rlvr reward server",
        summary="Verifiable rewards over HTTP: rlvr's own /score, OpenRLHF's /get_reward, "
        "SandboxFusion's /run_code.",
        version="1",
        lifespan=lifespan,
    )
    app.state.service = service
    _install_error_handlers(app, service)
    auth = _auth_dependency(config.token, service)

    @app.post("/score", response_model=ScoreResponse, responses=SCORING_ERRORS, dependencies=[Depends(auth)])
    async def score(body: ScoreRequest) -> Response:
        """Score completions against answers with one of the server's verifier specs."""
        spec, _ = service.verifier(body.verifier)
        lengths = _lengths(body)
        completions = [item.completion for item in body.items]
        answers = [item.answer for item in body.items]
        scored = await _score(service, "score", spec, completions, answers, lengths)
        results = [_result(r, scored.errors.get(i)) for i, r in enumerate(scored.results)]
        rewards = [r["reward"] for r in results]
        if scored.errors:
            return _partial_failure(scored, rewards, results)
        return _json({"rewards": rewards, "results": results, "verifier": spec})

    @app.post(
        "/get_reward",
        response_model=GetRewardResponse,
        responses=SCORING_ERRORS,
        dependencies=[Depends(auth)],
    )
    async def get_reward(
        body: GetRewardRequest,
        verifier: str | None = Query(None, description="One of the served specs; default: the first."),
    ) -> Response:
        """OpenRLHF's remote reward model: `query` is prompt + response; `labels` are the answers."""
        spec, _ = service.verifier(verifier)
        n = len(body.query)
        for name in ("prompts", "labels"):
            values = getattr(body, name)
            if values is not None and len(values) != n:
                raise ConfigError(name, f"has {len(values)} items but query has {n}")
        prompts = body.prompts or [None] * n
        responses = [response_of(q, p) for q, p in zip(body.query, prompts)]
        answers = list(body.labels) if body.labels is not None else [None] * n
        scored = await _score(service, "get_reward", spec, responses, answers, None)
        if scored.errors:
            results = [_result(r, scored.errors.get(i)) for i, r in enumerate(scored.results)]
            return _partial_failure(scored, [r["reward"] for r in results], results)
        return _json(openrlhf_body(scored.results))  # type: ignore[arg-type]

    @app.post("/run_code", response_model=RunCodeResponse, responses=ERRORS, dependencies=[Depends(auth)])
    async def run_code(body: RunCodeRequest) -> RunCodeResponse:
        """SandboxFusion's single-program run, on rlvr's sandbox (see rlvr.server.run_code)."""
        files = sandbox_fusion.check_request(body)
        _admit(service, 1)
        try:
            sandbox = service.sandbox
            loop = asyncio.get_running_loop()
            try:
                response = await loop.run_in_executor(
                    service.sandbox_threads, sandbox_fusion.run, sandbox, body, files
                )
            except ConfigError:
                raise
            except Exception as exc:  # the sandbox itself failed: SandboxFusion says SandboxError
                log.warning("run_code: sandbox failed: %r", exc)
                response = RunCodeResponse(status="SandboxError", message=f"{type(exc).__name__}: {exc}")
        finally:
            service.admission.release(1)
        outcome = (
            "timeout" if response.run_result and response.run_result.status == "TimeLimitExceeded" else None
        )
        service.metrics.items.labels("run_code", outcome or "scored").inc()
        return response

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        """Liveness and load: served specs, pool size, queue depth."""
        return Health(
            status="ok",
            verifiers=list(service.verifiers),
            workers=config.pool_workers,
            queue_depth=service.admission.depth,
            max_queue=config.max_queue,
            pid=os.getpid(),
        )

    @app.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus text format."""
        service.observe_workers()
        return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(Guard, max_body_bytes=config.max_body_bytes, metrics=service.metrics, paths=PATHS)
    return app


# ---------------------------------------------------------------- helpers


async def _score(
    service: ScoringService,
    endpoint: str,
    spec: str,
    completions: list[Any],
    answers: list[Any],
    lengths: list[int] | None,
) -> Scored:
    """Admit, score in a thread, release; the release happens whatever becomes of the client."""
    n = len(completions)
    if n == 0:
        return Scored([], {})
    _admit(service, n)

    def work() -> Scored:
        try:
            scored = service.score(spec, completions, answers, lengths)
            service.record_items(endpoint, scored)  # counted here: even if the client has left
            return scored
        finally:
            service.admission.release(n)  # released when the work ends, not when the client leaves

    try:
        future = asyncio.get_running_loop().run_in_executor(service.threads, work)
    except BaseException:
        service.admission.release(n)
        raise
    scored = await asyncio.shield(future)
    return scored


def _admit(service: ScoringService, n: int) -> None:
    try:
        service.admission.acquire(n, service.rate_per_s)
    except QueueFull:
        service.metrics.rejected.labels("queue_full").inc()
        raise
    except TooManyItems:
        service.metrics.rejected.labels("too_many_items").inc()
        raise


def response_of(query: str, prompt: str | None) -> str:
    """OpenRLHF sends prompt + response as `query`: the response is what follows the prompt."""
    if prompt:
        if query.startswith(prompt):
            return query[len(prompt) :]
        at = query.find(prompt)
        if at >= 0:
            return query[at + len(prompt) :]
    return query


def openrlhf_body(results: list[VerifyResult]) -> dict[str, Any]:
    """rewards; scores in [0, 1] (1.0 when correct) for dynamic filtering; per-item logs."""
    rewards = [float(r.score) for r in results]
    scores = [
        (1.0 if r.correct else 0.0) if r.correct is not None else min(1.0, max(0.0, r.score)) for r in results
    ]
    logs: dict[str, list[float]] = {
        "correct": [1.0 if r.correct else 0.0 for r in results],
        "timeout": [1.0 if r.reason == "timeout" else 0.0 for r in results],
    }
    components = [(r.details or {}).get("scores") for r in results]
    if components and all(isinstance(c, dict) for c in components):
        for name in components[0]:
            logs[f"reward_{name}"] = [float(c.get(name, 0.0)) for c in components]  # type: ignore[union-attr]
    return {"rewards": rewards, "scores": scores, "extra_logs": logs}


def _lengths(body: ScoreRequest) -> list[int] | None:
    given = [item.length for item in body.items]
    if all(v is None for v in given):
        return None
    for i, v in enumerate(given):
        if v is None:
            raise ConfigError(f"items.{i}.length", "give a length for every item or for none")
    return given  # type: ignore[return-value]


def _result(r: VerifyResult | None, error: str | None) -> dict[str, Any]:
    if r is None:
        return {"reward": None, "correct": None, "extracted": None, "reason": "error", "error": error}
    return {
        "reward": r.score,
        "correct": r.correct,
        "extracted": r.extracted,
        "reason": r.reason,
        "elapsed_s": r.elapsed_s,
        "details": r.details or {},
    }


def _partial_failure(scored: Scored, rewards: list[Any], results: list[dict[str, Any]]) -> Response:
    failed = scored.failed
    detail = (
        f"{len(failed)} of {len(results)} items could not be scored (items {failed}): "
        f"{scored.errors[failed[0]]}; the other items' results are in 'results'"
    )
    log.error("%s", detail)
    return _json({"detail": detail, "failed_items": failed, "rewards": rewards, "results": results}, 502)


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, separators=(",", ":"), default=str).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _auth_dependency(token: str | None, service: ScoringService) -> Callable[..., None]:
    bearer = HTTPBearer(auto_error=False, description="Required when the server runs with --token.")

    def check_token(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is None:
            return
        if credentials is None or not secrets.compare_digest(
            credentials.credentials.encode(), token.encode()
        ):
            service.metrics.rejected.labels("unauthorized").inc()
            raise _Unauthorized

    return check_token


class _Unauthorized(Exception):
    pass


def _install_error_handlers(app: FastAPI, service: ScoringService) -> None:
    def error(
        status: int, message: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        return _json({"detail": message if detail is None else detail, "message": message}, status, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            ctx = next(e for e in errors if e.get("type") == "json_invalid").get("ctx") or {}
            return error(400, f"body: not valid JSON ({ctx.get('error', 'parse error')})")
        parts = _messages(errors)
        detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]
        return error(422, "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else ""), detail)

    @app.exception_handler(ConfigError)
    async def bad_value(_: Request, exc: ConfigError) -> Response:
        return error(422, str(exc))

    @app.exception_handler(TooManyItems)
    async def too_many(_: Request, exc: TooManyItems) -> Response:
        return error(413, f"items: {exc}; send fewer per request")

    @app.exception_handler(QueueFull)
    async def full(_: Request, exc: QueueFull) -> Response:
        message = f"queue full ({service.admission.depth} items in flight); retry after {exc.retry_after_s} s"
        return error(429, message, headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(_Unauthorized)
    async def unauthorized(_: Request, __: _Unauthorized) -> Response:
        return error(
            401, "Authorization: a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


def _messages(errors: Sequence[dict[str, Any]]) -> list[str]:
    """One "field: problem" per field; the branches of a union (`completion.str`, `completion.list[...]`)
    become one field with "or" between their problems."""
    by_field: dict[str, list[str]] = {}
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):  # where it came from, not a field
            loc = loc[1:]
        if len(loc) > 1 and (loc[-1] in _TYPE_NAMES or "[" in loc[-1]):
            loc = loc[:-1]
        by_field.setdefault(".".join(loc) or "body", []).append(str(e.get("msg", "invalid")))
    return [f"{name}: {' or '.join(dict.fromkeys(msgs))}" for name, msgs in by_field.items()]


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict", "none"}
