"""A cheap guess at the language of one message: which script it is written in, and whether we know its words.

The bot needs two answers, each in microseconds and without a model: is this Arabic (so a crisis answer
can be shown in Arabic whatever the widget is set to), and is this a language the bot does not
understand at all (Polish, Tigrinya, Persian...), so the child is told so instead of "I didn't get that".
The guess is deliberately conservative: a message is called foreign only on clear evidence (another
script, letters Swedish and English do not use, or almost no word the training data knows).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from chatbot.nlu.text import normalise

ARABIC = "ar"
LATIN = "latin"
"""Latin letters in a language the bot knows (Swedish, English, or Arabic written in Latin letters)."""
FOREIGN = "foreign"
"""A language the bot does not understand."""
EMPTY = ""
"""No letters at all (digits, emoji, punctuation): nothing to say about the language."""

# Letters of Arabic-script languages that Arabic does not use: Persian, Urdu, Kurdish, Pashto.
_NOT_ARABIC_LETTERS = frozenset("پژۆێڵڕےٹڈںۍښځڅډړږ")
# Common Persian/Dari words (written with Persian yeh and keh) that Arabic does not have.
_PERSIAN_WORDS = frozenset(
    {"است", "نمی", "میخوام", "میخواهم", "چطور", "کمک", "من", "چی", "هستم", "کنم", "کنید", "شما"}
)
# Letters other Latin-script languages use and Swedish and English do not (Polish, Turkish, Czech,
# Hungarian, Romanian, Spanish, Portuguese, Danish/Norwegian, Icelandic, Vietnamese...).
_FOREIGN_LATIN = frozenset("ąćęłńśźżőűçşğıñãõœøæðþřěůčšžťďňľĺŕăâîșțđơư")
# A message of at least this many words where fewer than this share are known words is foreign.
_MIN_WORDS = 3
_MIN_KNOWN_SHARE = 0.34
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Guess:
    """The script's language family (ARABIC, LATIN, FOREIGN or EMPTY) and why (a code, never the text)."""

    language: str
    reason: str = ""

    @property
    def foreign(self) -> bool:
        return self.language == FOREIGN


class LanguageGuesser:
    """Knows the words of the training data (Swedish, English, Arabic in both scripts)."""

    def __init__(self, known_texts: Iterable[str] = ()) -> None:
        words: set[str] = set()
        for text in known_texts:
            words.update(_WORD.findall(normalise(text)))
        self._known = frozenset(words)

    def guess(self, text: str) -> Guess:
        distinct = set(text)
        others = distinct.difference(_PLAIN_LATIN)
        if len(others) < len(distinct) and not any(map(str.isalpha, others)):
            # Letters, all of them Latin ones Swedish and English may use: what the count below finds
            # (one script, LATIN, no foreign letter) without looking up each character.
            return self._latin(text)
        counts: dict[str, int] = {}
        foreign_letters = 0
        # Each different character once, in the order of first appearance: the scripts are counted in the
        # same order as a walk over the text would (max() below keeps the first of equal counts).
        for ch, n in Counter(text).items():
            if not ch.isalpha():
                continue
            script = _SCRIPTS.get(ch) or _script(ch)
            counts[script] = counts.get(script, 0) + n
            if ch.casefold() in _FOREIGN_LATIN:
                foreign_letters += n
        if not counts:
            return Guess(EMPTY)
        script = max(counts, key=lambda s: counts[s])
        if script == "ARABIC":
            if any(ch in _NOT_ARABIC_LETTERS for ch in text):
                return Guess(FOREIGN, "arabic_script_other_language")
            raw_words = set(text.split())
            if len(raw_words & _PERSIAN_WORDS) >= 2:
                return Guess(FOREIGN, "persian_words")
            return Guess(ARABIC, "arabic_script")
        if script != "LATIN":
            return Guess(FOREIGN, f"script_{script.lower()}")
        if foreign_letters:
            return Guess(FOREIGN, "foreign_letters")
        return self._latin(text)

    def _latin(self, text: str) -> Guess:
        """Latin letters, none foreign: a language we know unless almost no word is known."""
        found = _WORD.findall(normalise(text))
        if self._known and len(found) >= _MIN_WORDS:
            share = sum(map(self._known.__contains__, found)) / len(found)
            if share < _MIN_KNOWN_SHARE:
                return _UNKNOWN_WORDS
        return _LATIN


_LATIN = Guess(LATIN)
_UNKNOWN_WORDS = Guess(FOREIGN, "unknown_words")

# Characters' scripts, worked out once (unicodedata.name is the guess's main cost). Single characters only,
# never text, and at most _MAX_SCRIPTS of them.
_SCRIPTS: dict[str, str] = {}
_MAX_SCRIPTS = 4096


def _script(ch: str) -> str:
    """The first word of the character's Unicode name: LATIN, ARABIC, CYRILLIC, CJK, ETHIOPIC..."""
    try:
        script = unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        script = "OTHER"
    if len(_SCRIPTS) < _MAX_SCRIPTS:
        _SCRIPTS[ch] = script
    return script


# Latin letters (Latin-1 and Latin Extended-A and -B) that are not foreign letters: a text whose letters are
# all among them is Latin script without a foreign letter.
_PLAIN_LATIN = frozenset(
    ch
    for ch in map(chr, range(0x250))
    if ch.isalpha() and _script(ch) == "LATIN" and ch.casefold() not in _FOREIGN_LATIN
)
