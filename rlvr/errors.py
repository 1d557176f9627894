"""Errors users can act on: each message names the field, file or option at fault."""


class RlvrError(Exception):
    """Base class for every error rlvr raises on purpose."""


class ConfigError(RlvrError, ValueError):
    """An option, field or spec has a bad value."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class UnknownNameError(ConfigError, KeyError):
    """A registry lookup for a name nobody registered."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(kind, f"unknown name {name!r}; known: {', '.join(sorted(known)) or 'none'}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class InputFileError(RlvrError):
    """A data file is missing, unreadable or lacks a column."""


class EngineError(RlvrError):
    """A generation engine could not start or failed while generating."""

    def __init__(self, engine: str, problem: str) -> None:
        super().__init__(f"{engine} engine: {problem}")


def first_line(error: BaseException) -> str:
    """A one-line summary of a third-party exception, for a message that names what failed."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}".rstrip(": ")
