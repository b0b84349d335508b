"""Canned replies for a counsellor: the bot's answers in the child's language, or marked when none is current."""

from __future__ import annotations

from dataclasses import dataclass

from chatbot.content.catalogs import normalize
from chatbot.content.library import ContentLibrary


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


def canned_replies(library: ContentLibrary, child_locale: str) -> list[Canned]:
    """Every answer (kind `answer`) as a canned reply in the child's language, by answer id.

    The rule of docs/translation.md holds here too: a stale or fuzzy translation is never offered; the
    reply falls back as the bot's answers do (DEFAULT_LOCALE, then the Swedish source), and `current` is
    False so the console says so before it is sent. A child with no language set reads the fallback."""
    locale = normalize(child_locale or library.fallback_locale)
    found = []
    for answer_id, answer in sorted(library.answers.items()):
        if answer.kind != "answer":
            continue
        used, bubbles, _labels = answer.localized(locale)
        found.append(Canned(answer_id, " ".join(bubbles), used, locale))
    return found
