"""Checkpoints: the policy (or its adapters), the optimizer, the step and the RNG, so a resumed
run continues where it stopped; metrics past the checkpoint are dropped to keep one line per step."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import torch


def checkpoint_dir(trainer: Any) -> Path:
    return Path(trainer.config.output_dir) / "checkpoint"


def save(trainer: Any) -> Path:
    directory = checkpoint_dir(trainer)
    tmp = directory.with_name("checkpoint.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(tmp)
    trainer.tokenizer.save_pretrained(tmp)
    torch.save(
        {
            "optimizer": trainer.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
        },
        tmp / "trainer_state.pt",
    )
    (tmp / "step.json").write_text(json.dumps({"step": trainer.step}))
    if directory.exists():
        old = directory.with_name("checkpoint.old")
        directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(directory)
    return directory


def load_latest(trainer: Any) -> bool:
    directory = checkpoint_dir(trainer)
    if not (directory / "step.json").exists():
        return False
    step = json.loads((directory / "step.json").read_text())["step"]
    if (directory / "adapter_model.safetensors").exists():  # peft saved only the adapters
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(trainer.model, load_file(str(directory / "adapter_model.safetensors")))
    else:
        from transformers import AutoModelForCausalLM

        saved = AutoModelForCausalLM.from_pretrained(directory, dtype=next(trainer.model.parameters()).dtype)
        trainer.model.load_state_dict(saved.state_dict())
    state = torch.load(directory / "trainer_state.pt", weights_only=False)
    trainer.optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    random.setstate(state["python_rng"])
    trainer.step = step
    for _ in range(step * trainer.config.prompts_per_step):  # the same problem order as an unbroken run
        next(trainer.order)
    _truncate_metrics(Path(trainer.config.output_dir) / "metrics.jsonl", step)
    trainer.rollout.sync(trainer.model)
    return True


def _truncate_metrics(path: Path, step: int) -> None:
    if not path.exists():
        return
    keep = [
        line for line in path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step
    ]
    path.write_text("".join(line + "\n" for line in keep))
