"""Find the final answer in a model's completion.

Priorities, first hit wins: the last `\\boxed{}` / `\\fbox{}` of the final part
(the text after `</think>`, or inside the last `<answer>` block); an explicit
final-answer phrase; optionally the last number.  Every step is linear in the
input: `rfind` and anchored regexes with no nested quantifiers.
"""

from __future__ import annotations

import re

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_THINK_END = "</think>"
_ANSWER_TAG = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)

# Phrases that introduce a final answer, latest match wins.  Each stops at a line end.
_PHRASES = [
    re.compile(r"final answer is[:\s]*([^\n]*)", re.IGNORECASE),
    re.compile(r"(?:^|\n)[ \t]*\**(?:final[ \t]+)?answer\**[ \t]*[:：]\**[ \t]*([^\n]*)", re.IGNORECASE),
    re.compile(r"the answer is[:\s]*([^\n]*)", re.IGNORECASE),
    re.compile(r"(?:最终)?答案(?:是|为)?\s*[:：]?\s*([^\n]*)"),
]
_MINERVA_TAIL = re.compile(r"\.?\s*I hope it is correct\.?\s*$", re.IGNORECASE)
_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_MAX_PHRASE_CHARS = 2000  # a final answer longer than this is not an answer
_PHRASE_WINDOW = 20000  # final-answer phrases are looked for near the end only
_LAST_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")


def final_part(text: str) -> str:
    """The part of the completion after the reasoning, when there is one."""
    end = text.rfind(_THINK_END)
    if end != -1:
        tail = text[end + len(_THINK_END) :]
        if tail.strip():
            text = tail
    matches = list(_ANSWER_TAG.finditer(text)) if "<answer>" in text else []
    if matches and matches[-1].group(1).strip():
        return matches[-1].group(1)
    return text


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` / `\\fbox{...}` (brace-balanced), or `\\boxed 5`."""
    best = -1
    for cmd in _BOX_COMMANDS:
        pos = text.rfind(cmd)
        while pos != -1:
            after = pos + len(cmd)
            # "\boxedx" is another command, "\boxed{" or "\boxed 5" is ours
            if after >= len(text) or not text[after].isalpha():
                break
            pos = text.rfind(cmd, 0, pos)
        best = max(best, pos)
    if best == -1:
        return None
    cmd_len = len("\\boxed") if text.startswith("\\boxed", best) else len("\\fbox")
    i = best + cmd_len
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        return _balanced(text, i)
    end = i
    while end < len(text) and text[end] not in "$\n":
        end += 1
    content = text[i:end].strip()
    return content or None


def _balanced(text: str, open_pos: int) -> str | None:
    depth = 0
    i = open_pos
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[open_pos + 1 : i]
        i += 1
    return None  # unbalanced: the answer was cut off


def _from_phrase(text: str) -> str | None:
    best_pos, best = -1, None
    for pattern in _PHRASES:
        for m in pattern.finditer(text):
            if m.start(1) > best_pos and m.group(1).strip():
                best_pos, best = m.start(1), m.group(1)
    if best is None:
        return None
    best = _MINERVA_TAIL.sub("", best.strip()[:_MAX_PHRASE_CHARS]).strip("* ")  # markdown bold
    boxed = last_boxed(best)
    if boxed is not None:
        return boxed
    math = _INLINE_MATH.search(best)
    if math:
        return next(g for g in math.groups() if g is not None).strip()
    return best.strip().rstrip(".").strip() or None


def extract_answer(completion: str, *, last_number: bool = False) -> str | None:
    """The answer text found in `completion`, or `None`."""
    if not completion:
        return None
    text = final_part(completion)
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip() or None
    found = _from_phrase(text[-_PHRASE_WINDOW:])
    if found is not None:
        return found
    if "<answer>" in completion and text is not completion:
        return text.strip() or None
    if last_number:
        numbers = _LAST_NUMBER.findall(text)
        if numbers:
            return numbers[-1].rstrip(",")
    return None


def strip_math_delimiters(answer: str) -> str:
    """`$x$`, `\\(x\\)`, `\\[x\\]`, markdown `**x**` -> `x`; also a trailing full stop."""
    s = answer.strip()
    for left, right in (("**", "**"), ("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
            s = s[len(left) : len(s) - len(right)].strip()
    return s.rstrip(".").strip()
