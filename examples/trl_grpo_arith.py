"""The same rlvr rewards in TRL's GRPOTrainer (accelerate: one GPU, many GPUs, or CPU).

    pip install "trl>=1.16"
    python examples/trl_grpo_arith.py --model models/SmolLM2-135M-Instruct --steps 20
    accelerate launch --num_processes 8 examples/trl_grpo_arith.py --model Qwen/Qwen2.5-1.5B-Instruct --vllm

The reward is `rlvr.integrations.trl.reward_func`: verifiers under hard time limits, so a
pathological completion can never stall TRL's reward loop.
"""

from __future__ import annotations

import argparse

from rlvr.benchmarks import load_problems, render_prompt
from rlvr.errors import ConfigError
from rlvr.integrations.trl import reward_func
from rlvr.models import require_local_model


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--reward", default="format=1.0,math=1.0")
    parser.add_argument("--prompts-per-step", type=int, default=4)
    parser.add_argument("--samples-per-prompt", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--vllm", action="store_true", help="TRL's colocated vLLM generation (GPU)")
    parser.add_argument("--output-dir", default="runs/trl_grpo_arith")
    args = parser.parse_args()
    try:  # one line naming the command that prepares the model, not a transformers traceback
        require_local_model(args.model, field="--model")
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None

    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    problems = load_problems("arith", limit=512, seed=0, split="train")
    rows = [{"prompt": render_prompt(p.question, "r1_zero"), "answer": p.answer} for p in problems]
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.steps,
        num_generations=args.samples_per_prompt,
        per_device_train_batch_size=args.prompts_per_step * args.samples_per_prompt,
        max_completion_length=args.max_new_tokens,
        learning_rate=2e-5,
        beta=0.0,
        loss_type="dapo",
        epsilon_high=0.28,
        logging_steps=1,
        report_to=[],
        use_vllm=args.vllm,
        vllm_mode="colocate",
        bf16=torch.cuda.is_available(),
        use_cpu=not torch.cuda.is_available(),  # TRL's bf16 default needs a GPU
    )
    # the R1-Zero prompt opens <think>: the format check starts inside it; partial credit per tag
    reward = reward_func(args.reward, prefilled_think=True, mode="partial")
    trainer = GRPOTrainer(
        model=args.model, reward_funcs=[reward], args=config, train_dataset=Dataset.from_list(rows)
    )
    trainer.train()
    trainer.save_state()  # OUTPUT_DIR/trainer_state.json: TRL's per-step log, rewards included


if __name__ == "__main__":
    main()
