"""Find the final answer in a model's completion.

Priorities, first hit wins: the last `\\boxed{}` / `\\fbox{}` of the final part
(the text after `</think>`, or inside the last `<answer>` block), unless a
"final answer is" phrase follows it; an explicit final-answer phrase; a bare
answer (a short completion that is itself the answer: `-5`, `$x \\ge 5$`,
`Therefore $x=2$ is the solution.`); optionally the last number.  Trailing
chat-template tokens (`<|im_start|>user ...`) are cut first.  Every step is
linear in the input: `rfind` and anchored regexes with no nested quantifiers,
and the bare-answer rules only look at completions of at most `SHORT_CHARS`.
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
    re.compile(r"final answer\**[ \t]*[:：]\**[ \t]*([^\n]*)", re.IGNORECASE),
    re.compile(r"the answer is[:\s]*([^\n]*)", re.IGNORECASE),
    re.compile(r"(?:最终)?答案(?:是|为)?\s*[:：]?\s*([^\n]*)"),
]
_HOPE_TEXT = "i hope it is correct"


def _strip_minerva_tail(text: str) -> str:
    """`... is $5$. I hope it is correct.` -> `... is $5$`: Minerva's closing formula, found with
    `rfind` (a regex with `\\s*` before an anchor is quadratic on long runs of spaces)."""
    text = text.rstrip()
    k = text.lower().rfind(_HOPE_TEXT)
    if k == -1 or text[k + len(_HOPE_TEXT) :].strip(" .\t\n"):
        return text
    return text[:k].rstrip().removesuffix(".").rstrip()


_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_MAX_PHRASE_CHARS = 2000  # a final answer longer than this is not an answer
_PHRASE_WINDOW = 20000  # final-answer phrases are looked for near the end only
_LAST_NUMBER = re.compile(r"(?<![A-Za-z\d])-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
# a chat template's control tokens: what follows the first one is not the model's answer
_CHAT_TOKEN = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id|end_of_text|start_header_id)\|>|</s>")
SHORT_CHARS = 400  # a completion this short may be a bare answer
_BARE_CHARS = 200  # ... and one this short without prose words is the answer as a whole
# inline math that may be the whole answer: `$..$` and `\(..\)` stay on one line, as math-verify reads them
_SPAN = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$((?:[^$\n\\]|\\.)+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_WHOLE_SPAN = re.compile(r"^(?:\$\$(.+)\$\$|\$([^$]+)\$|\\\((.+)\\\)|\\\[(.+)\\\])\.?$", re.DOTALL)
# words allowed in a bare answer: connectives, percent and unit words are part of an answer like `28 percent`
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_ANSWER_WORDS = frozenset(
    "and or pct percent percentage units unit degrees degree cm meters miles feet inches dollars cents".split()
)
# a sentence start: after punctuation, a math span or a line break; one quantifier, so runs of
# spaces or line breaks cannot make the search quadratic
_CONCLUSION = re.compile(
    r"(?:^|(?<=[.!?$\]\n]))[ \t]*(?:Therefore|Thus|Hence|So|In conclusion)\b,?", re.IGNORECASE
)
_LETTER = re.compile(r"[A-Za-z]")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_FINAL_PHRASE = re.compile(r"final answer is", re.IGNORECASE)  # checked after the last box


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


def cut_chat_tokens(text: str) -> str:
    """`... is 2/3. <|im_start|>user ...` -> `... is 2/3.`: a template token ends the answer."""
    if "<|" not in text and "</s>" not in text:
        return text
    for m in _CHAT_TOKEN.finditer(text):
        if text[: m.start()].strip():
            return text[: m.start()]
    return text


def _commands(text: str) -> tuple[str, ...]:
    """The box commands worth searching for: `\\fbox` is rare, so one scan decides."""
    return _BOX_COMMANDS if "\\fbox" in text else _BOX_COMMANDS[:1]


def _box_start(text: str, end: int, lo: int = 0, cmds: tuple[str, ...] = _BOX_COMMANDS) -> int:
    """Start of the last box command in `text[lo:end]`, or -1."""
    best = -1
    for cmd in cmds:
        pos = text.rfind(cmd, lo, end)
        while pos != -1:
            after = pos + len(cmd)
            # "\boxedx" is another command, "\boxed{" or "\boxed 5" is ours
            if after >= len(text) or not text[after].isalpha():
                break
            pos = text.rfind(cmd, lo, pos)
        best = max(best, pos)
    return best


def _box_at(text: str, start: int) -> tuple[str | None, int]:
    """(content, end position) of the box command at `start`."""
    cmd_len = len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox")
    i = start + cmd_len
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        content = _balanced(text, i)
        return content, (i + len(content) + 2 if content is not None else len(text))
    end = i
    while end < len(text) and text[end] not in "$\n":
        end += 1
    content = text[i:end].strip()
    return content or None, end


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` / `\\fbox{...}` (brace-balanced), or `\\boxed 5`."""
    start = _box_start(text, len(text), cmds=_commands(text))
    return _box_at(text, start)[0] if start != -1 else None


