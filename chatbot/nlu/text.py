"""Text normalisation shared by the classifier and the crisis check: case, accents, stretched letters."""

from __future__ import annotations

import re
import unicodedata

# Children write "hjalp", "dö" or "do", "heeeej", "don't" or "dont": all of them should look the same.
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^\w?!]+")
_STRETCHED = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case without diacritics: 'Självmord' -> 'sjalvmord', 'Ö' -> 'o'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """Folded, apostrophes dropped, punctuation to spaces (keeping ? and !), letters repeated 3+ times to 2."""
    folded = _APOSTROPHES.sub("", fold(text))
    folded = _NON_WORD.sub(" ", folded.replace("_", " "))
    folded = _STRETCHED.sub(r"\1\1", folded)
    return _SPACES.sub(" ", folded).strip()
