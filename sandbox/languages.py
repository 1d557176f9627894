"""How each language is compiled and run inside the sandbox (paths are inside it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageSpec:
    source: str  # file name of the program in the work directory
    run: tuple[str, ...]
    compile: tuple[str, ...] | None = None
    compile_timeout_s: float = 30.0


LANGUAGES: dict[str, LanguageSpec] = {
    # -I: no user site, no PYTHON* variables, no cwd on sys.path
    "python": LanguageSpec("main.py", ("/usr/bin/python3", "-I", "main.py")),
    "bash": LanguageSpec("main.sh", ("/usr/bin/bash", "main.sh")),
    "cpp": LanguageSpec(
        "main.cpp", ("./main",), compile=("/usr/bin/g++", "-O2", "-std=c++17", "-o", "main", "main.cpp")
    ),
}
