"""What every `rlvr` command shares: the consoles, the -v/-q/--debug options, and the one error path.

Every command is built by `RlvrGroup`, which takes `-v`/`-q`/`--debug` anywhere on the line and turns
a user error (an `RlvrError`, a missing file, a bad value) into one red line and exit code 2, with
the traceback only under `--debug`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import typer
from rich.console import Console
from typer._click import ClickException  # typer >= 0.29 vendors click
from typer.core import TyperGroup

from rlvr import log
from rlvr.errors import RlvrError

console = Console()
err_console = Console(stderr=True)
USER_ERRORS = (RlvrError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError)


class Settings:
    """What the output options set for this invocation."""

    verbosity = 0
    debug = bool(os.environ.get("RLVR_DEBUG"))


def fail(message: str) -> None:
    """One red line on stderr and exit code 2."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


OUTPUT_FLAGS = {"-v": 1, "--verbose": 1, "-vv": 2, "-vvv": 2, "-q": -1, "--quiet": -1}


def take_output_flags(args: list[str]) -> list[str]:
    """Apply -v/-q/--debug wherever they stand on the command line (`rlvr -v bench run` and
    `rlvr bench run -v` alike) and return the other arguments."""
    rest: list[str] = []
    verbosity: int | None = None
    for index, arg in enumerate(args):
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg in OUTPUT_FLAGS:
            step = OUTPUT_FLAGS[arg]
            verbosity = step if step < 0 or verbosity is None else max(verbosity, 0) + step
        elif arg == "--debug":
            Settings.debug = True
        else:
            rest.append(arg)
    if verbosity is not None:
        Settings.verbosity = max(-1, min(2, verbosity))
        log.configure(Settings.verbosity)
    return rest


class RlvrGroup(TyperGroup):
    """The command tree: output flags anywhere, and one error path for every command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = take_output_flags(list(args))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except USER_ERRORS as error:
            if Settings.debug:
                raise
            fail(_one_line(error))
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]")
            raise typer.Exit(code=130) from None


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, FileNotFoundError) and error.filename:
        text = f"{error.filename}: no such file"
    return " ".join(text.split())


OUTPUT_HELP = "Every command also takes -v / -vv (more output), -q (only warnings and errors) and --debug."


def make_app(help: str) -> typer.Typer:
    return typer.Typer(
        help=f"{help}\n\n{OUTPUT_HELP}", no_args_is_help=True, cls=RlvrGroup, pretty_exceptions_enable=False
    )


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def key_values(pairs: list[str], option: str) -> dict[str, Any]:
    """`["enforce_eager=true", "max_model_len=4096"]` -> typed values; a bad pair names `option`
    as the user typed it."""
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RlvrError(f"{option}: expected KEY=VALUE, got {pair!r}")
        values[key.replace("-", "_")] = parse_value(value)
    return values


def deprecated(old: str, new: str, old_value: Any, new_value: Any) -> Any:
    """The value of an option given under its old spelling (with a warning), else the new one."""
    if old_value is None:
        return new_value
    err_console.print(f"[yellow]warning:[/] {old} is deprecated; use {new}", highlight=False)
    return old_value
