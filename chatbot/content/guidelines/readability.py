"""Readability of Swedish and other text (guideline 4): words, sentences and LIX."""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w./@]+(?:[-'’]\w+)*")
# "؟" and "؛" are the Arabic question mark and semicolon.
_SENTENCE_END = re.compile(r"[.!?:;؟؛]+(?=\s|$)|\n+")
_PLACEHOLDER = re.compile(r"\{\w+\}")


def words(text: str) -> list[str]:
    # A placeholder is filled with something short ('3', 'måndag 09:00'); count it as one short word.
    return _WORD.findall(_PLACEHOLDER.sub("X", text))


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(_PLACEHOLDER.sub("X", text)) if words(s)]


def lix(text: str) -> float:
    """LIX (läsbarhetsindex): words per sentence + percentage of words longer than six letters.
    Below 30 very easy, 30–40 easy (children's books), 40–50 medium (newspapers)."""
    found = words(text)
    if not found:
        return 0.0
    long_words = sum(1 for w in found if len(w) > 6)
    return len(found) / max(1, len(sentences(text))) + 100 * long_words / len(found)


def end_bubble(bubble: str) -> str:
    """Bubbles are separate messages: each ends a sentence even without a full stop."""
    return bubble if re.search(r"[.!?:]\s*$", bubble) else bubble + "."
