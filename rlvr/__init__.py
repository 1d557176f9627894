"""rlvr: reinforcement learning with verifiable rewards.

The core package holds the shared types, the registry, the deadline process
pool and the CLI; components live in subpackages (`rlvr.verifiers`,
`rlvr.sandbox`, `rlvr.benchmarks`, `rlvr.trainer`).
"""

__version__ = "0.1.0"
