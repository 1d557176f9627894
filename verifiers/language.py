"""`get_verifier("language")`: DeepSeek-R1's language-consistency reward.

Score = share of the reasoning's words that are in the target language.
Words are counted by Unicode script (each CJK character is a word); where
several languages share the target's script (English, French and German all
write Latin), each sentence is identified with py3langid, an offline,
maintained fork of langid.py.  LaTeX, code, URLs and numbers are removed
first: `$x^2$` is not English and not Chinese.
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

from pydantic import Field

from rlvr.errors import ConfigError
from rlvr.types import VerifyResult

from .base import Verifier

_SCRIPT_RANGES = {
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "kana": "\u3040-\u30ff\u31f0-\u31ff",
    "hangul": "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f",
    "latin": "A-Za-z\u00c0-\u024f",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff\u0750-\u077f",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
    "thai": "\u0e00-\u0e7f",
}
# scripts where every character is a word; for the others a word is a run of letters
_CHARACTER_SCRIPTS = {"han", "kana", "thai"}
_WORD = re.compile(
    "|".join(
        f"(?P<{name}>[{chars}]{'' if name in _CHARACTER_SCRIPTS else '+'})"
        for name, chars in _SCRIPT_RANGES.items()
    )
)
LANGUAGE_SCRIPTS: dict[str, set[str]] = {
    "zh": {"han"},
    "ja": {"han", "kana"},
    "ko": {"hangul", "han"},
    "ru": {"cyrillic"},
    "uk": {"cyrillic"},
    "bg": {"cyrillic"},
    "sr": {"cyrillic"},
    "el": {"greek"},
    "ar": {"arabic"},
    "fa": {"arabic"},
    "ur": {"arabic"},
    "he": {"hebrew"},
    "hi": {"devanagari"},
    "mr": {"devanagari"},
    "ne": {"devanagari"},
    "th": {"thai"},
}
LATIN_LANGUAGES = [
    "en",
    "fr",
    "de",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "sv",
    "da",
    "no",
    "fi",
    "cs",
    "ro",
    "hu",
    "tr",
    "id",
    "vi",
    "ca",
    "hr",
    "sk",
    "sl",
    "et",
    "lv",
    "lt",
    "ms",
    "tl",
    "sw",
]
for _code in LATIN_LANGUAGES:
    LANGUAGE_SCRIPTS[_code] = {"latin"}
# languages that share a script with others and need identification, not just script
_SHARED = {"latin", "cyrillic", "arabic", "devanagari"}

_REMOVE = re.compile(
    r"```.*?(?:```|$)|`[^`\n]*`|\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)"
    r"|\\begin\{(\w+\*?)\}.*?\\end\{\1\}|\\[a-zA-Z]+|https?://\S+|\d+(?:\.\d+)?",
    re.DOTALL,
)
_SENTENCE = re.compile(r"[^.!?。！？\n]+")
_THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)

_identifier = None
_identifier_lock = threading.Lock()


def _langid():
    """One shared py3langid model, restricted to the languages we name (classify is read-only)."""
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(sorted(set(LANGUAGE_SCRIPTS) & set(ident.nb_classes)))
            _identifier = ident
        return _identifier


def detect_language(text: str) -> str:
    """Language code of `text`, by dominant script, then py3langid."""
    counts: dict[str, int] = {}
    for m in _WORD.finditer(_REMOVE.sub(" ", text[:20000])):
        counts[m.lastgroup] = counts.get(m.lastgroup, 0) + 1  # type: ignore[index]
    if not counts:
        return "en"
    script = max(counts, key=counts.__getitem__)
    if script == "kana" or (script == "han" and counts.get("kana", 0) > 0):
        return "ja"
    if script in ("han",):
        return "zh"
    if script not in _SHARED:
        return next(code for code, scripts in LANGUAGE_SCRIPTS.items() if script in scripts)
    return str(_langid().classify(text[:20000])[0])


class LanguageVerifier(Verifier):
    """Share of the reasoning's words written in the target language, in [0, 1]."""

    name: ClassVar[str] = "language"

    language: str | None = Field(
        None,
        description="Target language code (en, zh, ...); None takes it from the `answer` argument: "
        "a code, or a dict with 'language' or 'prompt' (then detected from the prompt).",
    )
    span: str = Field("think", pattern="^(think|all)$", description="'think': only the <think> part, if any.")
    min_sentence_words: int = Field(3, ge=1, description="Shorter shared-script sentences count as target.")
    max_chars: int = Field(200_000, gt=0, description="Longer completions are cut before counting.")

    def model_post_init(self, __context: Any) -> None:
        if self.language is not None and self.language not in LANGUAGE_SCRIPTS:
            raise ConfigError(
                "language", f"unknown code {self.language!r}; known: {sorted(LANGUAGE_SCRIPTS)}"
            )

    def target(self, answer: Any) -> str:
        if self.language is not None:
            return self.language
        if isinstance(answer, str) and answer in LANGUAGE_SCRIPTS:
            return answer
        if isinstance(answer, dict):
            if answer.get("language") in LANGUAGE_SCRIPTS:
                return answer["language"]
            if answer.get("prompt"):
                return detect_language(str(answer["prompt"]))
        if isinstance(answer, str) and answer.strip():
            return detect_language(answer)
        raise ConfigError("language", "no target language: pass language=... or a prompt/language as answer")

    def check(self, completion: str, answer: Any = None) -> VerifyResult:
        try:
            target = self.target(answer)
        except ConfigError as exc:
            return VerifyResult.failure("no_reference", error=str(exc))
        text = completion[: self.max_chars]
        if self.span == "think":
            m = _THINK.search(text)
            if m:
                text = m.group(1)
        target_words, total = self.count_words(text, target)
        if total == 0:
            return VerifyResult(score=0.0, correct=False, reason="no_words", details={"language": target})
        score = target_words / total
        return VerifyResult(
            score=score,
            correct=score == 1.0,
            reason=None if score == 1.0 else "mixed_language",
            details={"language": target, "target_words": target_words, "words": total},
        )

    def count_words(self, text: str, target: str) -> tuple[int, int]:
        """(words in the target language, all counted words)."""
        scripts = LANGUAGE_SCRIPTS[target]
        shared = scripts & _SHARED
        text = _REMOVE.sub(" ", text)
        hit = total = 0
        for sentence in _SENTENCE.finditer(text):
            words = [(m.lastgroup, m.group()) for m in _WORD.finditer(sentence.group())]
            words = [(s, w) for s, w in words if s in _CHARACTER_SCRIPTS or len(w) > 1]
            if not words:
                continue
            in_script = [w for s, w in words if s in scripts]
            total += len(words)
            if not in_script:
                continue
            if shared and len(in_script) >= self.min_sentence_words:
                if _langid().classify(" ".join(in_script))[0] != target:
                    continue
            hit += len(in_script)
        return hit, total
