"""The `rlvr` command: a thin layer over the Python API, one module per command group.

Every command takes -v/-q/--debug and reports a user error as one red line (see `common`).
"""

from __future__ import annotations

from .bench import bench_app
from .common import make_app
from .score import list_verifiers_command, score
from .serve import serve
from .train import train

app = make_app("rlvr: verifiable rewards for reasoning models.")
app.command("score")(score)
app.command("verifiers")(list_verifiers_command)
app.add_typer(bench_app, name="bench")
app.command("train")(train)
app.command("serve")(serve)


def main() -> None:
    from rlvr import log

    log.configure(0)
    app()


__all__ = ["app", "main"]
