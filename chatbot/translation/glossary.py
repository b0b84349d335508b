"""A language's glossary, kept by its translators: how a Swedish term is said, and the names never translated."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The names of the line and the services children are sent to stay as they are in every language
# (docs/languages.md: "keep Swedish service names"); a translated "Stödlinjen" is a service that does
# not exist when the child searches for it.
KEPT_NAMES = ("Stödlinjen", "Stödchatten", "ECPAT", "BRIS", "Självmordslinjen")


@dataclass(frozen=True)
class Term:
    source: str
    """The Swedish term, matched at the start of a word so inflections count ('kurator', 'kuratorn')."""
    target: str
    """How the language says it; equal to `source` for a name that is kept."""
    note: str = ""

    @property
    def kept(self) -> bool:
        return self.source == self.target

    def found_in(self, text: str) -> bool:
        return _starts_word(self.source).search(text) is not None

    def used_in(self, text: str) -> bool:
        if self.kept:
            return self.source in text
        return self.target.casefold() in text.casefold()


@dataclass(frozen=True)
class Glossary:
    locale: str
    terms: tuple[Term, ...] = ()

    @classmethod
    def with_kept_names(cls, locale: str, terms: Iterable[Term] = ()) -> Glossary:
        """The translators' terms plus the kept names (a translator's own entry for a name wins)."""
        own = {t.source: t for t in terms}
        kept = [Term(name, name, "name, never translated") for name in KEPT_NAMES if name not in own]
        return cls(locale, tuple(sorted([*own.values(), *kept], key=lambda t: t.source.casefold())))

    def relevant(self, source: str) -> list[Term]:
        return [t for t in self.terms if t.found_in(source)]


def _starts_word(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(term), re.IGNORECASE)
