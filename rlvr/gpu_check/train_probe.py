"""One GPU-check training run: what `rlvr train CONFIG` does (GRPOConfig.from_file, GRPOTrainer,
train), then, with the trainer still open, the engine-vs-policy sync check and the process's peak
CUDA memory, written to OUT_DIR/result.json (the per-step times are in OUT_DIR/metrics.jsonl).

    python -m rlvr.gpu_check.train_probe CONFIG OUT_DIR [-s rollout=vllm_server ...]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import yaml


def _stop_on_sigterm() -> None:
    """A time-boxed step is stopped with SIGTERM: leave through `finally`, so a `vllm serve` started
    in its own session is stopped too instead of holding the GPU into the next step."""

    def leave(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


def overrides(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE with the value read as YAML (5 → int, bfloat16 → str, {a: 1} → dict)."""
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {pair!r}: expected KEY=VALUE")
        parsed[key.strip()] = yaml.safe_load(value)
    return parsed


def cuda_memory() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"cuda": False}
    return {
        "cuda": True,
        "device": torch.cuda.get_device_name(0),
        "max_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
        "max_reserved_mib": round(torch.cuda.max_memory_reserved() / 2**20, 1),
    }


def probe(config_path: str, out_dir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    from rlvr.gpu_check.sync_check import sync_round_trip
    from rlvr.trainer import GRPOConfig, GRPOTrainer

    config = GRPOConfig.from_file(config_path, **{**settings, "output_dir": str(out_dir)})
    started = time.perf_counter()
    trainer = GRPOTrainer(config)
    try:
        built = time.perf_counter()
        history = trainer.train()
        trained = time.perf_counter()
        check = sync_round_trip(trainer.rollout, trainer.model, trainer.tokenizer)
    finally:
        trainer.close()
    return {
        "rollout": config.rollout,
        "dtype": str(next(trainer.model.parameters()).dtype).removeprefix("torch."),
        "steps": len(history),
        "setup_s": round(built - started, 2),
        "train_s": round(trained - built, 2),
        "sync_check": check.to_dict(),
        "torch_memory": cuda_memory(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rlvr.gpu_check.train_probe", description=__doc__)
    parser.add_argument("config")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--set", "-s", action="append", default=[], help="KEY=VALUE config override")
    args = parser.parse_args(argv)
    _stop_on_sigterm()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    result = probe(args.config, args.out_dir, overrides(args.set))
    (args.out_dir / "result.json").write_text(json.dumps(result, indent=2))
    check = result["sync_check"]
    if not check["ok"]:
        sys.exit(
            f"sync check failed: engine vs policy log-prob gap {check['gap_synced']:.3g} after training, "
            f"{check['gap_stale']:.3g} after an update the engine has not seen, {check['gap_resynced']:.3g} "
            f"after the sync (tolerance {check['tolerance']:g})"
        )


if __name__ == "__main__":
    main()
