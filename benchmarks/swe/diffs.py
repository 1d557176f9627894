"""Unified diffs: pulling one out of a model's answer, and listing the files it touches."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"```(?:diff|patch)[^\n]*\n(.*?)```", re.DOTALL)
_ANY_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
_PATCH_TAGS = re.compile(r"<patch>\s*\n?(.*?)</patch>", re.DOTALL)
_HEADER = re.compile(r"^(diff --git |--- \S)", re.MULTILINE)


def extract_diff(text: str) -> str | None:
    """The patch in a completion: `<patch>` tags, a ```diff fence, any fence holding a diff, or a
    bare unified diff after the reasoning.  None when the text holds no diff at all."""
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    for pattern in (_PATCH_TAGS, _FENCE, _ANY_FENCE):
        blocks = [b for b in pattern.findall(text) if _HEADER.search(b)]
        if blocks:
            return _with_newline(blocks[-1])
    match = _HEADER.search(text)
    if match is None:
        return None
    return _with_newline(text[match.start() :])


def _with_newline(patch: str) -> str:
    patch = patch.strip("\n")
    return patch + "\n" if patch else ""


@dataclass
class FileDiff:
    """The change to one file: old / new path (None for /dev/null) and its hunk lines."""

    old_path: str | None
    new_path: str | None
    lines: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def _strip_prefix(path: str) -> str | None:
    path = path.split("\t", 1)[0].strip()
    if path == "/dev/null":
        return None
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    return path[2:] if path[:2] in ("a/", "b/") else path


class DiffParseError(ValueError):
    """Text that claims to be a unified diff but is not one."""


def parse_diff(patch: str) -> list[FileDiff]:
    """Split a unified diff into per-file changes; raises DiffParseError on malformed text."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    lines = patch.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            parts = line[len("diff --git ") :].split(" b/", 1)
            old = _strip_prefix(parts[0])
            new = _strip_prefix("b/" + parts[1]) if len(parts) == 2 else old
            current = FileDiff(old, new)
            files.append(current)
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefix(line[4:]), _strip_prefix(lines[i + 1][4:])
            if current is None or current.lines:
                current = FileDiff(old, new)
                files.append(current)
            else:
                current.old_path, current.new_path = old, new
            i += 1
        elif line.startswith("@@"):
            if current is None or not re.match(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", line):
                raise DiffParseError(f"line {i + 1}: hunk header {line[:60]!r} outside a file or malformed")
            current.lines.append(line)
        elif current is not None and current.lines and line[:1] in (" ", "+", "-", "\\", ""):
            current.lines.append(line)
        elif line.startswith(("rename from ", "rename to ", "new file mode", "deleted file mode")):
            if current is not None and line.startswith("rename to "):
                current.new_path = line[len("rename to ") :]
        i += 1
    if not files:
        raise DiffParseError("no file headers (diff --git / --- +++)")
    return files


def touched_files(patch: str) -> list[str]:
    """Every path a patch names, old and new sides, in order."""
    names: list[str] = []
    for f in parse_diff(patch):
        for p in (f.old_path, f.new_path):
            if p and p not in names:
                names.append(p)
    return names


def files_to_test(test_patch: str) -> list[str]:
    """The test files to run: the files test_patch leaves in place (SWE-bench's choice)."""
    return [f.new_path for f in parse_diff(test_patch) if f.new_path]
