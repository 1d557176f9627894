"""`GRPOConfig`: every knob of a run, documented and validated, loadable from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rlvr.errors import ConfigError
from rlvr.log import get_logger
from rlvr.types import rename_deprecated

log = get_logger(__name__)


GSPO_DEFAULTS = {"epsilon_low": 3e-4, "epsilon_high": 4e-4, "loss_aggregation": "grpo"}
TOKEN_LEVEL_CLIP = 0.01  # a clip range this wide is a token-level one
_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


class GRPOConfig(BaseModel):
    """Defaults follow current practice: no KL, clip-higher (DAPO 0.2 / 0.28), token-mean loss."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # ---------------------------------------------------------------- model and data
    model: str = Field(description="Local path or hub id of the policy (a causal LM).")
    data: str = Field(
        "arith",
        description="What `rlvr bench` takes: a benchmark name (`arith`, the offline arithmetic generator; "
        "`math500`), a spec file, a JSONL/CSV/Parquet file, or a hub dataset id.",
    )
    split: str = Field("train", description="Split of a generator (train/test never overlap) or hub dataset.")
    question_field: str | None = Field(None, description="Field holding the question (default: the spec's).")
    answer_field: str | None = Field(
        None, description="Field holding the reference answer (default: the spec's)."
    )
    template: Literal["r1_zero", "chat", "r1", "plain", "raw"] = Field(
        "r1_zero",
        description="`r1_zero`: DeepSeek-R1-Zero's <think>/<answer> conversation as plain text; `chat`: the "
        "model's chat template with the <think>/<answer> instruction; `r1`, `plain`, `raw`: as in `rlvr bench` "
        "(see rlvr.benchmarks.templates).",
    )
    num_prompts: int = Field(256, ge=1, description="How many problems of the data to train on.")
    reward: str = Field(
        "format=0.5,math=1.0",
        description="Reward spec: registry verifiers with weights, `;gate=NAME`, `;overlong=MAX:BUFFER`.",
    )
    reward_options: dict = Field(
        default_factory=dict,
        description="Options for the reward's verifiers, e.g. {mode: partial} for format-first shaping.",
    )

    # ---------------------------------------------------------------- rollouts
    rollout: Literal["hf", "vllm", "vllm_server"] = Field(
        "hf",
        description="`vllm`: engine in this process, weights synced after each step; `vllm_server`: a "
        "`vllm serve` process, weights pushed over its API; `hf`: transformers generate with the policy.",
    )
    vllm_server_url: str | None = Field(
        None,
        description="For `vllm_server`: a running server (started with VLLM_SERVER_DEV_MODE=1 and "
        "--worker-extension-cls rlvr.trainer.weight_receiver.WeightReceiver); unset: the trainer starts one.",
    )
    samples_per_prompt: int = Field(8, ge=2, description="G: completions per prompt (a group).")
    prompts_per_step: int = Field(4, ge=1, description="Groups per optimizer step.")
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(
        1.0,
        gt=0,
        description="Sampling temperature T; the loss scores tokens with softmax(logits / T). Every other "
        "sampling parameter is neutral on every rollout path, whatever the model's generation_config says.",
    )
    top_p: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Must stay 1: nucleus sampling draws from a truncated distribution, while the loss's "
        "log-probs are of the full softmax(logits / T).",
    )
    stop: list[str] = Field(
        default_factory=list,
        description="Strings that end a completion, kept in it (e.g. </answer>): nothing after the answer "
        "is sampled or trained on.",
    )
    vllm_options: dict = Field(
        default_factory=dict,
        description="Extra `vllm.LLM` arguments; for a server the trainer starts, `vllm serve` flags "
        "(tensor_parallel_size: 2 becomes --tensor-parallel-size 2).",
    )

    # ---------------------------------------------------------------- objective
    advantage_scale: Literal["group", "batch", "none"] = Field(
        "group", description="Divide by the group std (GRPO), the batch std, or not at all (Dr. GRPO)."
    )
    loss_aggregation: Literal["grpo", "dr_grpo", "dapo"] = Field(
        "dapo",
        description="Per-sequence mean (grpo), constant normalizer (dr_grpo), batch token mean (dapo). "
        "With ratio_level: sequence the default is grpo, GSPO's sequence mean.",
    )
    ratio_level: Literal["token", "sequence"] = Field(
        "token",
        description="Token ratios (GRPO), or GSPO's sequence ratio, which brings GSPO's defaults: clip "
        "3e-4 / 4e-4 and sequence-mean aggregation, unless those fields are set.",
    )
    epsilon_low: float = Field(
        0.2, ge=0, description="Lower clip: ratio >= 1 - epsilon_low (GSPO default 3e-4)."
    )
    epsilon_high: float = Field(
        0.28, ge=0, description="Upper clip (clip-higher): ratio <= 1 + epsilon_high (GSPO default 4e-4)."
    )
    beta: float = Field(
        0.0, ge=0, description="KL coefficient to a frozen reference (k3); 0 loads no reference."
    )
    num_iterations: int = Field(1, ge=1, description="μ: passes over each batch (old log-probs are stored).")
    mask_truncated: bool = Field(False, description="Give no loss to completions cut at max_new_tokens.")
    dynamic_sampling: bool = Field(
        False, description="DAPO: drop groups with equal rewards, refill the batch."
    )
    max_refills: int = Field(
        3, ge=0, description="Extra rollout rounds allowed per step for dynamic sampling."
    )
    log_entropy: bool = Field(True, description="Log the policy's mean token entropy (costs one softmax).")
    skip_flat_groups: bool = Field(
        True,
        description="Leave groups whose advantages are all zero out of the backward pass. Without KL "
        "(beta 0) they add exactly nothing to the gradient, so this only saves time; the entropy is then "
        "that of the trained groups.",
    )

    # ---------------------------------------------------------------- optimisation
    steps: int = Field(40, ge=1)
    learning_rate: float = Field(1e-6, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    micro_batch_size: int = Field(
        8, ge=1, description="Sequences per forward/backward (gradient accumulation)."
    )
    gradient_checkpointing: bool = Field(
        True, description="Recompute activations in backward (saves memory)."
    )
    share_prompt: bool = Field(
        True,
        description="Run each prompt once per group and share its KV cache with the G completions (exact; "
        "used when gradient_checkpointing is off, which it needs).",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="`auto`: bf16 on GPU, fp32 on CPU. The vLLM rollout engine runs in the same dtype.",
    )
    lora_r: int = Field(0, ge=0, description="LoRA rank through peft; 0 trains all weights.")
    lora_alpha: int = Field(32, ge=1)
    lora_target_modules: list[str] | str = Field("all-linear")
    seed: int = 0

    # ---------------------------------------------------------------- evaluation during training
    eval: list[str] = Field(
        default_factory=list,
        description="Benchmarks to evaluate on, as `rlvr bench` takes them (e.g. a held-out split of the "
        "built-in arithmetic suite, math500): at step 0, every eval_every steps and at the end, through the "
        "rollout engine with the current weights; results in OUTPUT_DIR/eval/step_K/ and metrics.jsonl. "
        "Problems that are also in the training data are refused.",
    )
    eval_every: int = Field(0, ge=0, description="Evaluate every N steps (0: only at step 0 and the end).")
    eval_samples_per_prompt: int = Field(1, ge=1, description="Samples per eval problem (1 with greedy).")
    eval_temperature: float = Field(0.0, ge=0, description="0: greedy evaluation.")
    eval_max_new_tokens: int | None = Field(None, ge=1, description="Unset: max_new_tokens.")
    eval_template: str | None = Field(None, description="Prompt template of the eval; unset: template.")
    eval_limit: int | None = Field(None, ge=1, description="First N problems of each eval benchmark.")
    eval_split: str | None = Field(
        None,
        description="Split of the eval benchmarks: `test` takes a generator's held-out questions (never in "
        "its train split); for a hub dataset, the dataset's split. Unset: the benchmark's own.",
    )

    # ---------------------------------------------------------------- output
    output_dir: str = Field("runs/grpo", description="metrics.jsonl, config.json, checkpoints.")
    save_every: int = Field(0, ge=0, description="Checkpoint every N steps (0: only at the end).")
    resume: bool = Field(True, description="Continue from the last checkpoint in output_dir if there is one.")
    report_to: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        renames = {"num_generations": "samples_per_prompt", "prompt_field": "question_field"}
        return rename_deprecated(data, renames, "train config")

    @model_validator(mode="before")
    @classmethod
    def _gspo_defaults(cls, data: Any) -> Any:
        """GSPO's sequence ratios live within ~1e-3 of 1, so token-level clip ranges (0.2) never clip
        them: ratio_level: sequence brings the paper's clip range and aggregation unless set."""
        if not isinstance(data, dict) or data.get("ratio_level") != "sequence":
            return data
        data = {**GSPO_DEFAULTS, **data}
        token_level = [f for f in ("epsilon_low", "epsilon_high") if float(data[f]) >= TOKEN_LEVEL_CLIP]
        if token_level:
            _warn_once(
                "gspo-clip",
                f"ratio_level: sequence (GSPO) with {' and '.join(f'{f}: {data[f]}' for f in token_level)}: "
                "a token-level clip range; GSPO's sequence ratios stay within ~1e-3 of 1, so it will "
                f"rarely clip (the paper uses epsilon_low: {GSPO_DEFAULTS['epsilon_low']}, "
                f"epsilon_high: {GSPO_DEFAULTS['epsilon_high']})",
            )
        return data

    @field_validator("top_p")
    @classmethod
    def _samples_come_from_the_trained_distribution(cls, top_p: float) -> float:
        if top_p != 1.0:
            raise ValueError(
                f"{top_p} samples from a truncated distribution, but the loss's log-probs (old, "
                "new and reference) are of the full softmax(logits / temperature), so the update would "
                "train a policy other than the one that sampled; set top_p: 1 (lower temperature instead)"
            )
        return top_p

    @model_validator(mode="after")
    def _server_url_needs_server_rollout(self) -> GRPOConfig:
        if self.vllm_server_url is not None and self.rollout != "vllm_server":
            raise ValueError(f"vllm_server_url is only used with rollout: vllm_server, not {self.rollout}")
        return self

    @property
    def batch_size(self) -> int:
        return self.prompts_per_step * self.samples_per_prompt

    @classmethod
    def from_file(cls, path: str | Path, **overrides: object) -> GRPOConfig:
        """Read YAML or JSON; a bad field gives one line naming the field, as `--set FIELD` when the
        value came from an override on the command line."""
        path = Path(path)
        if not path.exists():
            raise ConfigError("config", f"{path} does not exist")
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, dict):
            raise ConfigError("config", f"{path} must hold a mapping of fields")
        try:
            return cls(**{**raw, **overrides})
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "config"
            top = str(first["loc"][0]) if first["loc"] else ""
            where = f"--set {field}" if top in overrides else f"{path}: {field}"
            raise ConfigError(where, first["msg"]) from None