_NEGATION = re.compile(r"\b(?:no|not|nor|but|instead|wrong|incorrect)\b", re.IGNORECASE)
_BOX_GAP = 80  # boxes this close together, with no blank line between them, answer together
_RUN_ITEM_CHARS = 400  # a box inside such a run holds a short answer: the search looks no further back
_MAX_BOXES = 32


def trailing_boxes(text: str) -> list[str]:
    """The run of boxes that ends the text: `\\boxed{1}, \\boxed{2} and \\boxed{3}` -> [1, 2, 3].

    Only boxes separated by short connecting text count, so an intermediate
    result boxed paragraphs earlier is not taken for part of the answer."""
    cmds = _commands(text)
    start = _box_start(text, len(text), cmds=cmds)
    content = _box_at(text, start)[0] if start != -1 else None
    return _run_ending_at(text, start, content, cmds) if content is not None else []


def _run_ending_at(text: str, start: int, content: str, cmds: tuple[str, ...]) -> list[str]:
    """The boxes read together with the box at `start` (itself included), in order.

    Each step searches a bounded window before the current box, so the cost does
    not grow with the length of the reasoning before the answer."""
    boxes = [content.strip()]
    while len(boxes) < _MAX_BOXES:
        prev = _box_start(text, start, max(0, start - _BOX_GAP - _RUN_ITEM_CHARS), cmds)
        if prev == -1:
            break
        prev_content, prev_end = _box_at(text, prev)
        if prev_content is None:
            break
        gap = text[prev_end:start]
        if len(gap) > _BOX_GAP or "\n\n" in gap or prev_end > start or _NEGATION.search(gap):
            break
        boxes.append(prev_content.strip())
        start = prev
    boxes.reverse()
    return boxes


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
    best = _first_sentence(_strip_minerva_tail(best.strip()[:_MAX_PHRASE_CHARS])).strip("* ")  # markdown bold
    boxed = last_boxed(best)
    if boxed is not None:
        return boxed
    return _answer_in_sentence(best)


_QUOTES = re.compile(r'^\\?"|\\?"$')  # "$12$ and $13$" quoted, possibly with escaped quotes
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")


def _first_sentence(text: str) -> str:
    """`$28\\%$. I hope it is correct. Note: ...` -> `$28\\%$`: the answer sentence only
    (a full stop inside a math span does not end it)."""
    k = text.lower().find(_HOPE_TEXT)
    if k != -1:
        text = text[:k].rstrip().removesuffix(".")
    for m in _SENTENCE_END.finditer(text):
        if text.count("$", 0, m.start()) % 2 == 0:
            return text[: m.start()]
    return text


def _answer_in_sentence(sentence: str) -> str | None:
    """The answer a final-answer sentence states: `The largest $n$ is 34.` -> `34`.

    A sentence with a copula answers with what follows its last ` is ` /
    ` are `; one math span or one number in a sentence of words is the answer."""
    sentence = _QUOTES.sub("", sentence.strip()).strip()
    whole = _WHOLE_SPAN.match(sentence)
    if whole:
        return next(g for g in whole.groups() if g is not None).strip() or None
    if _is_prose(sentence):
        for copula in (" is ", " are ", " equals ", " = "):
            k = sentence.rfind(copula)
            if k != -1 and sentence[k + len(copula) :].strip(" .$"):
                sentence = sentence[k + len(copula) :].strip()
                break
    prose = _is_prose(sentence)
    if prose and _NEGATION.search(_INLINE_MATH.sub(" ", sentence)):
        return None  # "The answer is not 5." states no answer
    math = list(_INLINE_MATH.finditer(sentence)) if prose or len(sentence) > _BARE_CHARS else []
    if math:
        spans = [next(g for g in m.groups() if g is not None).strip() for m in math]
        return None if _hedges(spans) else spans[-1]
    if prose:
        numbers = _LAST_NUMBER.findall(sentence)
        return numbers[-1].rstrip(",") if len(numbers) == 1 else None
    return sentence.rstrip(".").strip() or None


