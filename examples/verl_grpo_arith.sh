#!/usr/bin/env bash
# The same rlvr rewards in verl (Ray + FSDP, one node or many). Needs `pip install verl` and GPUs.
#   examples/verl_grpo_arith.sh Qwen/Qwen2.5-1.5B-Instruct 8
# 1. write the built-in arithmetic suite in verl's parquet layout (prompt chat, reward_model.ground_truth)
# 2. run verl's GRPO entry point with rlvr's compute_score as the custom reward function
set -euo pipefail
model=${1:-Qwen/Qwen2.5-1.5B-Instruct}
gpus=${2:-8}
data=${DATA_DIR:-runs/verl_arith_data}
python - "$data" <<'PY'
import sys
from pathlib import Path

import pandas as pd

from rlvr.benchmarks import load_problems

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
instruction = "Think inside <think> </think>, then give only the final answer inside <answer> </answer>."
for split, seed, count in (("train", 0, 4096), ("test", 1, 256)):
    rows = [{
        "data_source": "rlvr/arith",
        "prompt": [{"role": "user", "content": f"{p.question}\n{instruction}"}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": p.answer},
        "extra_info": {"rlvr_spec": "format=0.5,math=1.0", "index": i},
    } for i, p in enumerate(load_problems("arith", limit=count, seed=seed, split=split))]
    pd.DataFrame(rows).to_parquet(out / f"{split}.parquet")
PY
reward_file=$(python -c "import rlvr.integrations.verl as m; print(m.__file__)")
python -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo \
  data.train_files="$data/train.parquet" data.val_files="$data/test.parquet" \
  data.train_batch_size=256 data.max_prompt_length=256 data.max_response_length=1024 \
  actor_rollout_ref.model.path="$model" \
  actor_rollout_ref.actor.use_kl_loss=False actor_rollout_ref.actor.clip_ratio_low=0.2 \
  actor_rollout_ref.actor.clip_ratio_high=0.28 actor_rollout_ref.actor.loss_agg_mode=token-mean \
  actor_rollout_ref.actor.ppo_mini_batch_size=64 actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8 \
  actor_rollout_ref.rollout.name=vllm actor_rollout_ref.rollout.n=8 \
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=8 \
  custom_reward_function.path="$reward_file" custom_reward_function.name=compute_score \
  trainer.n_gpus_per_node="$gpus" trainer.nnodes="${NNODES:-1}" trainer.total_epochs=1 \
  trainer.logger='[console]' trainer.project_name=rlvr trainer.experiment_name=grpo_arith
