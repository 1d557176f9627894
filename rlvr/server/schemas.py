"""What crosses the reward server's HTTP boundary: one pydantic model per body.

Three wire formats live here: rlvr's own (`/score`), OpenRLHF's remote reward model
(`/get_reward`) and SandboxFusion's single-program run (`/run_code`).  The foreign ones
keep their owners' field names exactly, so their clients work unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rlvr.sandbox.languages import LANGUAGES

#: rlvr's sandbox languages, so that the OpenAPI schema lists what /run_code can run
SandboxLanguage = Literal[tuple(sorted(LANGUAGES))]  # type: ignore[valid-type]

# ----------------------------------------------------------------------------- /score


class ScoreItem(BaseModel):
    completion: str | list[dict[str, Any]] = Field(
        ..., description="The model's output: a string, or chat messages as TRL passes them."
    )
    answer: Any = Field(None, description="The reference (any JSON value; a dict gives one per verifier).")
    prompt: str | None = Field(None, description="Accepted for symmetry with trainers; no verifier reads it.")
    length: int | None = Field(
        None, ge=0, description="Completion length in tokens, for a spec with an overlong penalty."
    )


class ScoreRequest(BaseModel):
    items: list[ScoreItem] = Field(..., description="Completions to score; results come back in this order.")
    verifier: str | None = Field(None, description="One of the server's specs; default: the first one.")


class ItemResult(BaseModel):
    """The columns `rlvr score` writes (reward, correct, extracted, reason) and a little more."""

    reward: float | None = Field(..., description="None only together with `error`.")
    correct: bool | None = None
    extracted: str | None = None
    reason: str | None = None
    elapsed_s: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = Field(None, description="Set when the item could not be scored (the request is 502).")


class ScoreResponse(BaseModel):
    rewards: list[float | None]
    results: list[ItemResult]
    verifier: str


class PartialFailure(BaseModel):
    """Body of a 502: some items could not be scored; the others' results are kept."""

    detail: str
    failed_items: list[int]
    rewards: list[float | None]
    results: list[ItemResult]


class ErrorBody(BaseModel):
    detail: Any
    message: str | None = None


# -------------------------------------------------------------------------- /get_reward


class GetRewardRequest(BaseModel):
    """OpenRLHF's remote reward-model request: `query` is prompt + response."""

    query: list[str]
    prompts: list[str] | None = None
    labels: list[Any] | None = None


class GetRewardResponse(BaseModel):
    rewards: list[float]
    scores: list[float] = Field(..., description="In [0, 1]: 1.0 when correct; feeds dynamic filtering.")
    extra_logs: dict[str, list[float]] = Field(
        ..., description="Per-item values OpenRLHF logs: reward per component, correct, timeout."
    )


# ---------------------------------------------------------------------------- /run_code

CommandStatus = Literal["Finished", "Error", "TimeLimitExceeded"]
RunStatus = Literal["Success", "Failed", "SandboxError"]


class RunCodeRequest(BaseModel):
    """SandboxFusion's `/run_code` request (sandbox/server/sandbox_api.py in bytedance/SandboxFusion)."""

    model_config = ConfigDict(populate_by_name=True)

    code: str
    language: SandboxLanguage = Field(..., description="One of rlvr's sandbox languages.")
    stdin: str | None = None
    compile_timeout: float = Field(10, gt=0, description="Accepted; rlvr's compile step has its own limit.")
    run_timeout: float = Field(10, gt=0, le=600)
    memory_limit_MB: int = Field(-1, description="-1: the sandbox default.")
    files: dict[str, str | None] = Field(
        default_factory=dict, description="Path -> base64 content, written before the run."
    )
    fetch_files: list[str] = Field(default_factory=list, description="Must be empty: not supported.")


class CommandRunResult(BaseModel):
    status: CommandStatus
    execution_time: float | None = None
    return_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class RunCodeResponse(BaseModel):
    status: RunStatus
    message: str
    compile_result: CommandRunResult | None = None
    run_result: CommandRunResult | None = None
    executor_pod_name: str | None = None
    files: dict[str, str] = Field(default_factory=dict)


class Health(BaseModel):
    status: Literal["ok"]
    verifiers: list[str]
    workers: int
    queue_depth: int
    max_queue: int
    pid: int = Field(..., description="The serving process (tells Ray Serve replicas apart).")
