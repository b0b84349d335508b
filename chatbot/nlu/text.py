"""Text normalisation shared by the classifier and the crisis check: case, accents, stretched letters, Arabic forms."""

from __future__ import annotations

import operator
import re
import unicodedata

# Children write "hjalp", "dö" or "do", "heeeej", "don't" or "dont": all of them should look the same.
_APOSTROPHES = re.compile(r"['’`´]")
_APOSTROPHE_SET = frozenset("'’`´")
_NON_WORD = re.compile(r"[^\w?!]+")
_STRETCHED = re.compile(r"(\w)\1{2,}")

# Arabic is written with or without short vowels (tashkeel, combining marks that fold() drops), with the
# stretching tatweel ("أريـــد"), and with letters whose spelling varies by writer and keyboard: the
# hamza forms of alef (fold() already makes أ إ آ ا one letter), ta marbuta and ha at the end of a word,
# alef maqsura and ya, Persian keh and yeh, and Arabic-Indic digits ("١١٢" is 112).
_ARABIC_FORMS = str.maketrans(
    {
        "\u0640": None,  # tatweel
        "\u0629": "\u0647",  # ة -> ه
        "\u0649": "\u064a",  # ى -> ي
        "\u06cc": "\u064a",  # ی (Persian yeh) -> ي
        "\u06a9": "\u0643",  # ک (Persian keh) -> ك
        "\u06af": "\u0643",  # گ (gaf, Iraqi/Gulf g) -> ك
        "\u0671": "\u0627",  # ٱ (alef wasla) -> ا
        "\u0621": None,  # ء (a lone hamza: "شيء" and "شي" are one word)
        **{chr(0x0660 + d): str(d) for d in range(10)},  # ٠..٩
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # ۰..۹ (Persian digits)
    }
)


class _Folding(dict[int, int | str | None]):
    """A str.translate table that drops combining marks and applies _ARABIC_FORMS in one pass: each
    character is looked up once and kept (characters only, never text; at most _MAX_FOLDING of them).
    One pass gives what the two steps would, as no Arabic form is a combining mark nor becomes one."""

    def __missing__(self, code: int) -> int | str | None:
        if unicodedata.combining(chr(code)):
            result: int | str | None = None
        else:
            result = _ARABIC_FORMS.get(code, code)
        if len(self) < _MAX_FOLDING:
            self[code] = result
        return result


_MAX_FOLDING = 8192
_FOLDING = _Folding()


def fold(text: str) -> str:
    """Lower case without diacritics: 'Självmord' -> 'sjalvmord', 'Ö' -> 'o', 'أُرِيدُ' -> 'اريد'."""
    return unicodedata.normalize("NFKD", text.casefold()).translate(_FOLDING)


# The last text normalised and its result. A message is normalised by the intent model, the crisis check
# and the language guess one after another; the same text object (never an equal one from another
# message) is worked out once. Safe from any thread: the text and its result are read and replaced
# together, as one tuple.
_last: tuple[str, str] = ("", "")


def normalise(text: str) -> str:
    """Folded, apostrophes dropped, punctuation to spaces (keeping ? and !), letters repeated 3+ times to 2."""
    global _last
    last = _last
    if last[0] is text:
        return last[1]
    folded = fold(text)
    # Each pass is skipped when a cheap test shows it would change nothing (most messages).
    if not _APOSTROPHE_SET.isdisjoint(folded):
        folded = _APOSTROPHES.sub("", folded)
    folded = folded.replace("_", " ")
    if not _only_words_and_single_spaces(folded):
        folded = _NON_WORD.sub(" ", folded)
    if b"\x01\x01" in bytes(map(operator.eq, folded, folded[1:])):  # a character three times in a row
        folded = _STRETCHED.sub(r"\1\1", folded)
    # No _SPACES pass: _NON_WORD has made every run of white space (never a word character) one " ".
    result = folded.strip()
    _last = (text, result)
    return result


def _only_words_and_single_spaces(text: str) -> bool:
    """Whether _NON_WORD.sub(" ", text) is `text` itself: every character a word character (str.isalnum,
    as re's \\w; the text has no "_" left), "?", "!" or a space, and no two spaces together."""
    if "  " in text:
        return False
    rest = text.replace(" ", "").replace("?", "").replace("!", "")
    return not rest or rest.isalnum()
