"""Checkpoints: the policy (or its adapters), the optimizer, the step, the problems drawn so far
and every RNG, so a run killed at any point resumes to exactly where its last checkpoint was.

Writes are atomic: a checkpoint is written whole into `checkpoint.tmp/` and only then renamed
into place, the previous one moved aside to `checkpoint.old/` for the instant in between. A
crash never leaves a half-written `checkpoint/`, and when one strikes between the two renames
the previous checkpoint is read from `checkpoint.old/`. Metrics past the checkpoint (and a line
cut short by the kill) are dropped on resume, so `metrics.jsonl` keeps one line per step.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import torch

from rlvr.log import get_logger

log = get_logger(__name__)

STATE = "trainer_state.pt"
MARKER = "step.json"  # written last: a directory without it is not a checkpoint


def checkpoint_dir(trainer: Any) -> Path:
    return Path(trainer.config.output_dir) / "checkpoint"


def save(trainer: Any) -> Path:
    directory = checkpoint_dir(trainer)
    tmp = directory.with_name("checkpoint.tmp")
    old = directory.with_name("checkpoint.old")
    shutil.rmtree(tmp, ignore_errors=True)  # a write cut short by an earlier crash
    tmp.mkdir(parents=True)
    trainer.model.save_pretrained(tmp)
    trainer.tokenizer.save_pretrained(tmp)
    torch.save(
        {"optimizer": trainer.optimizer.state_dict(), "rng": rng_state()},
        tmp / STATE,
    )
    (tmp / MARKER).write_text(json.dumps({"step": trainer.step, "problems_drawn": trainer.problems_drawn}))
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
    return directory


def save_final(trainer: Any) -> Path:
    """OUTPUT_DIR/final/: the trained policy as a plain model directory (LoRA merged into a copy),
    with the tokenizer, for `rlvr bench run --model` and `from_pretrained`; written atomically."""
    final = Path(trainer.config.output_dir) / "final"
    tmp = final.with_name("final.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model = trainer.model
    if hasattr(model, "peft_config"):
        import copy

        model = copy.deepcopy(model).merge_and_unload()
    model.save_pretrained(tmp)
    trainer.tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def latest(output_dir: str | Path) -> Path | None:
    """The last complete checkpoint: `checkpoint/`, or `checkpoint.old/` when a crash struck
    between moving the previous one aside and renaming the new one into place."""
    for name in ("checkpoint", "checkpoint.old"):
        candidate = Path(output_dir) / name
        if (candidate / MARKER).exists() and (candidate / STATE).exists():
            return candidate
    return None


def load_latest(trainer: Any) -> bool:
    directory = latest(trainer.config.output_dir)
    if directory is None:
        start_fresh(trainer)
        return False
    marker = json.loads((directory / MARKER).read_text())
    step = marker["step"]
    if (directory / "adapter_model.safetensors").exists():  # peft saved only the adapters
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(trainer.model, load_file(str(directory / "adapter_model.safetensors")))
    else:
        from transformers import AutoModelForCausalLM

        saved = AutoModelForCausalLM.from_pretrained(directory, dtype=next(trainer.model.parameters()).dtype)
        trainer.model.load_state_dict(saved.state_dict())
    state = torch.load(directory / STATE, weights_only=False)
    trainer.optimizer.load_state_dict(state["optimizer"])
    set_rng_state(state["rng"])
    trainer.step = step
    trainer.problems_drawn = marker.get("problems_drawn", step * trainer.config.prompts_per_step)
    _truncate_metrics(Path(trainer.config.output_dir) / "metrics.jsonl", step)
    trainer.rollout.sync(trainer.model)
    log.info("resumed from %s at step %d (%d problems drawn)", directory, step, trainer.problems_drawn)
    return True


def start_fresh(trainer: Any) -> None:
    """The run starts at step 0: metrics of an earlier run in the directory go (its step-0 eval too)."""
    _truncate_metrics(Path(trainer.config.output_dir) / "metrics.jsonl", -1)


def rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _truncate_metrics(path: Path, step: int) -> None:
    """Keep the lines of steps up to `step` (and evaluations at those steps); drop the rest and any
    line a kill cut short."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("step", step + 1) <= step:
            keep.append(line)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(line + "\n" for line in keep))
    tmp.replace(path)
