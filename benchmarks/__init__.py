"""rlvr.benchmarks: filled in by its own issue; importable now so the layout is stable."""
