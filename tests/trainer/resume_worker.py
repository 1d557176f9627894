"""A training run in its own process, for the kill -9 tests: `python resume_worker.py CONFIG.json`.

Trains with the `HasLetter` reward (tests/trainer/trainer_helpers.py) and resumes from the
output directory's checkpoint when there is one, as `rlvr train` does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from trainer_helpers import HasLetter

from rlvr.trainer import GRPOConfig, GRPOTrainer

if __name__ == "__main__":
    config = GRPOConfig(**json.loads(Path(sys.argv[1]).read_text()))
    trainer = GRPOTrainer(config, reward=HasLetter())
    try:
        trainer.train()
    finally:
        trainer.close()
