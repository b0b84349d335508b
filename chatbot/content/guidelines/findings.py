"""What a guideline check finds (a warning or a violation, with its reason), and how it quotes the text.

Each finding carries its reason as `Words`: an English template marked with `T_` and its values (a value
may be `Words` itself). `message` is the English text (the CLI's report); the console translates the
templates with its gettext catalogs (`python -m console messages` extracts every `T_` text), so an editor
reads the findings in the console's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from chatbot.content.catalogs import SOURCE_LOCALE


def T_(text: str) -> str:
    """Marks a finding's text for the console's catalogs (it stays English here)."""
    return text


class Level(StrEnum):
    WARNING = "warning"
    VIOLATION = "violation"


@dataclass(frozen=True)
class Words:
    """A text for an editor: an English template with %(name)s placeholders, and its values."""

    template: str
    values: tuple[tuple[str, str | Words], ...] = ()

    def english(self) -> str:
        if not self.values:
            return self.template
        return self.template % {k: v.english() if isinstance(v, Words) else v for k, v in self.values}


def words(template: str, **values: str | Words | int) -> Words:
    return Words(
        template, tuple((k, v if isinstance(v, Words) else str(v)) for k, v in sorted(values.items()))
    )


@dataclass(frozen=True)
class Finding:
    level: Level
    rule: str
    message: str
    locale: str = SOURCE_LOCALE
    words: Words | None = field(default=None, compare=False)
    """The message as a template and values, for a translation (None: `message` as it is)."""


def finding(level: Level, rule: str, said: Words, locale: str = SOURCE_LOCALE) -> Finding:
    return Finding(level, rule, said.english(), locale, said)


def quote(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def braced(names: Iterable[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))
