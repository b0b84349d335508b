"""Canned replies for a counsellor: the `canned` answers editors write, in the child's language, by what they say."""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.content.catalogs import normalize
from chatbot.content.library import ContentLibrary

LABEL_CHARS = 70
"""How much of a reply its option shows: enough to tell replies apart on a phone-width select."""


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """`text` cut at a word before `limit` characters, with an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


@dataclass(frozen=True)
class Canned:
    """One canned reply: the answer's bubbles as one text, in `locale`."""

    answer_id: str
    text: str
    locale: str
    """The language `text` is in: the child's, or the fallback when no current translation exists."""
    child_locale: str

    @property
    def current(self) -> bool:
        """Whether the text is in the child's language (a current translation, or the child's is the source)."""
        return self.locale.split("_")[0] == self.child_locale.split("_")[0]

    @property
    def label(self) -> str:
        """What the counsellor picks it by: what it says, shortened (never its id)."""
        return shorten(self.text)


def canned_replies(library: ContentLibrary, child_locale: str) -> list[Canned]:
    """Every canned reply (kind `canned`) in the child's language, ordered by what it says.

    Pass the LiveLibrary, so a published edit reaches the counsellors without a restart. The rule of
    docs/translation.md holds here too: a stale or fuzzy translation is never offered; the reply falls
    back as the bot's answers do (DEFAULT_LOCALE, then the Swedish source), and `current` is False so the
    console says so before it is sent. A child with no language set reads the fallback."""
    locale = normalize(child_locale or library.fallback_locale)
    found = []
    for answer_id, answer in library.answers.items():
        if answer.kind != "canned":
            continue
        used, bubbles, _labels = answer.localized(locale)
        found.append(Canned(answer_id, " ".join(bubbles), used, locale))
    return sorted(found, key=lambda c: (not c.current, c.text.casefold()))