def _is_prose(text: str) -> bool:
    """Does the text contain words other than connectives and units (outside math)?"""
    plain = _INLINE_MATH.sub(" ", text) if "$" in text or "\\" in text else text
    return any(w.lower() not in _ANSWER_WORDS for w in _PROSE_WORD.findall(plain))


def bare_answer(text: str) -> str | None:
    """A short completion that is itself the answer: a math span, an expression, or a short
    sentence around one math span (`Therefore $x \\geq 5$ is the solution.`)."""
    text = text.strip()
    if not text or len(text) > SHORT_CHARS:
        return None
    whole = _WHOLE_SPAN.match(text)
    if whole:
        return next(g for g in whole.groups() if g is not None).strip() or None
    if len(text) <= _BARE_CHARS and not _is_prose(text):
        return text.rstrip(".").strip() or None
    spans = [next(g for g in m.groups() if g is not None).strip() for m in _SPAN.finditer(text)]
    if not spans or _hedges(spans) or _NEGATION.search(_SPAN.sub(" ", text)):
        return None  # several candidates, or "x is not $5$"
    return spans[-1] or None


def _hedges(spans: list[str]) -> bool:
    """`I think $1$ or maybe $2$`: two different constants offered in one short answer are a
    hedge between candidates, not an answer (spans with letters, such as `$(x, y)$`, are labels,
    and equations are working)."""
    constants = {
        s.replace(" ", "")
        for s in spans
        if not _LETTER.search(_COMMAND.sub("", s)) and not any(op in s for op in "=<>")  # `2+3=5` is working
    }
    return len(constants) > 1


def _conclusion(text: str) -> str | None:
    """`... Therefore, the probability that Alice wins is 2/3.`: the last sentence, when it
    starts with a concluding word, states the answer."""
    tail = _strip_minerva_tail(text[-_MAX_PHRASE_CHARS:])
    starts = list(_CONCLUSION.finditer(tail))
    if not starts:
        return None
    sentence = tail[starts[-1].end() :]
    first = _first_sentence(sentence)
    if "\n" in first or sentence[len(first) :].strip(" .\n"):
        return None  # more text follows: the concluding sentence is not the last one
    return _answer_in_sentence(first)


def extract_answer(completion: str, *, last_number: bool = False) -> str | None:
    """The answer text found in `completion`, or `None`."""
    return find_answer(completion, last_number=last_number)[0]


def find_answer(completion: str, *, last_number: bool = False) -> tuple[str | None, list[str]]:
    """(the answer, the run of boxes it ends): the run has two or more boxes only when the
    answer is the last of several boxes written together (`\\boxed{1}, \\boxed{2}`)."""
    if not completion:
        return None, []
    text = cut_chat_tokens(final_part(completion))
    cmds = _commands(text)
    start = _box_start(text, len(text), cmds=cmds)
    if start != -1:
        boxed, box_end = _box_at(text, start)
        if boxed is not None:
            # "... \boxed{255} ... The final answer is $10,455$": the later statement wins
            later = _from_phrase(text[box_end:]) if _FINAL_PHRASE.search(text, box_end) else None
            if later is not None:
                return later, []
            return boxed.strip() or None, _run_ending_at(text, start, boxed, cmds)
    found = _from_phrase(text[-_PHRASE_WINDOW:])
    if found is not None:
        return found, []
    if "<answer>" in completion and text is not completion:
        return text.strip() or None, []
    found = bare_answer(text)
    if found is None:
        found = _conclusion(text)
    if found is None and last_number:
        numbers = _LAST_NUMBER.findall(text)
        found = numbers[-1].rstrip(",") if numbers else None
    return found, []


def strip_math_delimiters(answer: str) -> str:
    """`$x$`, `\\(x\\)`, `\\[x\\]`, markdown `**x**` -> `x`; also a trailing full stop."""
    s = answer.strip()
    for left, right in (("**", "**"), ("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
            s = s[len(left) : len(s) - len(right)].strip()
    return s.rstrip(".").strip()
