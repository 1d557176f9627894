"""The GPU check: one unattended run that proves the vLLM engine, the benchmark runner and the
trainer on a CUDA machine (`scripts/gpu_check.sh`; see docs/benchmarks.md, "GPU").

The orchestration (`runner`, `steps`, `gpu_memory`, `report`, `__main__`) uses the standard library
only, so it runs and records even when the project's setup fails; the probes (`env_probe`,
`train_probe`, `sync_check`) run in the project's environment.
"""
